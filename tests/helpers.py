"""Plain helpers the tests import (fixtures live in conftest.py)."""

PASSWORD = "correct-horse-1"


def login(client, user_or_email, password: str = PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    return client.post("/account/login", data={"email": email, "password": password})
