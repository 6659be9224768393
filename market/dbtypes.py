"""Column types shared by the models."""

import enum

from sqlalchemy import Enum


def value_enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    """A Python enum stored as its values (not its member names) in a
    VARCHAR with a CHECK constraint: the same on SQLite and PostgreSQL, and
    adding a member needs no ALTER TYPE."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )
