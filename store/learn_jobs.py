"""Learn jobs: the queue that turns saved lab feedback into memory, worked by the worker.

The API queues a job (in the same transaction as the feedback it learns
from, or by hand with ``POST /runs/{id}/learn``); the worker claims the
oldest queued job before any queued run, exactly like a run: one atomic
``UPDATE … RETURNING``, the claimer's id recorded, and every later write
checked against it (fencing), so a worker that lost its lease cannot commit.
A job held by a worker that is gone goes back to the queue (a job is
idempotent: its whole effect commits in one transaction with its end), up to
``MAX_ATTEMPTS`` claims, then fails.

A newer save of the same feedback supersedes jobs still queued for it.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import LeaseLost, NotFound
from store import dialect
from store import status as st
from store.db import write_transaction
from store.experiment_rows import FINISHED, Experiment
from store.ids import new_id
from store.memory_deltas import applied_learn_delta
from store.wakeups import announce_work

QUEUED, RUNNING, COMPLETED, FAILED, SUPERSEDED = ("queued", "running", "completed", "failed",
                                                  "superseded")
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class LearnJob:
    job_id: str
    experiment_id: str | None
    run_id: str | None
    feedback_version: int | None
    input_hash: str | None
    reason: str
    status: str
    attempts: int
    worker_id: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    error_code: str | None
    error_message: str | None
    delta_id: str | None
    notes: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> LearnJob:
        return cls(**{k: row[k] for k in (
            "job_id", "experiment_id", "run_id", "feedback_version", "input_hash", "reason", "status",
            "attempts", "worker_id", "created_at", "started_at", "finished_at", "error_code",
            "error_message", "delta_id")}, notes=json.loads(row["notes_json"]))


@dataclass(frozen=True)
class LearnInput:
    """Everything a learn job reads about its experiment, and its fingerprint.

    Two saves with the same fingerprint teach the same thing, so the second
    learns nothing (SPEC 12: one learn per feedback version, and a re-save
    that changes nothing is not a new version of what was measured).
    """

    experiment: Experiment
    run_id: str | None          # the run it came from (its feedback, or the recipe's source)
    dry_run: bool
    feedback: dict[str, Any] | None  # pros, cons, other, version: when the experiment is a feedback

    @property
    def learnable(self) -> bool:
        """Measured or failed and not archived: a lab result. Otherwise learning only withdraws."""
        return self.experiment.status in FINISHED and not self.experiment.archived and not self.dry_run

    @property
    def fingerprint(self) -> str:
        e = self.experiment
        what = {"learnable": self.learnable, "status": e.status, "recipe": e.recipe,
                "products": [(p.product_id, p.value) for p in e.products], "score": e.score,
                "conditions": e.conditions, "notes": e.notes, "run_id": self.run_id,
                "feedback": {k: self.feedback[k] for k in ("pros", "cons", "other")}
                if self.feedback else None}
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:32]


def learn_input(conn: sqlite3.Connection, experiment: Experiment) -> LearnInput:
    run_id = experiment.feedback_run_id or (experiment.source or {}).get("run_id")
    dry = False
    if run_id is not None:
        row = conn.execute("SELECT b.dry_run FROM runs r JOIN batches b ON b.batch_id = r.batch_id"
                           " WHERE r.run_id = ?", (run_id,)).fetchone()
        dry = bool(row and row["dry_run"])
    feedback = None
    if experiment.feedback_run_id:
        row = conn.execute("SELECT pros, cons, other, version FROM run_feedback WHERE run_id = ?",
                           (experiment.feedback_run_id,)).fetchone()
        feedback = dict(row) if row else None
    return LearnInput(experiment, run_id, dry, feedback)


def queue_in_transaction(conn: sqlite3.Connection, experiment: Experiment, reason: str,
                         now: float, *, fresh: bool = False) -> LearnJob | None:
    """Queue learning from the experiment as it is now (caller holds the write transaction).

    Nothing is queued for a dry run's result, for an experiment with no result and nothing
    learned to withdraw, or when what it would learn is what was learned already or is being
    learned (that job is returned). Older queued jobs of the experiment give way. ``fresh``:
    the experiment was created in this transaction, so it has no jobs and no learning yet (an
    import of thousands skips looking).
    """
    found = learn_input(conn, experiment)
    if found.dry_run:
        return None
    fingerprint = found.fingerprint
    if fresh:
        return _insert_job(conn, found, fingerprint, reason, now)
    learned = applied_learn_delta(conn, experiment.experiment_id)
    if learned is None and not found.learnable:
        return None
    same = conn.execute("SELECT * FROM learn_jobs WHERE experiment_id = ? AND status IN (?, ?)"
                        " AND input_hash = ? ORDER BY seq DESC LIMIT 1",
                        (experiment.experiment_id, QUEUED, RUNNING, fingerprint)).fetchone()
    if same is None and learned is not None and learned["input_hash"] == fingerprint:
        same = conn.execute("SELECT * FROM learn_jobs WHERE job_id = ?", (learned["job_id"],)).fetchone()
    conn.execute("UPDATE learn_jobs SET status = ?, finished_at = ? WHERE experiment_id = ?"
                 " AND status = ? AND job_id != ?",
                 (SUPERSEDED, now, experiment.experiment_id, QUEUED, same["job_id"] if same else ""))
    if same is not None:
        return LearnJob.from_row(same)
    return _insert_job(conn, found, fingerprint, reason, now)


_INSERT_JOB = ("INSERT INTO learn_jobs (job_id, experiment_id, run_id, feedback_version, input_hash, reason,"
               " status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def _job_values(found: LearnInput, fingerprint: str, reason: str, now: float) -> tuple:
    return (new_id("learn"), found.experiment.experiment_id, found.run_id,
            found.feedback["version"] if found.feedback else None, fingerprint, reason, QUEUED, now)


def _insert_job(conn: sqlite3.Connection, found: LearnInput, fingerprint: str, reason: str,
                now: float) -> LearnJob:
    row = conn.execute(_INSERT_JOB + " RETURNING *", _job_values(found, fingerprint, reason, now)).fetchone()
    announce_work(conn, "learn")
    return LearnJob.from_row(row)


def queue_fresh(conn: sqlite3.Connection, experiments: list[Experiment], reason: str, now: float) -> int:
    """``queue_in_transaction(..., fresh=True)`` for many results created in this transaction
    (an import): one statement and one announcement for all. How many were queued."""
    found = [learn_input(conn, experiment) for experiment in experiments]
    values = [_job_values(one, one.fingerprint, reason, now) for one in found if not one.dry_run]
    if values:
        conn.executemany(_INSERT_JOB, values)
        announce_work(conn, "learn")
    return len(values)


def claim_next_learn_job(conn: sqlite3.Connection, worker_id: str, now: float) -> LearnJob | None:
    """Atomically take the oldest queued job. Without one, no write lock is taken."""
    if conn.execute("SELECT 1 FROM learn_jobs WHERE status = ? LIMIT 1", (QUEUED,)).fetchone() is None:
        return None
    with write_transaction(conn):
        row = conn.execute(dialect.sql(conn, "claim_learn_job"),
                           (RUNNING, worker_id, now, QUEUED, QUEUED)).fetchone()
        if row is not None:
            conn.execute("UPDATE workers SET heartbeat_at = ?, stopped_at = NULL WHERE worker_id = ?",
                         (now, worker_id))
    return LearnJob.from_row(row) if row else None


def require_job_owner(conn: sqlite3.Connection, job_id: str, worker_id: str) -> None:
    """Fencing: raise ``LeaseLost`` unless ``worker_id`` still holds the running job.

    On PostgreSQL the job's row stays locked until the caller commits, so a
    reconciler cannot re-queue it between this check and the job's end.
    """
    row = conn.execute(dialect.sql(conn, "owned_running_job"), (job_id, RUNNING, worker_id)).fetchone()
    if row is None:
        raise LeaseLost(f"learn job {job_id} is no longer held by worker {worker_id}",
                        {"job_id": job_id, "worker_id": worker_id})


def end_in_transaction(conn: sqlite3.Connection, job_id: str, worker_id: str, *, status: str,
                       now: float, delta_id: str | None = None, error_code: str | None = None,
                       error_message: str | None = None, notes: dict[str, Any] | None = None) -> None:
    """Record the job's end (caller holds the transaction with the job's effect, if any)."""
    require_job_owner(conn, job_id, worker_id)
    conn.execute("UPDATE learn_jobs SET status = ?, finished_at = ?, delta_id = ?, error_code = ?,"
                 " error_message = ?, notes_json = ? WHERE job_id = ?",
                 (status, now, delta_id, error_code, (error_message or "")[:2000] or None,
                  json.dumps(notes or {}), job_id))


def end_job(conn: sqlite3.Connection, job_id: str, worker_id: str, **kwargs: Any) -> None:
    with write_transaction(conn):
        end_in_transaction(conn, job_id, worker_id, **kwargs)


def requeue_orphaned(conn: sqlite3.Connection, *, reconciler_id: str,
                     is_gone: Callable[[sqlite3.Row | None], bool], now: float) -> list[str]:
    """Jobs held by gone workers go back to the queue (or fail after ``MAX_ATTEMPTS``)."""
    moved: list[str] = []
    with write_transaction(conn):
        for job in conn.execute("SELECT job_id, worker_id, attempts FROM learn_jobs"
                                " WHERE status = ?", (RUNNING,)).fetchall():
            if job["worker_id"] == reconciler_id:
                continue
            worker = conn.execute("SELECT * FROM workers WHERE worker_id = ?",
                                  (job["worker_id"],)).fetchone()
            if not is_gone(worker):
                continue
            # guarded: another reconciler, or the job's own end, may have moved it meanwhile
            held = (job["job_id"], RUNNING, job["worker_id"])
            if job["attempts"] >= MAX_ATTEMPTS:
                moved_row = conn.execute(
                    "UPDATE learn_jobs SET status = ?, finished_at = ?, error_code = ?, error_message = ?"
                    " WHERE job_id = ? AND status = ? AND worker_id = ? RETURNING job_id",
                    (FAILED, now, "worker_lost", f"the workers holding this job stopped "
                     f"{job['attempts']} times without finishing it", *held)).fetchone()
            else:
                moved_row = conn.execute(
                    "UPDATE learn_jobs SET status = ?, worker_id = NULL, started_at = NULL"
                    " WHERE job_id = ? AND status = ? AND worker_id = ? RETURNING job_id",
                    (QUEUED, *held)).fetchone()
            if moved_row is not None:
                moved.append(job["job_id"])
    return moved


def jobs_of_run(conn: sqlite3.Connection, run_id: str) -> list[LearnJob]:
    return [LearnJob.from_row(r) for r in conn.execute(
        "SELECT * FROM learn_jobs WHERE run_id = ? ORDER BY seq DESC LIMIT 50", (run_id,))]


def jobs_of_experiment(conn: sqlite3.Connection, experiment_id: str) -> list[LearnJob]:
    return [LearnJob.from_row(r) for r in conn.execute(
        "SELECT * FROM learn_jobs WHERE experiment_id = ? ORDER BY seq DESC LIMIT 50", (experiment_id,))]


def get_job(conn: sqlite3.Connection, job_id: str) -> LearnJob:
    row = conn.execute("SELECT * FROM learn_jobs WHERE job_id = ?", (job_id,)).fetchone()
    if row is None:
        raise NotFound(f"learn job {job_id!r} does not exist", {"job_id": job_id})
    return LearnJob.from_row(row)


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {r["status"]: r["n"] for r in conn.execute(
        "SELECT status, COUNT(*) AS n FROM learn_jobs GROUP BY status")}


def is_learnable_run(dry_run: bool, run_status: str) -> bool:
    return not dry_run and run_status == st.COMPLETED
