import sys

import click

from market.accounts import services
from market.accounts.models import Role
from market.core.transaction import committing


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="The person's name as shown on screens.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.STAFF.value,
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a login. Asks for the password unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with committing():
        user = services.create_user(email, name, password, Role(role))
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.group("user")
def user_group() -> None:
    """Change an existing login: its password, or whether it may log in."""


def _user(email: str):
    user = services.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user has the email {email.strip()}.")
    return user


@user_group.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Give a login a new password; every session of that user ends (they log
    in again with the new one). Asks for it unless --password-stdin is given."""
    user = _user(email)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with committing():
        services.set_password(user, password)
    click.echo(f"New password set for {user.email}; every session of this user has ended.")


@user_group.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Stop a login from logging in; its sessions end at once."""
    user = _user(email)
    with committing():
        changed = services.set_active(user, False)
    if changed:
        click.echo(f"Disabled {user.email}: they can no longer log in; every session has ended.")
    else:
        click.echo(f"{user.email} was already disabled; every session has ended.")


@user_group.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    """Let a disabled login log in again (with its old password)."""
    user = _user(email)
    with committing():
        changed = services.set_active(user, True)
    if changed:
        click.echo(f"Enabled {user.email}: they can log in again with their password.")
    else:
        click.echo(f"{user.email} was already enabled; nothing changed.")
