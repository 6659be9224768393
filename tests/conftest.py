"""Fixtures shared by every test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL
is set (scripts/test.sh starts a throwaway cluster for that). The schema is
made once per run by the real Alembic migrations; each test then starts from
empty tables."""

import contextvars
import os
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event

from market import create_app
from market.accounts.models import Role, User
from market.extensions import db
from market.timeutil import SEOUL, set_clock, today_seoul, utcnow
from tests.helpers import PASSWORD, login

pytest_plugins = ["tests.write_guard"]  # every committed write moves its data versions


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    )


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def _schema(database_url, instance_path):
    app = create_app(_test_config(database_url, instance_path))
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(revision="heads")  # several while parallel work adds migrations
        db.engine.dispose()


def _test_config(database_url: str, instance_path: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": None,
        "MAIL_DIR": os.path.join(instance_path, "mail"),
        "SERVER_NAME": "market.test",
        # Still scrypt, at a cost that keeps hundreds of logins quick.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }


@pytest.fixture
def app_config(database_url, instance_path):
    """Tests override single settings by changing this dict before `app` is made."""
    return _test_config(database_url, instance_path)


class RequestIsolatedClient(FlaskClient):
    """Each request gets its own app context, `g` and database session, as in
    production, although the test itself holds an app context for db access
    (otherwise Flask reuses the test's context and `g` leaks between requests).
    Flask keeps its contexts in context variables: in a fresh, empty
    `contextvars.Context` there is no app context, so Flask pushes one of its
    own for each request (a redirect followed is a request of its own too)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(_schema, app_config, instance_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", instance_path)
    app = create_app(app_config)
    app.test_client_class = RequestIsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                connection.execute(table.delete())


class Clock:
    """The app's clock, stopped at one moment until the test moves it."""

    def set(self, when: datetime) -> datetime:
        """`when` is timezone-aware: datetime(2026, 11, 26, 23, 59, tzinfo=SEOUL)
        is 14:59 UTC the same day, 00:01 KST the next day is 15:01 UTC."""
        set_clock(when)
        return when

    def seoul(self, year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
        """Sets the clock to a wall-clock time in Korea."""
        return self.set(datetime(year, month, day, hour, minute, tzinfo=SEOUL))

    def advance(self, **delta) -> datetime:
        return self.set(utcnow() + timedelta(**delta))

    @property
    def now(self) -> datetime:
        return utcnow()

    @property
    def today(self) -> date:
        """Today in Korea, as the app counts it."""
        return today_seoul()


@pytest.fixture(autouse=True)
def _clock_runs_after_each_test():
    """A clock stopped by one test (the fixture below, or an app made with
    CLOCK in its config) never leaks into the next."""
    yield
    set_clock(None)


@pytest.fixture
def clock():
    """Stops the app's clock (market.timeutil.utcnow) for this test, at a
    Thursday morning in Korea unless the test sets another time, so what the
    test checks does not depend on the day or hour the suite runs. Views,
    services, CLI commands and the outbox worker all read it."""
    clock = Clock()
    clock.seoul(2026, 11, 26, 10, 0)
    yield clock
    set_clock(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    counter = {"n": 0}

    def make(role: Role = Role.STAFF, email: str | None = None, active: bool = True, **extra):
        counter["n"] += 1
        user = User(
            email=email or f"{role.value}{counter['n']}@example.kr",
            name=extra.pop("name", f"{role.value} {counter['n']}"),
            role=role,
            active=active,
            **extra,
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def staff(make_user):
    return make_user(Role.STAFF, email="staff@example.kr")


@pytest.fixture
def vendor_user(make_user):
    return make_user(Role.VENDOR, email="vendor@example.kr")


@pytest.fixture
def login_as(client):
    def do(user):
        response = login(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do


@pytest.fixture
def staff_client(client, staff, login_as):
    """The test client, logged in as the staff member."""
    return login_as(staff)


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """with count_queries() as counter: ...; counter.count is the SQL statements run."""

    @contextmanager
    def counting():
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"
