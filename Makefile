# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app market
# `make run HOST=0.0.0.0 PORT=8000 PUBLIC_BASE_URL=http://192.168.0.10:8000`
HOST ?= 127.0.0.1
PORT ?= 5000
# Links in mail made by the worker and seed-demo point at this server. `=`,
# not `:=`: expanded when used, after HOST and PORT have their values (`:=`
# above them once gave http://: and a dead link in every mail). Not `?=`: a
# production PUBLIC_BASE_URL left in the shell must not reach demo mail.
PUBLIC_BASE_URL = http://$(HOST):$(PORT)
RUN_ENV = PUBLIC_BASE_URL=$(PUBLIC_BASE_URL)

.PHONY: run test lint fmt install install-dev translations messages clean bench

# Re-install only when the dependencies change; the stamp files remember.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e ".[prod]"
	touch $@

$(VENV)/.installed-dev: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev,prod]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: $(BIN)/python
	@$(BIN)/pybabel compile --use-fuzzy --statistics -d market/translations 2>&1 | tail -n 2

# Extract every translatable string and merge it into the Korean catalogue;
# then fill in the new msgstr entries (tests/test_packaging.py checks none is left).
messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
	  -o market/translations/messages.pot .
	$(BIN)/pybabel update -i market/translations/messages.pot -d market/translations \
	  --ignore-obsolete --no-fuzzy-matching --width 100
	rm market/translations/messages.pot

run: install
	$(FLASK) db upgrade
	$(RUN_ENV) $(FLASK) seed-demo --if-empty
	@echo "Mail is not sent in development: it is written to instance/mail/ as .eml files."
	@echo "Links in that mail start with $(PUBLIC_BASE_URL) (make run HOST=... PORT=... PUBLIC_BASE_URL=...)."
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C stops the server and the background worker:"
	@echo "mail, order imports, and the mailbox where IMAP_HOST is set)"
	@$(RUN_ENV) $(FLASK) worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT; \
	  $(RUN_ENV) $(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev
	@bash scripts/test.sh

# Benchmarks, never part of `make test`: seeds large databases once
# (cached in $(BENCH_CACHE)), then measures; about 22 minutes at scale 1.0
# (each page's profile adds ~1.5 minutes per database, more for a page that
# takes seconds).
# `make bench BENCH_SCALE=0.1` is a quick run. Results: benchmarks/results.md.
BENCH_SCALE ?= 1.0
BENCH_SEED ?= 1
BENCH_CACHE ?= /tmp/market-bench
bench: install-dev
	@BENCH_SCALE=$(BENCH_SCALE) BENCH_SEED=$(BENCH_SEED) BENCH_CACHE=$(BENCH_CACHE) \
	  bash benchmarks/run.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
