"""Learning queued by hand: ``POST /runs/{id}/learn`` and ``POST /experiments/{id}/learn``.

Both name a learning subject — an experiment (a run's feedback is the
experiment of the recipe it names) — and queue a learn job for it as it is
now. What was learned already is not learned again: asking for a version
that is learned answers with the job that learned it and queues nothing
(SPEC 12: one learn per feedback version). After a rollback the subject has
nothing applied, so asking again learns it again.
"""
from __future__ import annotations

import sqlite3

from core.errors import Conflict, NotFound
from store import learn_jobs
from store.db import write_transaction
from store.experiments import get_experiment


def _queue(conn: sqlite3.Connection, experiment_id: str, where: dict, now: float) -> learn_jobs.LearnJob:
    experiment = get_experiment(conn, experiment_id)
    found = learn_jobs.learn_input(conn, experiment)
    if found.dry_run:
        raise Conflict("this result belongs to a dry run: its recipes are placeholders, so it is kept "
                       "but never learned from", {**where, "dry_run": True})
    if not found.learnable:
        raise Conflict(f"experiment {experiment_id} has no result to learn from (it is {experiment.status}"
                       f"{', archived' if experiment.archived else ''}); memory learns measured or failed "
                       "experiments", {**where, "status": experiment.status, "archived": experiment.archived})
    job = learn_jobs.queue_in_transaction(conn, experiment, "manual", now)
    assert job is not None  # a learnable result of a normal run always has a job
    return job


def request_run_learning(conn: sqlite3.Connection, run_id: str, now: float) -> learn_jobs.LearnJob:
    """The run's feedback, learned again (or the job that already learned this version)."""
    with write_transaction(conn):
        row = conn.execute("SELECT r.run_id, e.experiment_id FROM runs r LEFT JOIN experiments e"
                           " ON e.feedback_run_id = r.run_id WHERE r.run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist", {"run_id": run_id})
        if row["experiment_id"] is None:
            raise Conflict(f"run {run_id} has no feedback to learn from; record the lab's results "
                           "first (PUT /runs/{run_id}/feedback)", {"run_id": run_id, "feedback": None})
        return _queue(conn, row["experiment_id"], {"run_id": run_id}, now)


def request_experiment_learning(conn: sqlite3.Connection, experiment_id: str,
                                now: float) -> learn_jobs.LearnJob:
    """A measured or failed experiment, learned again (or the job that already learned it)."""
    with write_transaction(conn):
        return _queue(conn, experiment_id, {"experiment_id": experiment_id}, now)
