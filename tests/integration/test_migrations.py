"""Migrations: up from nothing, in agreement with the models, and back down, on every database."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from microcredit.db.engine import make_engine
from microcredit.db.migrate import alembic_config, current_revision, head_revision, is_up_to_date, upgrade
from microcredit.models_registry import load_all_models
from tests.conftest import fresh_database_url


def test_upgrade_matches_the_models_and_downgrade_removes_everything(backend, worker_tmp):
    engine = make_engine(fresh_database_url(backend, worker_tmp, "_migrations"))
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert is_up_to_date(engine)
        metadata = load_all_models()
        tables = set(inspect(engine).get_table_names())
        assert tables == set(metadata.tables) | {"alembic_version"}

        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            differences = compare_metadata(context, metadata)
        assert differences == []

        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert current_revision(engine) is None

        upgrade(engine)  # and up again from nothing
        assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()
