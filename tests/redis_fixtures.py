"""A real Redis server for the tests that need one (the login rate limit
shared by every web worker), started like the test PostgreSQL: Debian's
redis-server on a free loopback port, in a temporary folder, nothing saved,
stopped at the end of the run.

Use it by importing the fixtures into a test module:

    from tests.redis_fixtures import redis_server, redis_url  # noqa: F401

Without redis-server the tests that use it are skipped, saying why; with
CI=true they fail instead (CI must not go green having tested less)."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests import servers
from tests.servers import free_port

IN_CI = os.environ.get("CI", "").strip().lower() == "true"


def find_redis() -> str | None:
    """Where scripts/tools.sh looks (find_redis), then PATH."""
    if os.access("/usr/bin/redis-server", os.X_OK):
        return "/usr/bin/redis-server"
    return shutil.which("redis-server")


def redis_version() -> str | None:
    """ "Redis 7.0.15" for the run's summary, None without redis-server."""
    binary = find_redis()
    if binary is None:
        return None
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    # "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=…"
    version = next((word[2:] for word in out.split() if word.startswith("v=")), out.strip())
    return f"Redis {version}"


class RedisServer:
    def __init__(self, binary: str, folder: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = folder / "redis.log"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--logfile",
                str(self.log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_ready()

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)

    def _wait_until_ready(self) -> None:
        import redis

        for _ in range(100):
            if self.process.poll() is not None:
                break
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        log = self.log.read_text() if self.log.exists() else "(no log)"
        pytest.fail(f"redis-server did not start on port {self.port}:\n{log}")

    def stop(self) -> None:
        servers.stop(self.process)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the whole run."""
    binary = find_redis()
    if binary is None:
        reason = "redis-server is not installed (Debian package redis-server)"
        if IN_CI:
            pytest.fail(f"CI=true, but {reason}", pytrace=False)
        pytest.skip(f"{reason}: the shared rate limit tests were skipped")
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The server's URL, emptied for this test: no count left by another."""
    client = redis_server.client()
    client.flushall()
    yield redis_server.url
    client.flushall()
    client.close()
