"""`flask --app market user set-password | disable | enable EMAIL` (issue 15).

Ending the sessions these commands end is tests/test_sessions.py."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from market.accounts.models import Role, User
from market.audit.models import AuditEntry
from market.extensions import db
from tests.helpers import PASSWORD, login

FLASK = Path(sys.executable).parent / "flask"
ROOT = Path(__file__).resolve().parent.parent


def _fresh(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_set_password_from_stdin(runner, staff, client):
    result = runner.invoke(
        args=["user", "set-password", "  STAFF@Example.kr ", "--password-stdin"],
        input="a-new-password-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "New password set for staff@example.kr" in result.output
    assert _fresh(staff).check_password("a-new-password-1")
    assert _actions() == ["user.password_set"]
    assert login(client, staff, password="a-new-password-1").status_code == 302


def test_set_password_prompts_hidden_twice(runner, staff):
    result = runner.invoke(
        args=["user", "set-password", staff.email], input="pass-word-22\npass-word-22\n"
    )
    assert result.exit_code == 0, result.output
    assert "New password" in result.output and "pass-word-22" not in result.output
    assert _fresh(staff).check_password("pass-word-22")


def test_set_password_asks_again_when_the_two_differ(runner, staff):
    result = runner.invoke(
        args=["user", "set-password", staff.email],
        input="pass-word-22\nother-word-33\npass-word-33\npass-word-33\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert _fresh(staff).check_password("pass-word-33")


@pytest.mark.parametrize(
    ("password", "says"),
    [("short", "at least 8 characters"), ("x" * 5000, "at most")],
)
def test_set_password_keeps_the_page_rules(runner, staff, password, says):
    result = runner.invoke(
        args=["user", "set-password", staff.email, "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code == 1
    assert says in result.output
    user = _fresh(staff)
    assert user.check_password(PASSWORD)
    assert user.session_token == staff.session_token  # sessions untouched
    assert _actions() == []


@pytest.mark.parametrize(
    "args",
    [
        ["user", "set-password", "nobody@example.kr", "--password-stdin"],
        ["user", "disable", "nobody@example.kr"],
        ["user", "enable", "nobody@example.kr"],
    ],
)
def test_an_unknown_email_is_an_error(runner, staff, args):
    result = runner.invoke(args=args, input="long-enough-1\n")
    assert result.exit_code != 0
    assert "No user has the email nobody@example.kr." in result.output
    assert _actions() == []


def test_disable_and_enable(runner, make_user, client):
    user = make_user(Role.VENDOR, email="kim@example.kr")
    result = runner.invoke(args=["user", "disable", "kim@example.kr"])
    assert result.exit_code == 0, result.output
    assert "Disabled kim@example.kr: they can no longer log in" in result.output
    assert not _fresh(user).active
    assert login(client, user).status_code == 200  # refused

    again = runner.invoke(args=["user", "disable", "kim@example.kr"])
    assert again.exit_code == 0 and "already disabled" in again.output

    result = runner.invoke(args=["user", "enable", "kim@example.kr"])
    assert result.exit_code == 0, result.output
    assert "Enabled kim@example.kr" in result.output
    assert _fresh(user).active
    assert login(client, user).status_code == 302

    again = runner.invoke(args=["user", "enable", "kim@example.kr"])
    assert again.exit_code == 0 and "already enabled" in again.output
    assert _actions() == ["user.disable", "user.enable"]
    entry = db.session.scalars(select(AuditEntry).filter_by(action="user.disable")).one()
    assert entry.actor_id is None and entry.object_id == str(user.id)
    assert entry.before == {"active": True} and entry.after == {"active": False}


def test_the_commands_are_listed_in_the_help(runner):
    result = runner.invoke(args=["user", "--help"])
    assert result.exit_code == 0
    for command in ("set-password", "disable", "enable"):
        assert command in result.output


def test_set_password_in_a_real_process(app, staff, database_url, instance_path, tmp_path):
    """As an operator runs it: `flask --app market user set-password EMAIL
    --password-stdin` with the password piped in, nothing echoed."""
    db.session.commit()  # the other process needs the database free (SQLite)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MARKET_INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "test-secret",
    }
    env.pop("MARKET_ENV", None)
    done = subprocess.run(
        [str(FLASK), "--app", "market", "user", "set-password", staff.email, "--password-stdin"],
        input="piped-password-7\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "New password set for staff@example.kr" in done.stdout
    assert "piped-password-7" not in done.stdout + done.stderr
    assert _fresh(staff).check_password("piped-password-7")

    unknown = subprocess.run(
        [str(FLASK), "--app", "market", "user", "disable", "nobody@example.kr"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert unknown.returncode == 1
    assert "Error: No user has the email nobody@example.kr." in unknown.stderr
