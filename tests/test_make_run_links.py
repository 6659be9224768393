"""Links in the mail `make run` writes lead to its pages.

The test reads the commands `make -n run` would run (so it checks the
Makefile itself, not a copy of its settings), runs them in a temporary
instance folder (migrate, seed-demo, one pass of the mail worker) and follows
every link of every message: the text and HTML parts, the calendar invite and
the List-Unsubscribe header. A `make run` once gave every link the address
`http://:`, because a variable was expanded before HOST and PORT had values."""

import html
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlsplit

import icalendar
import pytest

from market import create_app
from market.config import ConfigError
from market.extensions import db
from market.outbox.models import OutboxMessage, OutboxStatus

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
# Demo mail links here on purpose (the venue on a map): not the app's pages.
ELSEWHERE = {"map.naver.com"}
# Settings make or the app would take from this test's environment; without
# them the commands run as on a fresh shell, against the temporary folder.
SCRUBBED = (
    "HOST",
    "PORT",
    "PUBLIC_BASE_URL",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "DATABASE_URL",
    "TEST_DATABASE_URL",
    "MAIL_SERVER",
    "MARKET_ENV",
    "SECRET_KEY",
    "MARKET_INSTANCE_PATH",
)
URL = re.compile(r"https?://[^\s\"'<>]+")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class FlaskCommand:
    env: dict[str, str]  # the NAME=value words make puts before it
    args: list[str]  # after `flask --app market`


def clean_environ() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in SCRUBBED}


def make_run_commands(*make_args: str, environ: dict | None = None) -> dict[str, FlaskCommand]:
    """The `flask` commands of `make -n run ARGS`, by their first word
    (`seed-demo`, `worker`, `run`, `db`)."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *make_args],
        cwd=ROOT,
        env=clean_environ() if environ is None else environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    script = []
    for line in done.stdout.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        script += [*lexer, ";"]
    commands: dict[str, FlaskCommand] = {}
    words: list[str] = []
    for word in script:
        if word not in {";", "&", "&&", "||", "|"}:
            words.append(word)
            continue
        env = {}
        while words and ASSIGNMENT.match(words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        if words and words[0].endswith("flask") and words[1:3] == ["--app", "market"]:
            commands[words[3]] = FlaskCommand(env, words[3:])
        words = []
    return commands


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def flask(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(FLASK), "--app", "market", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def links(message: EmailMessage) -> list[str]:
    """Every http(s) link a reader or a mail client can follow."""
    found = re.findall(r"<([^>]+)>", message.get("List-Unsubscribe", ""))
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("text/calendar", "application/ics"):
            for event in icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT"):
                found += [str(event.get("URL", ""))]
                found += URL.findall(str(event.get("DESCRIPTION", "")))
        elif part.get_content_maintype() == "text":
            found += URL.findall(html.unescape(part.get_content()))
    return [link for link in found if link.startswith(("http:", "https:"))]


def test_every_link_in_make_run_mail_leads_to_a_page(tmp_path, monkeypatch):
    commands = make_run_commands()
    seed, worker, server = commands["seed-demo"], commands["worker"], commands["run"]
    assert worker.args == ["worker"], "make run starts the one background worker"
    # One setting for the three processes, pointing at the server `make run` starts.
    assert seed.env == worker.env == server.env
    base = seed.env["PUBLIC_BASE_URL"]
    assert base == f"http://{option(server.args, '--host')}:{option(server.args, '--port')}"

    env = {**clean_environ(), "MARKET_INSTANCE_PATH": str(tmp_path), **seed.env}
    flask(["db", "upgrade"], env)
    flask(seed.args, env)
    flask(["outbox", "deliver", "--once"], {**env, **worker.env})
    written = sorted((tmp_path / "mail").glob("*.eml"))

    for name in SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    app = create_app()
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage)).all()
        # Invitations wait for the advertising hours (08:00-21:00 in Korea);
        # their queued bytes are exactly what the worker will write later.
        held = [row.mime for row in rows if row.status == OutboxStatus.QUEUED]
        assert len(written) == sum(row.status == OutboxStatus.SENT for row in rows)
        assert len(written) + len(held) == len(rows) > 0
        db.session.remove()
        db.engine.dispose()

    parse = BytesParser(policy=policy.default).parsebytes
    messages = [parse(path.read_bytes()) for path in written] + [parse(mime) for mime in held]
    client = app.test_client()
    followed: dict[str, int] = {}
    for message in messages:
        for link in links(message):
            parts = urlsplit(link)
            if parts.hostname in ELSEWHERE:
                continue
            assert link.startswith(base + "/"), f"{link} in {message['Subject']}"
            response = client.get(link[len(base) :], follow_redirects=True)
            assert response.status_code == 200, f"{link}: {response.status_code}"
            page = parts.path.split("/")[1]
            followed[page] = followed.get(page, 0) + 1
    with app.app_context():
        db.engine.dispose()

    # RSVP, unsubscribe, the market page and the vendor home were all followed.
    assert {"i", "u", "markets", "vendor"} <= set(followed), followed
    assert all(message["List-Unsubscribe"] for message in messages if "광고" in message["Subject"])


@pytest.mark.parametrize(
    ("make_args", "base"),
    [
        ((), "http://127.0.0.1:5000"),
        (("PORT=8123",), "http://127.0.0.1:8123"),
        (("HOST=127.0.0.2", "PORT=8123"), "http://127.0.0.2:8123"),
        (("HOST=0.0.0.0", "PUBLIC_BASE_URL=http://192.168.0.10:5000"), "http://192.168.0.10:5000"),
    ],
)
def test_make_run_host_and_port_move_the_mail_links(make_args, base):
    commands = make_run_commands(*make_args)
    assert {name: commands[name].env for name in ("seed-demo", "worker", "run")} == {
        name: {"PUBLIC_BASE_URL": base} for name in ("seed-demo", "worker", "run")
    }


def test_a_production_address_left_in_the_shell_stays_out_of_demo_mail():
    environ = {**clean_environ(), "PUBLIC_BASE_URL": "https://market.example.kr"}
    commands = make_run_commands(environ=environ)
    assert commands["seed-demo"].env == {"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}


@pytest.mark.parametrize(
    "url",
    [
        "http://:",
        "http://:5000",
        "127.0.0.1:5000",
        "market.example.kr",
        "ftp://market.example.kr",
        "http://127.0.0.1:abc",
        "https://market.example.kr/?from=mail",
        "https://market example.kr",
        "http://0.0.0.0:5000",
        "http://[::]:5000",
    ],
)
def test_the_app_refuses_a_public_address_people_cannot_open(url, tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PUBLIC_BASE_URL", url)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(
    "url", ["https://market.example.kr", "http://127.0.0.1:5000", "https://gbsec.kr/market/"]
)
def test_public_addresses_with_scheme_and_host_are_taken(url, tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PUBLIC_BASE_URL", url)
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["PUBLIC_BASE_URL"] == url


def test_the_mail_worker_stops_at_start_with_an_empty_host(tmp_path):
    env = {**clean_environ(), "MARKET_INSTANCE_PATH": str(tmp_path), "PUBLIC_BASE_URL": "http://:"}
    done = subprocess.run(
        [str(FLASK), "--app", "market", "outbox", "deliver", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PUBLIC_BASE_URL='http://:' is not an address people can open" in done.stderr
