"""What the tests that start real servers (gunicorn, Redis, Dovecot, SMTP)
share: a free loopback port, waiting for gunicorn to answer, and stopping a
process that may not want to stop."""

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """A loopback port nothing listens on now (the server binds it next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_healthz(port: int, process: subprocess.Popen, log: Path, seconds: float = 15) -> None:
    """Returns once the app under gunicorn answers /healthz on `port`; fails
    the test with gunicorn's log when it exits or does not answer in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    stop(process)
    pytest.fail("gunicorn did not start: " + (log.read_text() if log.exists() else "(no log)"))


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
