"""CI never goes green having quietly tested less.

`.ci/run` installs from Debian what the full run needs (PostgreSQL,
Chromium, its Korean fonts, nginx, Redis, Dovecot) and `scripts/test.sh` refuses, with
CI=true, to run without one; the last line of `make test` says what ran and
what was skipped. These tests run the real scripts on a machine made to lack
things: TEST_TOOLS_ROOT puts an empty (or hand-filled) folder before the
fixed paths the scripts look in, and PATH holds only the commands they use,
with stand-ins for the three that would change the machine (apt-get, make)
or that decide the branch (id)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the scripts call, linked from this machine into the test's PATH.
COMMANDS = (
    "bash",
    "ls",
    "sort",
    "tail",
    "tr",
    "grep",
    "dirname",
    "cat",
    "chmod",
    "rm",
    "awk",
    "sed",
)
SCRIPTS = (".ci/run", "scripts/test.sh", "scripts/tools.sh")


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_valid_bash(script):
    done = subprocess.run(["bash", "-n", ROOT / script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def machine(tmp_path: Path, *, installed: bool = False, uid: int = 0) -> dict[str, str]:
    """The environment of a machine with nothing of ours installed (or all
    of it, as empty stand-ins), where apt-get and make only note their call."""
    root, path, log = tmp_path / "root", tmp_path / "bin", tmp_path / "calls.log"
    (root / "usr/sbin").mkdir(parents=True)
    path.mkdir()
    for name in COMMANDS:
        (path / name).symlink_to(shutil.which(name))
    stand_ins = {
        "id": f"echo {uid}",
        # Notes whether the services of new packages were kept from starting.
        "apt-get": f'echo "apt-get $* policy=$(cat {root}/usr/sbin/policy-rc.d 2>/dev/null'
        ' | tail -n 1)" >>' + f" {log}",
        "make": f'echo "make $* CI=$CI" >> {log}',
    }
    for name, body in stand_ins.items():
        (path / name).write_text(f"#!{shutil.which('bash')}\n{body}\n")
        (path / name).chmod(0o755)
    if installed:
        for binary in (
            "usr/lib/postgresql/9/bin/initdb",
            "usr/lib/postgresql/16/bin/initdb",
            "usr/lib/postgresql/16/bin/pg_ctl",
            "usr/bin/chromium",
            "usr/sbin/nginx",
            "usr/bin/redis-server",
            "usr/sbin/dovecot",
            "usr/lib/dovecot/imap",
            "usr/lib/dovecot/lmtp",
            "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        ):
            (root / binary).parent.mkdir(parents=True, exist_ok=True)
            (root / binary).write_text("")
            (root / binary).chmod(0o755)
    return {"PATH": str(path), "TEST_TOOLS_ROOT": str(root), "HOME": str(tmp_path)}


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def tools(env: dict[str, str], function: str) -> str:
    done = subprocess.run(
        ["bash", "-c", f". scripts/tools.sh && {function}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_tools_name_the_debian_packages_of_what_is_missing(tmp_path):
    env = machine(tmp_path)
    assert tools(env, "missing_packages").split() == [
        "postgresql",
        "chromium",
        "fonts-noto-cjk",
        "nginx",
        "redis-server",
        "dovecot-imapd",
        "dovecot-lmtpd",
    ]


def test_tools_find_the_newest_postgresql_and_the_rest(tmp_path):
    env = machine(tmp_path, installed=True)
    root = env["TEST_TOOLS_ROOT"]
    assert tools(env, "missing_packages") == ""
    assert tools(env, "find_pg_bin") == f"{root}/usr/lib/postgresql/16/bin"
    assert tools(env, "find_chromium") == f"{root}/usr/bin/chromium"
    assert tools(env, "find_nginx") == f"{root}/usr/sbin/nginx"
    assert tools(env, "find_redis") == f"{root}/usr/bin/redis-server"
    assert tools(env, "find_dovecot") == f"{root}/usr/sbin/dovecot"


def test_dovecot_without_its_imap_or_lmtp_server_is_missing(tmp_path):
    """dovecot-core alone brings /usr/sbin/dovecot but serves no IMAP."""
    env = machine(tmp_path)
    root = Path(env["TEST_TOOLS_ROOT"])
    (root / "usr/sbin/dovecot").write_text("")
    (root / "usr/sbin/dovecot").chmod(0o755)
    assert tools(env, "find_dovecot") == ""
    assert "dovecot-imapd dovecot-lmtpd" in tools(env, "missing_packages")


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_in_ci_the_test_run_refuses_to_start_without_its_servers(tmp_path, ci):
    env = {**machine(tmp_path), "CI": ci}
    done = subprocess.run(
        ["bash", "scripts/test.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert (
        "CI=true, but not installed: postgresql chromium nginx redis-server dovecot-imapd "
        "dovecot-lmtpd." in done.stderr
    )
    assert (
        "apt-get install postgresql chromium nginx redis-server dovecot-imapd dovecot-lmtpd"
        in done.stderr
    )
    assert "== ruff check" not in done.stdout  # refused before anything ran


def test_ci_installs_what_is_missing_without_starting_its_services(tmp_path):
    env = machine(tmp_path)
    done = subprocess.run(
        ["bash", ".ci/run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == [
        "apt-get update -qq policy=exit 101",
        (
            "apt-get install -y -qq postgresql chromium fonts-noto-cjk nginx redis-server "
            "dovecot-imapd dovecot-lmtpd policy=exit 101"
        ),
        "make test CI=true",
    ]
    assert not (Path(env["TEST_TOOLS_ROOT"]) / "usr/sbin/policy-rc.d").exists()


def test_ci_with_everything_installed_goes_straight_to_make_test(tmp_path):
    env = {**machine(tmp_path, installed=True), "CI": "false"}
    done = subprocess.run(
        ["bash", ".ci/run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["make test CI=true"]


def test_ci_that_cannot_install_fails_instead_of_testing_less(tmp_path):
    env = machine(tmp_path, uid=1000)
    done = subprocess.run(
        ["bash", ".ci/run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert (
        "CI needs postgresql chromium fonts-noto-cjk nginx redis-server dovecot-imapd "
        "dovecot-lmtpd" in done.stderr
    )
    assert calls(tmp_path) == []


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_outbox" name="test_claim" />
<testcase classname="tests.test_outbox" name="test_pg"><skipped message="needs PostgreSQL" />
</testcase>
{browser}
</testsuite></testsuites>"""
PASSED = '<testcase classname="tests.browser.test_journey_market" name="test_{n}" />'
NO_NGINX = (
    '<testcase classname="tests.browser.test_journey_customers" name="test_https_{n}">'
    '<skipped message="nginx is not installed: the HTTPS journeys were skipped" /></testcase>'
)
NO_CHROMIUM = (
    '<testcase classname="" name="tests.browser"><skipped message="collection skipped">'
    "('/w/tests/browser/conftest.py', 34, 'Skipped: browser journeys need Playwright and "
    "/usr/bin/chromium')</skipped></testcase>"
)


