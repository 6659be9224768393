"""The login rate limit counts per visitor across every web worker: the real
app in production mode under gunicorn with two workers, its limiter store a
real Redis server (tests/redis_fixtures.py), reached through one trusted
proxy hop (played by the test, which sends X-Forwarded-For).

gunicorn's sync workers serve one connection at a time, so each pair of
attempts is spread over both workers for sure: the first attempt's headers
are sent but not finished, which holds the worker that took it; the second
attempt can only be served by the other worker; then the first is finished.
The access log names the process that served each attempt."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from tests.redis_fixtures import redis_server, redis_url  # noqa: F401
from tests.servers import free_port, wait_for_healthz

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LIMIT = 5
# X-Forwarded-For values a visitor could send: the proxy appends the address
# it sees, and nothing they send may break a page.
HOSTILE_FORWARDS = [
    "garbage, <script>, 999.999.999.999",
    ", , ,",
    ", ".join(["198.51.100.9"] * 500),  # many hops, about 7 kB
    "x" * 7000,
]
# Settings a developer's shell may hold that would change what is tested.
LEFT_IN_SHELL = {"WEB_WORKERS", "RATELIMIT_STORAGE_URI", "DATABASE_URL", "MAIL_SERVER"}
VISITOR, NEIGHBOUR = "203.0.113.7", "198.51.100.2"  # two people behind one proxy


class Served:
    """gunicorn on a loopback port and its access log (pid, status, attempt)."""

    def __init__(self, port: int, access_log: Path):
        self.port, self.access_log = port, access_log

    def pids(self, *attempts: str) -> dict[str, str]:
        """Attempt name -> the worker process that served it. gunicorn logs a
        request after its response is sent: wait for the line a moment."""
        for _ in range(50):
            pids = self._logged()
            if all(attempt in pids for attempt in attempts):
                return pids
            time.sleep(0.1)
        return pids

    def _logged(self) -> dict[str, str]:
        lines = self.access_log.read_text().splitlines()
        return {
            attempt: pid
            for pid, _status, attempt in (line.split() for line in lines)
            if attempt != "-"
        }


@contextmanager
def gunicorn(tmp_path: Path, database_url: str, **settings):
    """The app as an operator runs it: MARKET_ENV=production, a long key,
    an https address, one trusted proxy, two workers."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        f'LOGIN_RATE_LIMIT = "{LIMIT} per hour"\n'
        'PASSWORD_HASH_METHOD = "scrypt:1024:8:1"\n'  # the suite's cheaper cost
    )
    port = free_port()
    env = {
        **{name: value for name, value in os.environ.items() if name not in LEFT_IN_SHELL},
        "MARKET_ENV": "production",
        "MARKET_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "shared-limiter-test-key-of-forty-chars!!",
        "PUBLIC_BASE_URL": "https://market.example.kr",
        "TRUSTED_PROXY_HOPS": "1",
        **settings,
    }
    access_log = tmp_path / "access.log"
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--preload",  # both workers ready when /healthz first answers
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %(s)s %({x-attempt}i)s",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_healthz(port, process, tmp_path / "gunicorn.log")
        yield Served(port, access_log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            process.wait(timeout=20)
        log.close()


def exchange(sock: socket.socket) -> tuple[int, dict[str, str], str]:
    """Reads a whole response (the request asked to close the connection)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return int(lines[0].split()[1]), headers, body.decode("utf-8", "replace")


def request_head(port: int, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")  # without the closing blank line


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


class Visitor:
    """One person behind the proxy: their address in X-Forwarded-For, their
    session cookie and the login form's CSRF token (production checks it)."""

    def __init__(self, port: int, address: str):
        self.port, self.address = port, address
        with connect(port) as sock:
            sock.sendall(request_head(port, "GET", "/account/login", self._forwarded()) + b"\r\n")
            status, headers, body = exchange(sock)
        assert status == 200, body
        self.hsts = headers.get("strict-transport-security")
        self.cookie = headers["set-cookie"].split(";")[0]
        self.token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)

    def _forwarded(self) -> dict[str, str]:
        return {"X-Forwarded-For": self.address}

    def login_parts(self, attempt: str) -> tuple[bytes, bytes]:
        """A wrong login's head and the rest (blank line and form)."""
        form = urlencode(
            {"csrf_token": self.token, "email": "nobody@example.kr", "password": "wrong-password"}
        ).encode()
        head = request_head(
            self.port,
            "POST",
            "/account/login",
            {
                **self._forwarded(),
                "Cookie": self.cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Length": str(len(form)),
                "X-Attempt": attempt,
            },
        )
        return head, b"\r\n" + form

    def log_in(self, attempt: str) -> int:
        with connect(self.port) as sock:
            sock.sendall(b"".join(self.login_parts(attempt)))
            return exchange(sock)[0]

    def log_in_twice_on_both_workers(self, first: str, second: str) -> list[int]:
        """Two attempts, each on its own connection and its own worker:
        returns their statuses in the order the app counted them (`second`
        is served while `first` still holds the other worker)."""
        held_head, held_rest = self.login_parts(first)
        with connect(self.port) as held:
            held.sendall(held_head)
            time.sleep(0.3)  # a worker has accepted it and waits for the rest
            served_meanwhile = self.log_in(second)
            held.sendall(held_rest)
            return [served_meanwhile, exchange(held)[0]]


