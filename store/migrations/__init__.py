"""Ordered, numbered schema migrations, each applied once.

The schema version is ``PRAGMA user_version``; every pending migration runs
inside one ``BEGIN IMMEDIATE`` transaction together with the version bump, so
an API and a worker starting at the same moment serialise on the write lock:
the first applies, the second finds nothing left to do. A database stamped
with a version this code does not know is refused (``SchemaTooNew``) rather
than guessed at. A column is never reused with a new meaning: change means a
new migration.

On PostgreSQL (SPEC 13) the version lives in ``meta`` (``schema_version``)
and the pending migrations run in one transaction that first takes a
transaction-level advisory lock: processes starting together queue on it,
and DDL being transactional there, a failed migration leaves nothing
behind. Each version's PostgreSQL DDL comes from
:mod:`store.migrations.postgres_ddl`.
"""
from __future__ import annotations

import logging
import sqlite3
import time

from core.errors import SchemaTooNew
from store import db, dialect
from store.migrations import (
    postgres_ddl,
    v001_initial,
    v002_idempotency_and_indexes,
    v003_workers,
    v004_outputs_and_evidence,
    v005_lab_feedback,
    v006_flat_pages_and_cancels,
    v007_trace_retention,
    v008_lab_memory,
    v009_catalogue_name_keys,
    v010_request_search,
    v011_experiments,
    v012_plans,
    v013_learning_per_experiment,
)

MIGRATIONS = (v001_initial, v002_idempotency_and_indexes, v003_workers, v004_outputs_and_evidence,
              v005_lab_feedback, v006_flat_pages_and_cancels, v007_trace_retention,
              v008_lab_memory, v009_catalogue_name_keys, v010_request_search, v011_experiments,
              v012_plans, v013_learning_per_experiment)
LATEST_VERSION = MIGRATIONS[-1].VERSION

assert [m.VERSION for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1)), "gap in migrations"


# any constant: the key of the advisory lock that migrating processes queue on
MIGRATION_LOCK_KEY = 0x6332786D  # "c2xm"


def current_version(conn: sqlite3.Connection) -> int:
    if dialect.is_postgres(conn) and conn.execute("SELECT to_regclass('meta')").fetchone()[0] is None:
        return 0
    return int(conn.execute(dialect.sql(conn, "schema_version")).fetchone()[0])


def _record_version(conn: sqlite3.Connection, version: int) -> None:
    if dialect.is_postgres(conn):
        _set_meta(conn, "schema_version", str(version))
    else:
        conn.execute(f"PRAGMA user_version = {version:d}")


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


def _apply(conn: sqlite3.Connection, migration) -> None:
    """The migration's DDL for this engine, then its data step (``backfill``), if any, on both."""
    if dialect.is_postgres(conn):
        for step in postgres_ddl.steps_for(migration):
            step(conn) if callable(step) else conn.execute(step)
    else:
        for name, function in getattr(migration, "FUNCTIONS", {}).items():
            conn.create_function(name, 1, function, deterministic=True)
        for statement in migration.STATEMENTS:
            conn.execute(statement)
    if hasattr(migration, "backfill"):
        migration.backfill(conn)


def _refuse_if_too_new(version: int) -> None:
    if version > LATEST_VERSION:
        raise SchemaTooNew(
            f"database schema version {version} is newer than this code supports "
            f"({LATEST_VERSION}); upgrade the service or use a backup made by this version",
            {"missing": ["compatible_schema"], "db_version": version, "code_version": LATEST_VERSION},
        )


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every pending migration; return the versions applied (empty if none)."""
    _refuse_if_too_new(current_version(conn))
    if current_version(conn) == LATEST_VERSION:
        return []
    applied: list[int] = []
    with db.write_transaction(conn):
        if dialect.is_postgres(conn):
            conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,)).fetchall()
        version = current_version(conn)  # re-read under the write lock
        _refuse_if_too_new(version)
        for migration in MIGRATIONS[version:]:
            _apply(conn, migration)
            _set_meta(conn, f"migration.v{migration.VERSION}.applied_at", repr(time.time()))
            applied.append(migration.VERSION)
        _record_version(conn, LATEST_VERSION)
    _report_collisions(conn, applied)
    return applied


def _report_collisions(conn: sqlite3.Connection, applied: list[int]) -> None:
    """v9 re-keys catalogue names; names that now mean the same product are logged, not refused."""
    if 9 not in applied:
        return
    for row in conn.execute("SELECT key, value FROM meta WHERE key LIKE 'migration.v9.collisions.%'"):
        if row[1] and row[1] != "[]":
            logging.getLogger("c2xc.store").warning(
                "migration v9: these names now equal an older one and were kept under a key with "
                "their id appended; rename or archive them: %s %s", row[0].rsplit(".", 1)[-1], row[1])
