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
