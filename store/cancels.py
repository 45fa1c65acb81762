"""Cancel requests: recorded by the API at once, acted on by the worker.

A request is stored only where it can still change something; canceling a
run or batch whose runs have all finished is answered without writing. The
worker reads requests through :func:`pending_cancel` (at every interruption
point) and :func:`store.runs.cancel_queued_runs` (for runs not yet started).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from core.errors import NotFound
from store import dialect
from store import status as st
from store.db import write_transaction
from store.ids import new_id
from store.wakeups import announce_work

REQUESTED, ALREADY_REQUESTED, ALREADY_FINISHED = "requested", "already_requested", "already_finished"


@dataclass(frozen=True)
class CancelOutcome:
    cancel_id: str | None
    status: str
    target_type: str
    target_id: str
    target_status: str


def _existing_request(conn: sqlite3.Connection, target_ids: tuple[str, ...]) -> str | None:
    row = conn.execute(
        f"SELECT cancel_id FROM cancel_requests WHERE target_id IN ({','.join('?' * len(target_ids))})"
        " ORDER BY seq LIMIT 1", target_ids).fetchone()
    return row["cancel_id"] if row else None


def _record(conn: sqlite3.Connection, target_type: str, target_id: str, reason: str | None,
            now: float) -> str:
    cancel_id = new_id("cancel")
    conn.execute("INSERT INTO cancel_requests (cancel_id, target_type, target_id, reason, created_at)"
                 " VALUES (?, ?, ?, ?, ?)", (cancel_id, target_type, target_id, reason, now))
    announce_work(conn, "cancel")
    return cancel_id


def _request(conn: sqlite3.Connection, target_type: str, target_id: str, reason: str | None,
             now: float, row: sqlite3.Row | None, covering_ids: tuple[str, ...]) -> CancelOutcome:
    """Record a cancel unless the target is unknown, finished, or already has one."""
    if row is None:
        raise NotFound(f"{target_type} {target_id!r} does not exist", {f"{target_type}_id": target_id})
    if row["status"] in st.TERMINAL_STATUSES:
        return CancelOutcome(None, ALREADY_FINISHED, target_type, target_id, row["status"])
    existing = _existing_request(conn, covering_ids)
    if existing:
        return CancelOutcome(existing, ALREADY_REQUESTED, target_type, target_id, row["status"])
    return CancelOutcome(_record(conn, target_type, target_id, reason, now), REQUESTED,
                         target_type, target_id, row["status"])


def request_run_cancel(conn: sqlite3.Connection, run_id: str, reason: str | None,
                       now: float) -> CancelOutcome:
    """A run is covered by a request naming it or its batch."""
    with write_transaction(conn):
        dialect.lock(conn, "lock_run", run_id)  # two requests at once: one records, one finds it
        row = conn.execute("SELECT status, batch_id FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        covering = (run_id, row["batch_id"]) if row else (run_id,)
        return _request(conn, "run", run_id, reason, now, row, covering)


def request_batch_cancel(conn: sqlite3.Connection, batch_id: str, reason: str | None,
                         now: float) -> CancelOutcome:
    with write_transaction(conn):
        dialect.lock(conn, "lock_batch", batch_id)
        row = conn.execute("SELECT status FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        return _request(conn, "batch", batch_id, reason, now, row, (batch_id,))


def pending_cancel(conn: sqlite3.Connection, run_id: str, batch_id: str) -> tuple[str, str | None] | None:
    """(cancel_id, reason) of the first cancel naming this run or its batch, if any."""
    row = conn.execute(
        "SELECT cancel_id, reason FROM cancel_requests WHERE target_id IN (?, ?)"
        " ORDER BY seq LIMIT 1", (run_id, batch_id)).fetchone()
    return (row["cancel_id"], row["reason"]) if row else None
