"""The key pages under load: the real app under gunicorn on loopback, wrk at
concurrency 8, each page next to /healthz of the same server in the same
run; and the SQL statements one request runs, counted in-process on the
full data set and on a small twin (a count that grows with the data shows
as a difference)."""

import http.cookiejar
import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.common import BIN, ROOT, Context, Database, free_port, make_app, say

CONCURRENCY = 8
WORKERS = 4  # gunicorn's rule of thumb for 2 cores: 2 x cores
LUA = Path(__file__).with_name("wrk_report.lua")


@dataclass
class Page:
    key: str
    title: str
    path: str | None  # None: not available yet
    login: str | None = None  # "staff" or "vendor"
    expect: int = 200
    headers: dict = field(default_factory=dict)
    note: str = ""
    target: int | None = None  # its median within this many × /healthz; None: report.PAGE_FACTOR
    # Config for the app serving it (a server of its own): e.g. the sales
    # report with nothing kept, {"SALES_REPORT_CACHE": False}.
    config: dict = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """The config as gunicorn's environment (market.config.load_environment)."""
        return {
            name: str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in self.config.items()
        }


FRESH = {"SALES_REPORT_CACHE": False}  # every report built afresh, nothing kept


def _logins():
    from benchmarks.dataset.seed import BENCH_PASSWORD, BENCH_USERS

    return {role.value: (email, BENCH_PASSWORD) for email, _name, role in BENCH_USERS}


def page_list(app, anchor) -> list[Page]:
    """The pages the benchmark measures, with ids looked up in this database."""
    from datetime import date, timedelta

    from flask import url_for
    from sqlalchemy import select

    from benchmarks.dataset.invitations import next_market_id, pending_token
    from market.extensions import db
    from market.markets.models import Market
    from market.sales.periods import year_earlier

    with app.app_context():
        next_market = next_market_id(anchor)
        dates = db.session.scalars(select(Market.market_date).order_by(Market.market_date)).all()
        # the RSVP page of the seeded campaign (benchmarks.dataset.invitations):
        # an invitation that arrived and is not answered yet, as most are
        token = pending_token(anchor)
    with app.test_request_context():
        booth = url_for("booths.index", market_id=next_market)
        # the season report over every market day there is: all ten years
        report = url_for(
            "takings_staff.report", start=dates[0].isoformat(), end=dates[-1].isoformat()
        )
        # and over this year up to the anchor: the season staff open it on
        season = url_for(
            "takings_staff.report",
            start=date(anchor.year, 1, 1).isoformat(),
            end=anchor.isoformat(),
        )
        rsvp = url_for("invitations.rsvp", token=token) if token else None
        # 판로지원 실적: takings and matched orders per enterprise, over the
        # year up to the anchor and over every market day there is; kept
        # (the warm-up builds it, as a second look by staff finds it) and
        # built afresh for every request (the first look, or after a change)
        year_ago = year_earlier(anchor) + timedelta(days=1)
        sales_year = url_for("sales.report", start=year_ago.isoformat(), end=anchor.isoformat())
        sales_all = url_for("sales.report", start=dates[0].isoformat(), end=dates[-1].isoformat())
        # The targets are issue 20's: public pages within 3x /healthz (the
        # feed 2x), staff pages 8x, the ten-year report 20x.
        return [
            Page("healthz", "/healthz (the ceiling)", url_for("core.healthz")),
            Page("schedule", "public schedule /", url_for("public.schedule"), target=3),
            Page(
                "market",
                "public market page",
                url_for("public.market", market_id=next_market),
                target=3,
            ),
            Page("feed", "/calendar.ics", url_for("public.calendar_feed"), target=2),
            Page(
                "feed304",
                "/calendar.ics, If-None-Match (304)",
                url_for("public.calendar_feed"),
                expect=304,
                note="etag",
                target=2,
            ),
            Page("rsvp", "RSVP page /i/<token> (not answered yet)", rsvp, target=3),
            Page("dashboard", "staff dashboard /staff/", url_for("home.staff"), "staff", target=8),
            Page("booths", "market booth screen", booth, "staff", target=8),
            Page(
                "ranking",
                "customer ranking of a market",
                url_for("invitations.index", market_id=next_market),
                "staff",
                target=8,
            ),
            Page("vendor", "vendor home /vendor/", url_for("home.vendor"), "vendor", target=8),
            Page("season", "season report (this year)", season, "staff", target=8),
            Page("report", "season report (ten years)", report, "staff", target=20),
            Page("sales-year", "sales report (one year)", sales_year, "staff", target=8),
            Page("sales-all", "sales report (ten years)", sales_all, "staff", target=8),
            Page(
                "sales-year-fresh",
                "sales report (one year), nothing kept",
                sales_year,
                "staff",
                target=8,
                config=FRESH,
            ),
            Page(
                "sales-all-fresh",
                "sales report (ten years), nothing kept",
                sales_all,
                "staff",
                target=8,
                config=FRESH,
            ),
        ]


