"""End-to-end journeys in Debian's Chromium through Playwright.

The real app runs under gunicorn on a loopback port against a fresh SQLite
database, with mail going to a real SMTP server (aiosmtpd) on loopback. As in
production, the browser reaches it over HTTPS through a TLS reverse proxy
(Debian's nginx, see proxy.py) and the app trusts that one proxy hop.
The browser is /usr/bin/chromium (never a downloaded one). Without it, or
without Playwright, these tests are skipped; without nginx the app is served
on plain http and the HTTPS journeys are skipped; `make test` says so. With
CI=true anything missing fails the run instead: CI must not go green having
tested less. Screenshots go into screenshots/<run>/, named at the end of the run."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from market.timeutil import SEOUL
from tests.browser.proxy import Certificate, Nginx, find_nginx, nginx_version
from tests.servers import free_port, stop

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STAFF_EMAIL, PASSWORD = "staff@journey.kr", "journey-pass-1"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - dev extras always install it
    sync_playwright = None

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
NGINX = find_nginx()
SERVED = []  # how the journeys reached the app, for the run's summary


def missing(what: str) -> None:
    """Outside CI a missing tool skips what needs it; in CI it fails the run."""
    if IN_CI:
        pytest.fail(f"CI=true, but {what}", pytrace=False)
    pytest.skip(what, allow_module_level=True)


if sync_playwright is None or not Path(CHROMIUM).exists():
    missing(f"browser journeys need Playwright and {CHROMIUM}")
if NGINX is None and IN_CI:
    missing("nginx (the TLS proxy of the HTTPS journeys) is not installed")


def pytest_collection_modifyitems(items):
    """Marks every journey `browser` (a pytestmark here would not reach the
    test modules), so the PostgreSQL pass can leave them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


class Inbox:
    """An aiosmtpd handler keeping every received message, parsed."""

    def __init__(self):
        self.messages = []

    def wait_for(self, matches, count: int = 1, timeout: float = 60.0) -> list:
        """The received messages `matches` accepts, once there are `count`: the
        app's own `flask worker` delivers them in the background, as in
        production, so a journey waits for its mail instead of sending it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [message for message in list(self.messages) if matches(message)]
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"{count} such mails did not arrive within {timeout:g} s")

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="session")
def inbox():
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture(scope="session")
def shots_dir():
    folder = ROOT / "screenshots" / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["MARKET_SCREENSHOTS"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """The proxy's certificate, made for this run; None without nginx."""
    return Certificate(tmp_path_factory.mktemp("tls")) if NGINX else None


