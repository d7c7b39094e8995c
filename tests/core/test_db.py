"""The metadata DB: migrations match the models, SQLite runs in WAL mode."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sageforge.core.db import Base, Database, Job


def test_migrations_create_exactly_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")  # loads every capability's models
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    db.dispose()


def test_wal_mode_and_utc_round_trip(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with db.session() as s:
        s.add(
            Job(
                kind="training",
                name="j",
                arn="arn:j",
                status="InProgress",
                spec={"a": [1]},
                outputs={},
                workdir="/w",
                creation_time=when,
                last_modified_time=when,
            )
        )
        s.commit()
    with db.session() as s:
        job = s.scalar(sa.select(Job))
        assert job is not None
        assert job.creation_time == when and job.creation_time.tzinfo is not None
        assert job.spec == {"a": [1]}
    db.dispose()


def test_upgrading_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    Database(url).dispose()
    Database(url).dispose()