# -- SQL statements per request, in-process ------------------------------------


def _client_login(client, email: str, password: str) -> None:
    page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/account/login", data={"csrf_token": token, "email": email, "password": password}
    )
    if response.status_code != 302:
        raise RuntimeError(f"in-process login as {email} failed ({response.status_code})")
    client.get("/home", follow_redirects=True)  # the welcome shown, as a browser does


def query_counts(db: Database, ctx: Context) -> dict[str, int | None]:
    """Statements run by the second request to each page (the first may
    warm caches), counted with a before_cursor_execute listener; pages with
    a config of their own on an app with that config."""
    pages = page_list(make_app(db, ctx.instance), db.anchor)
    counts: dict[str, int | None] = {}
    for config in _configs(pages):
        keys = {page.key for page in pages if page.config == config}
        counts.update(_query_counts(db, ctx, config, keys))
        # The same pages built (a staff page right after a change: not kept).
        built = _query_counts(db, ctx, {**config, "STAFF_PAGE_CACHE": False}, keys)
        counts.update({f"{key}:built": count for key, count in built.items()})
    return counts


def _configs(pages: list[Page]) -> list[dict]:
    configs: list[dict] = []
    for page in pages:
        if page.config not in configs:
            configs.append(page.config)
    return configs


def _query_counts(db: Database, ctx: Context, config: dict, keys: set[str]) -> dict:
    from sqlalchemy import event

    from market.extensions import db as sqla

    app = make_app(db, ctx.instance, config)
    with app.app_context():
        engine = sqla.engine
    clients = {None: app.test_client()}
    for role, (email, password) in _logins().items():
        if role in ("staff", "vendor"):
            clients[role] = app.test_client()
            _client_login(clients[role], email, password)
    counts: dict[str, int | None] = {}
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for page in page_list(app, db.anchor):
            if page.key not in keys:
                continue
            if page.path is None:
                counts[page.key] = None
                continue
            client = clients[page.login]
            headers = dict(page.headers)
            if page.note == "etag":
                headers["If-None-Match"] = client.get(page.path).headers["ETag"]
            client.get(page.path, headers=headers)
            statements.clear()
            response = client.get(page.path, headers=headers)
            if response.status_code != page.expect:
                raise RuntimeError(f"{page.path}: {response.status_code}, not {page.expect}")
            counts[page.key] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        with app.app_context():
            sqla.engine.dispose()
    return counts


# -- load with wrk against gunicorn --------------------------------------------


