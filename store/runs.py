"""Runs: listing and detail for the API; claim and terminal transitions for the worker.

Only the worker calls the transition functions (``claim_next_run``,
``finish_run``, ``complete_run``, ``cancel_queued_runs``). Each is one
``BEGIN IMMEDIATE`` transaction that also writes the run's terminal event and
refreshes the batch roll-up, so a crash leaves either the old state or the
new one, never half of it. Transitions out of ``running`` are guarded by the
owning ``worker_id``: a worker can only finish a run it still holds.

On PostgreSQL these transactions run side by side (READ COMMITTED), so each
is written to stay right when another commits between its statements: the
claim skips rows another claimer holds (``FOR UPDATE SKIP LOCKED``); every
status change names the status it leaves (``AND status = 'queued'``), so a
run claimed meanwhile is not canceled and an ended run is not ended twice;
and the batch roll-up is recomputed under the batch's row lock
(:func:`store.batches.refresh_batch_status`).
"""
from __future__ import annotations

import json
import sqlite3

from core import trace
from core.errors import LeaseLost, NotFound
from store import dialect
from store import status as st
from store.batches import refresh_batch_status
from store.cursor import decode_cursor, page, where
from store.db import write_transaction
from store.events import insert_event
from store.memory_exposures import insert_citations
from store.records import ClaimedRun, Run, RunOutput

CURSOR_KIND = "runs"

# A cancel counts for a run if it names the run or its batch and was recorded
# before the run finished (a batch cancel never relabels already-finished runs).
# (min(seq) over the two index ranges, so no sort is needed to find the first.)
_RUN_SELECT = (
    "SELECT r.*, b.dry_run, c.created_at AS cancel_requested_at, c.reason AS cancel_reason"
    " FROM runs r JOIN batches b ON b.batch_id = r.batch_id"
    " LEFT JOIN cancel_requests c ON c.seq = ("
    "  SELECT min(f.seq) FROM cancel_requests f WHERE f.target_id IN (r.run_id, r.batch_id)"
    "  AND (r.finished_at IS NULL OR f.created_at <= r.finished_at))"
)


