import pytest
from sqlalchemy import func, select

from market.accounts.models import Role, User
from market.demo import DEMO_PASSWORD, DEMO_USERS
from market.extensions import db
from market.outbox.models import OutboxMessage


def _count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_create_user_with_password_on_stdin(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "Kim@Example.kr",
            "--name",
            "김운영",
            "--role",
            "staff",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created staff kim@example.kr" in result.output
    user = db.session.scalar(select(User).where(User.email == "kim@example.kr"))
    assert user.role is Role.STAFF and user.check_password("a-long-password")


def test_create_user_prompts_for_the_password(runner):
    result = runner.invoke(
        args=["create-user", "a@example.kr", "--name", "A"], input="pass-word-1\npass-word-1\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "a@example.kr")).check_password(
        "pass-word-1"
    )


def test_create_user_refuses_duplicates_and_short_passwords(runner, staff):
    result = runner.invoke(
        args=["create-user", staff.email, "--name", "X", "--password-stdin"],
        input="long-enough-1\n",
    )
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(
        args=["create-user", "new@example.kr", "--name", "X", "--password-stdin"], input="short\n"
    )
    assert result.exit_code != 0 and "at least 8" in result.output
    assert _count_users() == 1


def test_seed_demo_twice_creates_nothing_twice(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    count = _count_users()
    assert count == len(DEMO_USERS)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "nothing created" in second.output
    assert _count_users() == count
    assert DEMO_PASSWORD in second.output


def test_seed_demo_if_empty_leaves_a_used_database_alone(runner, staff):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "already has data" in result.output
    assert _count_users() == 1


def test_demo_staff_can_log_in(runner, client):
    runner.invoke(args=["seed-demo"])
    response = client.post(
        "/account/login", data={"email": "staff@demo.market.kr", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200


def test_seed_demo_adds_venues_and_a_season_once(runner):
    from market.markets.models import Market, MarketStatus, Venue

    runner.invoke(args=["seed-demo"])
    markets = db.session.scalar(select(func.count()).select_from(Market))
    assert db.session.scalar(select(func.count()).select_from(Venue)) == 4
    assert markets > 20
    statuses = set(db.session.scalars(select(Market.status)))
    assert {MarketStatus.CLOSED, MarketStatus.OPEN, MarketStatus.CANCELLED} <= statuses
    runner.invoke(args=["seed-demo"])
    assert db.session.scalar(select(func.count()).select_from(Market)) == markets


def test_seed_demo_imports_customers_and_queues_invitations_once(runner):
    from market.customers.models import Order
    from market.invitations.models import Invitation
    from market.outbox.models import OutboxMessage

    runner.invoke(args=["seed-demo"])
    orders = db.session.scalar(select(func.count()).select_from(Order))
    imported = db.session.scalar(select(func.count(Order.id)).where(Order.import_id.is_not(None)))
    invitations = db.session.scalar(select(func.count()).select_from(Invitation))
    # The next market: the top 50 less 5 held back (and queued mail); a past
    # market's send: 80 less 32 held back (demo history, no mail).
    assert imported == 3000 and invitations == 45 + 48
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) >= 45
    runner.invoke(args=["seed-demo"])
    assert db.session.scalar(select(func.count()).select_from(Order)) == orders
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == invitations


@pytest.fixture
def no_server_name(app_config):
    app_config["SERVER_NAME"] = None  # as in `make run`: nothing but the defaults


def test_seed_demo_works_without_a_server_name(no_server_name, runner):
    """The command line has no request: mail links come from PUBLIC_BASE_URL."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    invitation = db.session.scalars(
        select(OutboxMessage.mime).where(OutboxMessage.category == "invitation")
    ).first()
    assert b"List-Unsubscribe: <http://127.0.0.1:5000/u/" in invitation