@pytest.fixture(scope="session")
def server(tmp_path_factory, inbox, certificate):
    """The app under gunicorn behind nginx (when installed), its environment
    and `flask`/`python` runners for set-up."""
    instance = tmp_path_factory.mktemp("journey-instance")
    port = free_port()
    proxy = None
    if certificate is not None:
        proxy = Nginx(
            NGINX, tmp_path_factory.mktemp("nginx"), free_port(), f"127.0.0.1:{port}", certificate
        )
    base = proxy.url if proxy else f"http://127.0.0.1:{port}"
    # The journeys run at any hour: the app's clock (CLOCK) stands at 10:00 in
    # Korea today, inside the advertising hours the app refuses to widen.
    (instance / "config.py").write_text(
        f'CLOCK = "{datetime.now(UTC).astimezone(SEOUL):%Y-%m-%d}T10:00:00+09:00"\n'
        f'RATELIMIT_ENABLED = False\nPUBLIC_BASE_URL = "{base}"\n'
    )
    env = {
        **os.environ,
        "MARKET_INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'journeys.sqlite'}",
        "SECRET_KEY": "journey-secret",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(inbox[1]),
    }
    if proxy:
        # As in production: one trusted proxy hop, cookies sent over https
        # only (not MARKET_ENV=production itself: it refuses the test CLOCK).
        env["TRUSTED_PROXY_HOPS"] = "1"
        with (instance / "config.py").open("a") as config:
            config.write("SESSION_COOKIE_SECURE = True\nREMEMBER_COOKIE_SECURE = True\n")
    env.pop("TEST_DATABASE_URL", None)

    def run(argv: list[str], stdin: str | None, timeout: int) -> str:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def flask(*args, stdin: str | None = None) -> str:
        return run([str(BIN / "flask"), "--app", "market", *args], stdin, 300)

    def python(code: str) -> str:
        """Runs `code` inside an app context of the served database."""
        script = "from market import create_app\napp = create_app()\nwith app.app_context():\n"
        script += "".join(f"    {line}\n" for line in code.strip().splitlines())
        return run([sys.executable, "-c", script], None, 120)

    flask("db", "upgrade")
    flask(
        "create-user",
        STAFF_EMAIL,
        "--name",
        "김운영",
        "--role",
        "staff",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    log = (instance / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "2",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The background worker, as production runs it beside the web server:
    # it delivers the mail, runs the order imports the pages queue.
    worker_log = (instance / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(BIN / "flask"), "--app", "market", "worker"],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        worker.kill()
        pytest.fail("gunicorn did not start: " + (instance / "gunicorn.log").read_text())
    if proxy:
        try:
            proxy.start()
        except RuntimeError as error:
            process.terminate()
            worker.terminate()
            pytest.fail(str(error))
        SERVED.append(f"https through {nginx_version(NGINX)} (TLS proxy) to gunicorn")
    else:
        SERVED.append("plain http to gunicorn; HTTPS journeys SKIPPED: nginx is not installed")
    yield type(
        "Server",
        (),
        {
            "url": base,
            "https": proxy is not None,
            "ssl_context": certificate.client_context() if certificate else None,
            "flask": staticmethod(flask),
            "python": staticmethod(python),
            "instance": instance,
            "env": env,
        },
    )
    if proxy:
        proxy.stop()
    stop(process)
    stop(worker, timeout=30)  # it finishes the pass in hand
    log.close()
    worker_log.close()


@pytest.fixture
def over_https(server):
    """For the journeys that must run as customers meet the app: over HTTPS
    through the proxy."""
    if not server.https:
        missing("nginx is not installed: the HTTPS journeys were skipped")
    return server


@pytest.fixture(scope="session")
def browser(certificate):
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    if certificate is not None:
        # Trust the proxy's key and nothing else (narrower than ignoring
        # every certificate error in the browser context).
        args.append(f"--ignore-certificate-errors-spki-list={certificate.spki_hash}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield browser
        browser.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ko-KR", timezone_id="Asia/Seoul"
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        is_mobile=True,
        has_touch=True,
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def shoot(shots_dir, request):
    """shoot(page, "step-name"): a full-page screenshot named after the test."""
    counter = {"n": 0}

    def take(page, name: str) -> Path:
        counter["n"] += 1
        path = shots_dir / f"{request.node.name}-{counter['n']:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page, base: str, email: str = STAFF_EMAIL, password: str = PASSWORD) -> None:
    page.goto(base + "/account/login")
    if page.locator("#email").count() == 0:
        return  # already logged in (the login page sends you home)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form button[type=submit].primary")
    page.wait_for_load_state()
    # Refused (a wrong password, or a CSRF 400 over HTTPS) stays on /account/login.
    assert "/account/login" not in page.url, page.locator("main").inner_text()


def pytest_sessionfinish(session):
    folder = os.environ.get("MARKET_SCREENSHOTS")
    if folder and Path(folder).exists() and not any(Path(folder).iterdir()):
        shutil.rmtree(folder)


def pytest_terminal_summary(terminalreporter):
    if SERVED:  # not when the journeys were deselected (the PostgreSQL pass)
        terminalreporter.write_line(f"Browser journeys: {SERVED[0]}")
    folder = os.environ.get("MARKET_SCREENSHOTS")
    if folder and Path(folder).exists():
        terminalreporter.write_line(f"Browser journey screenshots: {folder}")
