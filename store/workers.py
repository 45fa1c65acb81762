"""Worker registry: heartbeats, liveness, and reconcile of runs whose worker is gone.

A worker is *alive* while it heartbeats; it is *gone* once it said it stopped,
its heartbeat is older than ``stale_after_s``, or — on the same host — its pid
no longer exists. Reconcile fails only runs held by a gone worker, never one a
live worker holds.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable

from core import trace
from store import status as st
from store.batches import refresh_batch_status
from store.db import write_transaction
from store.events import insert_event
from store.records import WorkerInfo

WORKER_LOST = "worker_lost"


def register_worker(conn: sqlite3.Connection, *, worker_id: str, pid: int, host: str,
                    poll_interval_s: float, now: float) -> None:
    with write_transaction(conn):
        conn.execute(
            "INSERT INTO workers (worker_id, pid, host, started_at, heartbeat_at, poll_interval_s)"
            " VALUES (?, ?, ?, ?, ?, ?)", (worker_id, pid, host, now, now, poll_interval_s))


def heartbeat(conn: sqlite3.Connection, worker_id: str, now: float) -> None:
    """Renew the lease; a worker declared gone while frozen is alive again (its old run
    stays failed: every write to it is ownership-checked)."""
    with write_transaction(conn):
        conn.execute("UPDATE workers SET heartbeat_at = ?, stopped_at = NULL WHERE worker_id = ?",
                     (now, worker_id))


def mark_stopped(conn: sqlite3.Connection, worker_id: str, now: float) -> None:
    with write_transaction(conn):
        conn.execute("UPDATE workers SET stopped_at = ?, heartbeat_at = ?, current_run_id = NULL"
                     " WHERE worker_id = ?", (now, now, worker_id))


def is_gone(worker: sqlite3.Row | None, *, host: str, now: float, stale_after_s: float,
             pid_alive: Callable[[int], bool]) -> bool:
    if worker is None or worker["stopped_at"] is not None:
        return True
    if now - worker["heartbeat_at"] > stale_after_s:
        return True
    return worker["host"] == host and not pid_alive(worker["pid"])


def reconcile_orphaned_runs(conn: sqlite3.Connection, *, reconciler_id: str, host: str,
                            now: float, stale_after_s: float, pid_alive: Callable[[int], bool],
                            at_startup: bool = True) -> list[str]:
    """Fail every ``running`` run whose worker is gone, or that the reconciler holds unknowingly.

    Call it only between runs: the reconciler's own ``running`` rows are then
    orphans by definition.

    At start-up the count is recorded on the reconciling worker (shown by
    ``/system/worker``); later, periodic passes (lease expiry) leave it alone.
    """
    failed: list[str] = []
    with write_transaction(conn):
        running = conn.execute("SELECT run_id, batch_id, worker_id FROM runs WHERE status = ?",
                               (st.RUNNING,)).fetchall()
        for run in running:
            worker = conn.execute("SELECT * FROM workers WHERE worker_id = ?",
                                  (run["worker_id"],)).fetchone()
            if run["worker_id"] == reconciler_id:
                # The reconciler runs between its own runs, so a run still marked as its own is
                # one whose claim committed while the reply was lost (the connection dropped at
                # COMMIT): nobody is executing it, and its own live lease would hide it forever.
                message = (f"the worker {reconciler_id} claimed this run but lost the database "
                           "connection before it could start it")
            elif is_gone(worker, host=host, now=now, stale_after_s=stale_after_s, pid_alive=pid_alive):
                message = (f"the worker {run['worker_id']} executing this run stopped without "
                           f"finishing it; found by worker {reconciler_id}")
            else:
                continue
            # guarded: of several reconcilers (or the owner ending it meanwhile) exactly one
            # moves the run, and only that one writes its terminal event
            if conn.execute("UPDATE runs SET status = ?, finished_at = ?, error_code = ?,"
                            " error_message = ? WHERE run_id = ? AND status = ? AND worker_id = ?"
                            " RETURNING run_id",
                            (st.FAILED, now, WORKER_LOST, message, run["run_id"], st.RUNNING,
                             run["worker_id"])).fetchone() is None:
                continue
            event = trace.RunFailed(error_code=WORKER_LOST, message=message, details={
                "lost_worker_id": run["worker_id"], "reconciled_by": reconciler_id})
            insert_event(conn, run["run_id"], event.event_type, event.payload(), now)
            if worker is not None and worker["stopped_at"] is None and worker["worker_id"] != reconciler_id:
                conn.execute("UPDATE workers SET stopped_at = ?, current_run_id = NULL"
                             " WHERE worker_id = ?", (now, worker["worker_id"]))
            refresh_batch_status(conn, run["batch_id"])
            failed.append(run["run_id"])
        if at_startup:
            conn.execute("UPDATE workers SET reconciled_running_runs = ? WHERE worker_id = ?",
                         (len(failed), reconciler_id))
    return failed


def _info(row: sqlite3.Row) -> WorkerInfo:
    return WorkerInfo(**{key: row[key] for key in row.keys()})


def live_workers(conn: sqlite3.Connection, now: float, stale_after_s: float) -> list[WorkerInfo]:
    """Workers that have not stopped and heartbeat recently, freshest first."""
    rows = conn.execute(
        "SELECT * FROM workers WHERE stopped_at IS NULL AND heartbeat_at >= ?"
        " ORDER BY heartbeat_at DESC", (now - stale_after_s,))
    return [_info(row) for row in rows]


def latest_worker(conn: sqlite3.Connection) -> WorkerInfo | None:
    row = conn.execute("SELECT * FROM workers ORDER BY heartbeat_at DESC LIMIT 1").fetchone()
    return _info(row) if row else None


def queue_counts(conn: sqlite3.Connection) -> tuple[dict[str, int], dict[str, int]]:
    """(runs_by_status, batches_by_status)."""
    runs = conn.execute("SELECT status, COUNT(*) AS n FROM runs GROUP BY status")
    batches = conn.execute("SELECT status, COUNT(*) AS n FROM batches GROUP BY status")
    return ({row["status"]: row["n"] for row in runs},
            {row["status"]: row["n"] for row in batches})


def deployment_snapshot(conn: sqlite3.Connection, now: float, stale_after_s: float) -> dict:
    """What an operator's metrics read from the database: the whole deployment, every host's workers."""
    runs_by_status, _ = queue_counts(conn)
    ended = [(row[0], row[1] or "", row[2]) for row in conn.execute(
        "SELECT status, error_code, COUNT(*) FROM runs WHERE status IN ('completed', 'failed', 'canceled')"
        " GROUP BY status, error_code")]
    oldest = conn.execute("SELECT MIN(created_at) FROM runs WHERE status = 'queued'").fetchone()[0]
    jobs = {row[0]: row[1] for row in conn.execute("SELECT status, COUNT(*) FROM learn_jobs GROUP BY status")}
    return {"runs_by_status": runs_by_status, "runs_ended": ended,
            "oldest_queued_age_s": (now - oldest) if oldest is not None else 0.0,
            "live_workers": len(live_workers(conn, now, stale_after_s)), "learn_jobs": jobs}
