"""Read-only facts about the database for the debug endpoint and operators."""
from __future__ import annotations

import os
import sqlite3

from store import dialect, migrations

_TABLES = ("batches", "runs", "events", "event_payloads", "cancel_requests", "idempotency_keys",
           "workers", "run_outputs", "evidence", "products", "product_presets", "run_feedback",
           "feedback_products")


def database_summary(conn: sqlite3.Connection, path: str) -> dict:
    if dialect.is_postgres(conn):
        return {
            "backend": dialect.POSTGRES,
            "path": path,  # the URL without its password
            "schema_version": migrations.current_version(conn),
            "journal_mode": None,
            "server_version": conn.execute("SHOW server_version").fetchone()[0],
            "row_counts": _row_counts(conn),
            "file_bytes": {"db": conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]},
        }
    sizes = {}
    for suffix in ("", "-wal", "-shm"):
        try:
            sizes[f"db{suffix}"] = os.path.getsize(path + suffix)
        except OSError:
            sizes[f"db{suffix}"] = None
    return {
        "backend": dialect.SQLITE,
        "path": os.path.abspath(path),
        "schema_version": migrations.current_version(conn),
        "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
        "row_counts": _row_counts(conn),
        "file_bytes": sizes,
    }


def _row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in _TABLES}