def get_run(conn: sqlite3.Connection, run_id: str) -> Run:
    row = conn.execute(f"{_RUN_SELECT} WHERE r.run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFound(f"run {run_id!r} does not exist", {"run_id": run_id})
    return Run.from_row(row)


def require_run(conn: sqlite3.Connection, run_id: str) -> None:
    """Cheap existence check for sub-resources (events, evidence, output)."""
    if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
        raise NotFound(f"run {run_id!r} does not exist", {"run_id": run_id})


def list_runs(conn: sqlite3.Connection, *, batch_id: str | None, status: str | None,
              limit: int, cursor: str | None) -> tuple[list[Run], str | None, bool]:
    """Queue order (oldest first), which within a batch is run_index order."""
    clause, params = where([
        ("r.seq > ?", decode_cursor(CURSOR_KIND, cursor) if cursor else None),
        ("r.batch_id = ?", batch_id),
        ("r.status = ?", status),
    ])
    rows = conn.execute(f"{_RUN_SELECT} {clause} ORDER BY r.seq LIMIT ?",
                        (*params, limit + 1)).fetchall()
    items, next_cursor, has_more = page(rows, limit, CURSOR_KIND, lambda row: row["seq"])
    return [Run.from_row(row) for row in items], next_cursor, has_more


def claim_next_run(conn: sqlite3.Connection, worker_id: str, now: float) -> ClaimedRun | None:
    """Atomically move the oldest queued run with no cancel request to ``running``."""
    with write_transaction(conn):
        row = conn.execute(dialect.sql(conn, "claim_run"),
                           (st.RUNNING, now, worker_id, st.QUEUED, st.QUEUED)).fetchone()
        if row is None:
            return None
        # claiming is proof of life: renew the lease and undo a "gone" verdict
        # another worker may have reached while this one was frozen
        conn.execute("UPDATE workers SET current_run_id = ?, heartbeat_at = ?, stopped_at = NULL"
                     " WHERE worker_id = ?", (row["run_id"], now, worker_id))
        refresh_batch_status(conn, row["batch_id"])
        batch = conn.execute(
            "SELECT user_request, recipes_per_run, temperature, dry_run, config_snapshot_json"
            " FROM batches WHERE batch_id = ?", (row["batch_id"],)).fetchone()
    return ClaimedRun(
        run_id=row["run_id"], batch_id=row["batch_id"], run_index=row["run_index"],
        user_request=batch["user_request"], recipes_per_run=batch["recipes_per_run"],
        temperature=batch["temperature"], dry_run=bool(batch["dry_run"]),
        config_snapshot=json.loads(batch["config_snapshot_json"]),
    )


def _leave_running(conn: sqlite3.Connection, run_id: str, worker_id: str, status: str,
                   now: float, error_code: str | None, error_message: str | None) -> str:
    row = conn.execute(
        "UPDATE runs SET status = ?, finished_at = ?, error_code = ?, error_message = ?"
        " WHERE run_id = ? AND status = ? AND worker_id = ? RETURNING batch_id",
        (status, now, error_code, error_message, run_id, st.RUNNING, worker_id),
    ).fetchone()
    if row is None:
        raise LeaseLost(f"run {run_id} is no longer held by worker {worker_id}",
                       {"run_id": run_id, "worker_id": worker_id})
    conn.execute("UPDATE workers SET current_run_id = NULL WHERE worker_id = ?", (worker_id,))
    return row["batch_id"]


def finish_run(conn: sqlite3.Connection, *, run_id: str, worker_id: str,
               event: trace.RunFailed | trace.RunCanceled, now: float) -> None:
    """End a running run as ``failed`` or ``canceled``, as its terminal event says, atomically."""
    if isinstance(event, trace.RunFailed):
        status, code, message = st.FAILED, event.error_code, event.message
    else:
        status, code, message = st.CANCELED, None, None
    with write_transaction(conn):
        batch_id = _leave_running(conn, run_id, worker_id, status, now, code, message)
        insert_event(conn, run_id, event.event_type, event.payload(), now)
        refresh_batch_status(conn, batch_id)


def complete_run(conn: sqlite3.Connection, *, run_id: str, worker_id: str, output: RunOutput,
                 now: float) -> None:
    """Store the output, its ``final_output`` event and the ``completed`` status at once."""
    with write_transaction(conn):
        batch_id = _leave_running(conn, run_id, worker_id, st.COMPLETED, now, None, None)
        conn.execute(
            "INSERT INTO run_outputs (run_id, recipes_json, citations_json, memory_ids_json,"
            " created_at) VALUES (?, ?, ?, ?, ?)",
            (run_id, json.dumps(output.recipes_json), json.dumps(output.citations),
             json.dumps(output.memory_ids), now),
        )
        insert_citations(conn, run_id, output.citations)
        event = trace.FinalOutput(recipes_json=output.recipes_json, citations=output.citations,
                                  memory_ids=output.memory_ids)
        insert_event(conn, run_id, event.event_type, event.payload(), now)
        refresh_batch_status(conn, batch_id)


CANCELS_PER_TRANSACTION = 50


def cancel_queued_runs(conn: sqlite3.Connection, now: float) -> list[str]:
    """Apply the cancel requests not yet handled: their queued runs become ``canceled``.

    Called by the worker at every iteration, so its cost must follow the
    pending requests, not the queue: with none pending (the usual case) it is
    one read of a partial index and takes no write lock. Requests are applied
    in the order they were made, at most ``CANCELS_PER_TRANSACTION`` per
    transaction so the write lock is never held long. A run is canceled with
    the reason of the first request that names it or its batch.
    """
    canceled: list[str] = []
    while conn.execute("SELECT 1 FROM cancel_requests WHERE handled_at IS NULL LIMIT 1").fetchone():
        with write_transaction(conn):
            # on PostgreSQL, requests another worker is applying are skipped, not waited for
            requests = conn.execute(dialect.sql(conn, "pending_cancels"),
                                    (CANCELS_PER_TRANSACTION,)).fetchall()
            if not requests:
                break
            batches: set[str] = set()
            for request in requests:
                column = "run_id" if request["target_type"] == "run" else "batch_id"
                # guarded by status: a run another worker claimed since is left to that worker
                # (it sees the cancel at its next interruption point)
                for row in sorted(conn.execute(
                        f"UPDATE runs SET status = ?, finished_at = ? WHERE {column} = ?"
                        " AND status = ? RETURNING run_id, batch_id, run_index",
                        (st.CANCELED, now, request["target_id"], st.QUEUED)).fetchall(),
                        key=lambda row: row["run_index"]):
                    event = trace.RunCanceled(reason=request["reason"], stage="queued", started=False)
                    insert_event(conn, row["run_id"], event.event_type, event.payload(), now)
                    canceled.append(row["run_id"])
                    batches.add(row["batch_id"])
                conn.execute("UPDATE cancel_requests SET handled_at = ? WHERE seq = ?", (now, request["seq"]))
            for batch_id in sorted(batches):  # one order for every locker: no deadlock
                refresh_batch_status(conn, batch_id)
    return canceled


def get_output(conn: sqlite3.Connection, run_id: str) -> RunOutput | None:
    row = conn.execute("SELECT * FROM run_outputs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    return RunOutput(recipes_json=json.loads(row["recipes_json"]),
                     citations=json.loads(row["citations_json"]),
                     memory_ids=json.loads(row["memory_ids_json"]))
