"""The migrations make exactly the schema the models describe, and go both ways."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from market import create_app
from market.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "run `flask db migrate` for these model changes"


def test_upgrade_downgrade_upgrade(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    with app.app_context():
        upgrade()
        assert "markets" in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "vendors" in inspect(db.engine).get_table_names()
        db.engine.dispose()
