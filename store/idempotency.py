"""Idempotency-Key records for ``POST /batches``.

The API looks a key up and, on a miss, creates the batch and remembers the
response inside the same ``BEGIN IMMEDIATE`` transaction, so concurrent
requests carrying one key serialise on the write lock and exactly one batch is
created. Keys expire after a TTL; expired rows are purged as new ones arrive.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from store import dialect


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    status: int
    body: dict[str, Any]
    batch_id: str


def lock_key(conn: sqlite3.Connection, key: str) -> None:
    """Inside the create's transaction: same-key requests take turns (PostgreSQL; SQLite's
    write lock already does), so the second finds the first's response and replays it."""
    dialect.lock(conn, "lock_idempotency_key", key)


def lookup(conn: sqlite3.Connection, key: str, now: float) -> StoredResponse | None:
    row = conn.execute(
        "SELECT request_hash, response_status, response_json, batch_id FROM idempotency_keys"
        " WHERE idem_key = ? AND expires_at > ?", (key, now)).fetchone()
    if row is None:
        return None
    return StoredResponse(row["request_hash"], row["response_status"],
                          json.loads(row["response_json"]), row["batch_id"])


def remember(conn: sqlite3.Connection, *, key: str, request_hash: str, status: int,
             body: dict[str, Any], batch_id: str, now: float, ttl_s: float) -> None:
    """Record a response (caller holds the write transaction); purge expired keys."""
    conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?", (now,))
    conn.execute(
        "INSERT INTO idempotency_keys (idem_key, request_hash, response_status, response_json,"
        " batch_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (key, request_hash, status, json.dumps(body), batch_id, now, now + ttl_s))
