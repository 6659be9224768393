"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

from market import create_app

app = create_app()
