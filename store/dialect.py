"""Every statement whose text differs between SQLite and PostgreSQL, by name, in one place.

The rest of the store is shared SQL (``?`` placeholders, ``ON CONFLICT``,
``RETURNING``, which both speak). What differs is of three kinds:

* **Row locks.** SQLite runs one write transaction at a time, so a read
  inside it cannot be overtaken; PostgreSQL runs them side by side under
  READ COMMITTED, where a check followed by a write can be. Where the store
  needs "nobody else may change this until I commit" it takes a named lock
  statement: ``SELECT … FOR UPDATE`` on PostgreSQL, nothing on SQLite
  (``None``), whose ``BEGIN IMMEDIATE`` already holds every row.
* **Claims** add ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so racing
  workers skip each other's candidate instead of queueing behind it.
* **Engine facilities**: the change counter a waiting stream watches, the
  database's clock, the request search index (FTS5 trigram / pg_trgm).
"""
from __future__ import annotations

from typing import Any

SQLITE, POSTGRES = "sqlite", "postgres"

# The oldest queued run with no cancel request naming it or its batch.
_CLAIM_RUN = (
    "UPDATE runs SET status = ?, started_at = ?, worker_id = ? WHERE seq = ("
    " SELECT r.seq FROM runs r WHERE r.status = ? AND NOT EXISTS (SELECT 1 FROM cancel_requests c"
    " WHERE c.target_id IN (r.run_id, r.batch_id)) ORDER BY r.seq LIMIT 1{lock}) AND status = ?"
    " RETURNING run_id, batch_id, run_index"
)
_CLAIM_LEARN_JOB = (
    "UPDATE learn_jobs SET status = ?, worker_id = ?, started_at = ?, attempts = attempts + 1"
    " WHERE seq = (SELECT seq FROM learn_jobs WHERE status = ? ORDER BY seq LIMIT 1{lock})"
    " AND status = ? RETURNING *"
)
_SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"

STATEMENTS: dict[str, dict[str, str | None]] = {
    "claim_run": {SQLITE: _CLAIM_RUN.format(lock=""), POSTGRES: _CLAIM_RUN.format(lock=_SKIP_LOCKED)},
    "claim_learn_job": {SQLITE: _CLAIM_LEARN_JOB.format(lock=""),
                        POSTGRES: _CLAIM_LEARN_JOB.format(lock=_SKIP_LOCKED)},
    "pending_cancels": {
        SQLITE: "SELECT seq, target_type, target_id, reason FROM cancel_requests"
                " WHERE handled_at IS NULL ORDER BY seq LIMIT ?",
        POSTGRES: "SELECT seq, target_type, target_id, reason FROM cancel_requests"
                  " WHERE handled_at IS NULL ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED",
    },
    # A batch's roll-up is recomputed by whoever changes one of its runs; two workers
    # finishing its last two runs must count each other's, so the second waits for the first.
    "lock_batch": {SQLITE: None, POSTGRES: "SELECT 1 FROM batches WHERE batch_id = ? FOR UPDATE"},
    # Feedback replacement and learn-job queueing for one run happen one at a time.
    "lock_run": {SQLITE: None, POSTGRES: "SELECT 1 FROM runs WHERE run_id = ? FOR UPDATE"},
    # An experiment's edits apply one after the other, each checking the version the last one left.
    "lock_experiment": {SQLITE: None, POSTGRES: "SELECT 1 FROM experiments WHERE experiment_id = ? FOR UPDATE"},
    # A plan is accepted once: the second accept waits for the first and finds it accepted.
    "lock_plan": {SQLITE: None, POSTGRES: "SELECT 1 FROM plans WHERE plan_id = ? FOR UPDATE"},
    # An append holds the run (shared) so the run cannot end between the owner check and the insert.
    "owned_running_run": {
        SQLITE: "SELECT 1 FROM runs WHERE run_id = ? AND status = 'running' AND worker_id = ?",
        POSTGRES: "SELECT 1 FROM runs WHERE run_id = ? AND status = 'running' AND worker_id = ?"
                  " FOR SHARE",
    },
    "owned_running_job": {
        SQLITE: "SELECT 1 FROM learn_jobs WHERE job_id = ? AND status = ? AND worker_id = ?",
        POSTGRES: "SELECT 1 FROM learn_jobs WHERE job_id = ? AND status = ? AND worker_id = ?"
                  " FOR UPDATE",
    },
    "lock_idempotency_key": {SQLITE: None,
                             POSTGRES: "SELECT pg_advisory_xact_lock(hashtext(?))"},
    # A memory change and a learn commit serialise on the bank (their deltas read then write it).
    "lock_memory_bank": {SQLITE: None,
                         POSTGRES: "SELECT pg_advisory_xact_lock(hashtext('c2xc.memory_bank'))"},
    # Something another connection committed may concern a waiting stream: SQLite's counter in
    # shared memory; on PostgreSQL the newest event (one step down the primary key).
    "change_marker": {SQLITE: "PRAGMA data_version",
                      POSTGRES: "SELECT coalesce(max(seq), 0) FROM events"},
    "database_now": {SQLITE: None, POSTGRES: "SELECT extract(epoch FROM clock_timestamp())::float8"},
    # GET /batches?q= of three or more characters: an index search on either engine.
    "batch_search_indexed": {
        SQLITE: "seq IN (SELECT rowid FROM batches_fts WHERE batches_fts MATCH ?)",
        POSTGRES: "user_request ILIKE ? ESCAPE '\\'",
    },
    "batch_search_walk": {SQLITE: "user_request LIKE ? ESCAPE '\\'",
                          POSTGRES: "user_request ILIKE ? ESCAPE '\\'"},
    "schema_version": {SQLITE: "PRAGMA user_version",
                       POSTGRES: "SELECT coalesce((SELECT value::int FROM meta"
                                 " WHERE key = 'schema_version'), 0)"},
}


def name_of(conn: Any) -> str:
    return getattr(conn, "dialect", SQLITE)


def sql(conn: Any, name: str) -> str | None:
    """The text of statement ``name`` for this connection's engine (None: not needed there)."""
    return STATEMENTS[name][name_of(conn)]


def equals(conn: Any, column: str, *, use_index: bool) -> str:
    """``column = ?``; with ``use_index=False``, checked row by row instead of through its index.

    SQLite's planner may pick a worse index for a filter when a better one
    serves the query (the trigram search, a memory's ops); a unary ``+`` on
    the column hides its index. PostgreSQL costs its choices and has no such
    hint (``+`` on text is an error there), so it always gets the plain test.
    """
    hidden = not use_index and name_of(conn) == SQLITE
    return f"{'+' if hidden else ''}{column} = ?"


def lock(conn: Any, name: str, *params: Any) -> None:
    """Take the named row lock where the engine needs one (a no-op on SQLite)."""
    statement = sql(conn, name)
    if statement is not None:
        conn.execute(statement, params).fetchall()


def is_postgres(conn: Any) -> bool:
    return name_of(conn) == POSTGRES
