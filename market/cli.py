"""Registers every area's `flask --app market ...` commands."""

from flask import Flask


def register_commands(app: Flask) -> None:
    from market.accounts.cli import create_user, user_group
    from market.booths.cli import booths
    from market.core.pagecache import cache_group
    from market.customers.cli import customers
    from market.demo import seed_demo_command
    from market.inbox.cli import inbox
    from market.markets.cli import schedule_group, venue
    from market.outbox.cli import outbox
    from market.worker import worker_command

    for command in (
        create_user,
        user_group,
        seed_demo_command,
        outbox,
        inbox,
        venue,
        schedule_group,
        customers,
        booths,
        worker_command,
        cache_group,
    ):
        app.cli.add_command(command)
