"""Plain helpers the tests import (fixtures live in conftest.py)."""

from contextlib import contextmanager

from flask import template_rendered

PASSWORD = "correct-horse-1"


def login(client, user_or_email, password: str = PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    return client.post("/account/login", data={"email": email, "password": password})


@contextmanager
def renders(app):
    """The templates rendered meanwhile (a kept page renders none)."""
    names: list[str] = []

    def note(_sender, template, **_extra):
        names.append(template.name)

    template_rendered.connect(note, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(note, app)


class NumberedMessageIds:
    """Message-IDs numbered in the order they are made (in `modules`, which
    import make_msgid), so two builds of the same mails compare equal:
    `ids` holds those made, `restart_at(n)` numbers the next build from n."""

    def __init__(self, monkeypatch, *modules):
        self.ids: list[str] = []
        self.restart_at(0)
        for module in modules:
            monkeypatch.setattr(module, "make_msgid", self)

    def restart_at(self, number: int) -> None:
        self._numbers = iter(range(number, 10**6))

    def __call__(self, idstring=None, domain=None) -> str:
        self.ids.append(f"<{next(self._numbers)}.{idstring or ''}@{domain}>")
        return self.ids[-1]