def summary(tmp_path: Path, browser: str, *args: str) -> subprocess.CompletedProcess:
    junit = tmp_path / "sqlite.xml"
    junit.write_text(JUNIT.format(browser=browser))
    return subprocess.run(
        [sys.executable, ROOT / "scripts/summary.py", "--junit", junit, *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_last_line_names_the_journeys_browser_and_proxy(tmp_path):
    browser = "".join(PASSED.format(n=n) for n in range(3))
    done = summary(
        tmp_path,
        browser,
        *("--ran", "SQLite", "--ran", "PostgreSQL 15.18", "--ran", "Redis 7.0.15"),
        *("--ran", "Dovecot 2.3.19.1", "--browser", "Chromium 156.0"),
        *("--proxy", "nginx/1.22.1", "--ci"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "Ran: SQLite, PostgreSQL 15.18, Redis 7.0.15, Dovecot 2.3.19.1, "
        "3 browser journeys in Chromium 156.0 "
        "over HTTPS through nginx/1.22.1. Skipped: nothing."
    )


def test_last_line_says_what_was_skipped_and_ci_fails_on_it(tmp_path):
    browser = PASSED.format(n=1) + NO_NGINX.format(n=1) + NO_NGINX.format(n=2)
    args = ("--ran", "SQLite", "--skipped", "PostgreSQL (no server binaries)")
    args += ("--browser", "Chromium 156.0")
    done = summary(tmp_path, browser, *args)
    assert done.returncode == 0
    assert done.stdout.strip() == (
        "Ran: SQLite, 1 browser journey in Chromium 156.0 over plain http. "
        "Skipped: PostgreSQL (no server binaries); 2 browser journeys "
        "(nginx is not installed: the HTTPS journeys were skipped)."
    )
    assert summary(tmp_path, browser, *args, "--ci").returncode == 1


def test_without_chromium_every_journey_is_named_as_skipped(tmp_path):
    done = summary(tmp_path, NO_CHROMIUM, "--ran", "SQLite")
    assert done.stdout.strip() == (
        "Ran: SQLite. Skipped: the browser journeys "
        "(browser journeys need Playwright and /usr/bin/chromium)."
    )
    assert summary(tmp_path, NO_CHROMIUM, "--ran", "SQLite", "--ci").returncode == 1
    # In CI a run with no journey at all is no better than one that skipped them.
    assert summary(tmp_path, "", "--ran", "SQLite", "--ci").returncode == 1


def test_the_ci_flag_is_set_by_ci_true_only():
    """`.ci/run` exports CI=true; anything else runs as a developer's machine."""
    for value, expected in (("true", 0), ("True", 0), ("1", 1), ("", 1)):
        done = subprocess.run(
            ["bash", "-c", ". scripts/tools.sh && in_ci"],
            cwd=ROOT,
            env={**os.environ, "CI": value},
            timeout=30,
        )
        assert done.returncode == expected, value
