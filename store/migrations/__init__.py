"""Ordered, numbered schema migrations, each applied once.

The schema version is ``PRAGMA user_version``; every pending migration runs
inside one ``BEGIN IMMEDIATE`` transaction together with the version bump, so
an API and a worker starting at the same moment serialise on the write lock:
the first applies, the second finds nothing left to do. A database stamped
with a version this code does not know is refused (``SchemaTooNew``) rather
than guessed at. A column is never reused with a new meaning: change means a
new migration.
"""
from __future__ import annotations

import logging
import sqlite3
import time

from core.errors import SchemaTooNew
from store import db
from store.migrations import (
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
)

MIGRATIONS = (v001_initial, v002_idempotency_and_indexes, v003_workers, v004_outputs_and_evidence,
              v005_lab_feedback, v006_flat_pages_and_cancels, v007_trace_retention,
              v008_lab_memory, v009_catalogue_name_keys, v010_request_search)
LATEST_VERSION = MIGRATIONS[-1].VERSION

assert [m.VERSION for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1)), "gap in migrations"


def current_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


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
        version = current_version(conn)  # re-read under the write lock
        _refuse_if_too_new(version)
        for migration in MIGRATIONS[version:]:
            for name, function in getattr(migration, "FUNCTIONS", {}).items():
                conn.create_function(name, 1, function, deterministic=True)
            for statement in migration.STATEMENTS:
                conn.execute(statement)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (f"migration.v{migration.VERSION}.applied_at", repr(time.time())),
            )
            applied.append(migration.VERSION)
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION:d}")
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
