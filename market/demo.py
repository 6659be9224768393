"""`flask seed-demo`: believable demo data. Running it twice creates nothing twice.

Each area adds its part here as it arrives; every step looks up what exists
before creating anything."""

import click
from flask import current_app
from sqlalchemy import func, select

from market.accounts import services as accounts
from market.accounts.models import Role, User
from market.booths.demo import seed_booths
from market.config import is_production
from market.customers.demo import seed_customers
from market.extensions import db
from market.invitations.demo import seed_invitations
from market.markets.demo import seed_markets
from market.takings.demo import seed_takings
from market.vendors.demo import seed_vendors

DEMO_PASSWORD = "market-demo-1234"
DEMO_USERS = (
    ("admin@demo.market.kr", "관리자", Role.ADMIN),
    ("staff@demo.market.kr", "김운영", Role.STAFF),
    ("vendor@demo.market.kr", "박참여", Role.VENDOR),
)


def seed_demo() -> list[str]:
    """Returns a line for each thing it created."""
    created = []
    for email, name, role in DEMO_USERS:
        if accounts.find_user_by_email(email) is None:
            accounts.create_user(email, name, DEMO_PASSWORD, role)
            created.append(f"user {email} ({role.value})")
    created += seed_markets()
    created += seed_vendors()
    created += seed_booths()
    created += seed_takings()
    created += seed_customers()
    created += seed_invitations()
    return created


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed a database that has no users yet.")
def seed_demo_command(if_empty: bool) -> None:
    """Create demo logins and data (idempotent)."""
    if is_production(current_app.config):
        raise click.ClickException(
            "seed-demo does not run with MARKET_ENV=production: it adds demo logins whose "
            f"password ({DEMO_PASSWORD}) is printed here and in the README, and demo "
            "markets, vendors and customers people would see."
        )
    if if_empty and not database_is_empty():
        click.echo("The database already has data; demo data not added.")
    else:
        created = seed_demo()
        db.session.commit()
        for line in created:
            click.echo(f"created {line}")
        if not created:
            click.echo("Demo data already present; nothing created.")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, _name, role in DEMO_USERS:
        click.echo(f"  {role.value:<7} {email}")
