"""Read-only facts about the database for the debug endpoint and operators."""
from __future__ import annotations

import os
import sqlite3

from store import migrations

_TABLES = ("batches", "runs", "events", "event_payloads", "cancel_requests", "idempotency_keys",
           "workers", "run_outputs", "evidence", "products", "product_presets", "run_feedback",
           "feedback_products")


def database_summary(conn: sqlite3.Connection, path: str) -> dict:
    sizes = {}
    for suffix in ("", "-wal", "-shm"):
        try:
            sizes[f"db{suffix}"] = os.path.getsize(path + suffix)
        except OSError:
            sizes[f"db{suffix}"] = None
    return {
        "path": os.path.abspath(path),
        "schema_version": migrations.current_version(conn),
        "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
        "row_counts": {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in _TABLES},
        "file_bytes": sizes,
    }