class Server:
    """gunicorn serving wsgi:app on a loopback port, stopped on exit."""

    def __init__(self, db: Database, ctx: Context, env: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = ctx.cache / f"gunicorn-{db.kind}.log"
        self.command = [
            str(BIN / "gunicorn"),
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--error-logfile",
            str(self.log),
            "wsgi:app",
        ]
        self.env = {**db.env(ctx.instance), **(env or {})}
        self.process = None

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=10) as answer:
                    if answer.status == 200:
                        time.sleep(2)  # the other workers finish booting too
                        return self
            except OSError:  # refused, or accepted while no worker is up yet
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not answer within 90 s; see {self.log}")

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_login(base: str, email: str, password: str) -> str:
    """Logs in through the real login form (CSRF token and all); returns
    the Cookie header value for wrk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    page = opener.open(f"{base}/account/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password})
    try:
        opener.open(f"{base}/account/login", data=form.encode(), timeout=10)
        raise RuntimeError(f"login as {email} did not redirect: wrong password?")
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise
    # The landing page shows the login's welcome, as a browser would; wrk
    # replays one cookie, so a welcome left in it would be shown (and the
    # page built, never kept) on every measured request.
    follow = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    follow.open(f"{base}/home", timeout=60).read()
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def _check(base: str, page: Page, headers: dict) -> None:
    request = urllib.request.Request(base + page.path, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        status = opener.open(request, timeout=60).status
    except urllib.error.HTTPError as answer:
        status = answer.code
    if status != page.expect:
        raise RuntimeError(f"{page.path} answered {status}, not {page.expect}: not measuring it")


def wrk(url: str, headers: dict, seconds: int, expect: int) -> dict:
    command = ["wrk", "-t", "2", "-c", str(CONCURRENCY), "-d", f"{seconds}s", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += ["-s", str(LUA), url, "--", str(expect)]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    seconds_run = result["duration_us"] / 1e6
    return {
        "requests": result["requests"],
        "rps": result["requests"] / seconds_run,
        "p50_ms": result["p50_us"] / 1000,
        "p95_ms": result["p95_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "socket_errors": result["socket_errors"],
        "unexpected_status": result["unexpected_status"],
    }


def measure_pages(db: Database, tiny: Database, ctx: Context, seconds: int) -> list[dict]:
    say("counting SQL statements per request (in-process, full data and small twin)")
    full_counts = query_counts(db, ctx)
    tiny_counts = query_counts(tiny, ctx)
    app = make_app(db, ctx.instance)
    pages = page_list(app, db.anchor)
    rows = {}
    for config in _configs(pages):
        group = [page for page in pages if page.config == config]
        for row in _measure(db, ctx, seconds, group, full_counts, tiny_counts):
            rows[row["key"]] = row
    return [rows[page.key] for page in pages]  # in the table's order


def _measure(db, ctx, seconds, pages, full_counts, tiny_counts) -> list[dict]:
    """The pages that share a config, on one gunicorn server started with
    it, one server after another; every ratio is against the /healthz row
    (benchmarks.report), measured on the first server with the same wrk load."""
    rows = []
    with Server(db, ctx, pages[0].env) as server:
        say(
            f"gunicorn with {WORKERS} workers on {server.base}"
            f"{' with ' + str(pages[0].config) if pages[0].config else ''}; "
            "logging in through the form"
        )
        cookies = {
            role: http_login(server.base, email, password)
            for role, (email, password) in _logins().items()
            if role in ("staff", "vendor")
        }
        for page in pages:
            row = {**asdict(page), "queries": full_counts[page.key]}
            row["queries_small"] = tiny_counts[page.key]
            row["queries_built"] = full_counts.get(f"{page.key}:built")
            row["queries_built_small"] = tiny_counts.get(f"{page.key}:built")
            if page.path is None:
                say(f"{page.title}: not available yet")
                rows.append(row)
                continue
            headers = dict(page.headers)
            if page.login:
                headers["Cookie"] = cookies[page.login]
            if page.note == "etag":
                with urllib.request.urlopen(server.base + page.path, timeout=60) as answer:
                    headers["If-None-Match"] = answer.headers["ETag"]
            _check(server.base, page, headers)
            wrk(server.base + page.path, headers, 2, page.expect)  # warm-up, not counted
            row.update(wrk(server.base + page.path, headers, seconds, page.expect))
            say(
                f"{page.title}: median {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, "
                f"{row['rps']:.0f} req/s, {row['queries']} queries"
            )
            rows.append(row)
    return rows
