"""End-to-end journeys in Debian's Chromium through Playwright.

The real app runs under gunicorn on a loopback port against a fresh SQLite
database, with mail going to a real SMTP server (aiosmtpd) on loopback. The
browser is /usr/bin/chromium (never a downloaded one); without it, or
without Playwright, these tests are skipped and `make test` says so.
Screenshots go into screenshots/<run>/, named at the end of the run."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STAFF_EMAIL, PASSWORD = "staff@journey.kr", "journey-pass-1"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - dev extras always install it
    sync_playwright = None

if sync_playwright is None or not Path(CHROMIUM).exists():
    pytest.skip(f"browser journeys need Playwright and {CHROMIUM}", allow_module_level=True)


def pytest_collection_modifyitems(items):
    """Marks every journey `browser` (a pytestmark here would not reach the
    test modules), so the PostgreSQL pass can leave them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every received message, parsed."""

    def __init__(self):
        self.messages = []

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
def server(tmp_path_factory, inbox):
    """The app under gunicorn, its environment and a `flask` runner for set-up."""
    instance = tmp_path_factory.mktemp("journey-instance")
    port = free_port()
    # The journeys run at any hour: widen the advertising window for them.
    (instance / "config.py").write_text(
        'SEND_WINDOW = "00:00-23:59:59"\nRATELIMIT_ENABLED = False\n'
        f'PUBLIC_BASE_URL = "http://127.0.0.1:{port}"\n'
    )
    env = {
        **os.environ,
        "MARKET_INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'journeys.sqlite'}",
        "SECRET_KEY": "journey-secret",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(inbox[1]),
    }
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
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("gunicorn did not start: " + (instance / "gunicorn.log").read_text())
    yield type(
        "Server",
        (),
        {
            "url": base,
            "flask": staticmethod(flask),
            "python": staticmethod(python),
            "instance": instance,
            "env": env,
        },
    )
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
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


def pytest_sessionfinish(session):
    folder = os.environ.get("MARKET_SCREENSHOTS")
    if folder and Path(folder).exists() and not any(Path(folder).iterdir()):
        shutil.rmtree(folder)


def pytest_terminal_summary(terminalreporter):
    folder = os.environ.get("MARKET_SCREENSHOTS")
    if folder and Path(folder).exists():
        terminalreporter.write_line(f"Browser journey screenshots: {folder}")