def wrong_logins_over_both_workers(visitor: Visitor, count: int) -> list[int]:
    statuses = []
    for pair in range(0, count, 2):
        statuses += visitor.log_in_twice_on_both_workers(f"a{pair + 1}", f"a{pair}")
    return statuses


def assert_both_workers_served(served: Served, count: int) -> None:
    names = [f"a{n}" for n in range(count)]
    pids = served.pids(*names)
    attempts = [pids.get(name) for name in names]
    assert len(set(attempts)) == 2, attempts
    for n in range(0, count, 2):
        assert attempts[n] != attempts[n + 1], f"attempts a{n} and a{n + 1} on one worker"


def test_the_login_limit_is_shared_by_two_workers_through_redis(
    app,
    database_url,
    redis_url,  # noqa: F811
    tmp_path,
):
    """`app` only empties the tables afterwards (the workers write to them)."""
    with gunicorn(tmp_path, database_url, RATELIMIT_STORAGE_URI=redis_url) as served:
        visitor = Visitor(served.port, VISITOR)
        assert visitor.hsts == "max-age=31536000; includeSubDomains"
        statuses = wrong_logins_over_both_workers(visitor, LIMIT + 1)
        assert statuses == [200] * LIMIT + [429]
        assert_both_workers_served(served, LIMIT + 1)
        assert visitor.log_in("again") == 429
        # Behind the same proxy, another person is another client.
        assert Visitor(served.port, NEIGHBOUR).log_in("neighbour") == 200
        # The proxy's address is not what counts: it is never limited itself.
        assert Visitor(served.port, "192.0.2.1").log_in("third") == 200
        for forwarded in HOSTILE_FORWARDS:  # never a server error
            assert Visitor(served.port, forwarded).log_in("hostile") == 200, forwarded[:40]
        # Past gunicorn's header size limit: refused by gunicorn itself.
        with connect(served.port) as sock:
            head = request_head(served.port, "GET", "/", {"X-Forwarded-For": "y" * 20_000})
            sock.sendall(head + b"\r\n")
            assert 400 <= exchange(sock)[0] < 500


def test_a_store_of_each_worker_alone_lets_more_tries_through(app, database_url, tmp_path):
    """What production refuses unless WEB_WORKERS=1 is declared, shown by
    declaring it falsely: each worker counts on its own."""
    with gunicorn(
        tmp_path, database_url, RATELIMIT_STORAGE_URI="memory://", WEB_WORKERS="1"
    ) as served:
        statuses = wrong_logins_over_both_workers(Visitor(served.port, VISITOR), LIMIT + 1)
        assert_both_workers_served(served, LIMIT + 1)
        assert statuses.count(200) > LIMIT, statuses
