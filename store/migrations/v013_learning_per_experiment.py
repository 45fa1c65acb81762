"""v13: memory learns from experiments — one subject per measured or failed experiment (SPEC 12, 14).

Until v12 the learning subject was a run's feedback: a learn job, its delta
and the memories it wrote were keyed by ``run_id`` (one applied learn delta
per run). Since v11 a run's feedback *is* an experiment, and a lab result can
also be entered by hand, imported or planned and then measured, with no run
at all. So:

* ``learn_jobs`` gets ``experiment_id`` (the subject) and ``input_hash`` (what
  it learns from, fingerprinted: a job whose input is the one already learned
  is a no-op); ``run_id`` and ``feedback_version`` become optional (an
  imported result has neither), and the reason ``experiment`` is allowed.
  SQLite cannot relax ``NOT NULL`` in place, so the table is rebuilt (nothing
  references it);
* ``memory_deltas`` gets ``experiment_id`` — one applied learn delta per
  *experiment* replaces one per run (a run may have several experiments) —
  and ``undone_by``: the delta whose own ops undid this one on a re-learn, so
  rolling that one back restores this one as applied (an exact rollback);
* ``memory_items`` gets ``source_experiment_id`` and the experiments that
  support or contradict it (``support_run_ids`` stays, as the runs of those).

:func:`backfill` keys everything learned before by the experiment its
feedback became in v11, and adds the new fields to the states the deltas
recorded, so rolling back an old delta writes a whole state.
"""
from __future__ import annotations

import json

VERSION = 13
DESCRIPTION = "learning per experiment"

_LEARN_JOBS = """
    CREATE TABLE learn_jobs{suffix} (
        seq              INTEGER PRIMARY KEY,
        job_id           TEXT NOT NULL UNIQUE,
        experiment_id    TEXT REFERENCES experiments(experiment_id),
        run_id           TEXT REFERENCES runs(run_id),
        feedback_version INTEGER,
        input_hash       TEXT,
        reason           TEXT NOT NULL CHECK (reason IN ('feedback', 'manual', 'migration', 'experiment')),
        status           TEXT NOT NULL CHECK (status IN
                             ('queued', 'running', 'completed', 'failed', 'superseded')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        worker_id        TEXT,
        created_at       REAL NOT NULL,
        started_at       REAL,
        finished_at      REAL,
        error_code       TEXT,
        error_message    TEXT,
        delta_id         TEXT,
        notes_json       TEXT NOT NULL DEFAULT '{{}}'
    )
    """
_JOB_COLUMNS = ("seq, job_id, run_id, feedback_version, reason, status, attempts, worker_id, created_at,"
                " started_at, finished_at, error_code, error_message, delta_id, notes_json")
_INDEXES = (
    "CREATE INDEX learn_jobs_queued ON learn_jobs (seq) WHERE status = 'queued'",
    "CREATE INDEX learn_jobs_running ON learn_jobs (worker_id) WHERE status = 'running'",
    "CREATE INDEX learn_jobs_by_run ON learn_jobs (run_id, seq)",
    "CREATE INDEX learn_jobs_by_experiment ON learn_jobs (experiment_id, seq)",
)
_OTHER_TABLES = (
    "ALTER TABLE memory_deltas ADD COLUMN experiment_id TEXT REFERENCES experiments(experiment_id)",
    "ALTER TABLE memory_deltas ADD COLUMN undone_by TEXT",
    "DROP INDEX memory_deltas_one_applied_learn_per_run",
    "CREATE UNIQUE INDEX memory_deltas_one_applied_learn_per_experiment ON memory_deltas (experiment_id)"
    " WHERE source = 'learn' AND status = 'applied'",
    "CREATE INDEX memory_deltas_by_experiment ON memory_deltas (experiment_id, seq)",
    "CREATE INDEX memory_deltas_undone_by ON memory_deltas (undone_by) WHERE undone_by IS NOT NULL",
    "ALTER TABLE memory_items ADD COLUMN source_experiment_id TEXT REFERENCES experiments(experiment_id)",
    "ALTER TABLE memory_items ADD COLUMN support_experiment_ids_json TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE memory_items ADD COLUMN contra_experiment_ids_json TEXT NOT NULL DEFAULT '[]'",
    "CREATE INDEX memory_items_by_source_experiment ON memory_items (source_experiment_id)",
    "CREATE INDEX experiments_by_smiles ON experiments (canonical_smiles)",  # memories by modifier
)

STATEMENTS = (
    _LEARN_JOBS.format(suffix="_v13"),
    f"INSERT INTO learn_jobs_v13 ({_JOB_COLUMNS}) SELECT {_JOB_COLUMNS} FROM learn_jobs",
    "DROP TABLE learn_jobs",
    "ALTER TABLE learn_jobs_v13 RENAME TO learn_jobs",
    *_INDEXES[:3],  # the old names, dropped with the old table
    _INDEXES[3],
    *_OTHER_TABLES,
)

POSTGRES = (
    "ALTER TABLE learn_jobs ADD COLUMN experiment_id TEXT REFERENCES experiments(experiment_id)",
    "ALTER TABLE learn_jobs ADD COLUMN input_hash TEXT",
    "ALTER TABLE learn_jobs ALTER COLUMN run_id DROP NOT NULL",
    "ALTER TABLE learn_jobs ALTER COLUMN feedback_version DROP NOT NULL",
    "ALTER TABLE learn_jobs DROP CONSTRAINT learn_jobs_reason_check",
    "ALTER TABLE learn_jobs ADD CONSTRAINT learn_jobs_reason_check"
    " CHECK (reason IN ('feedback', 'manual', 'migration', 'experiment'))",
    _INDEXES[3],
    *_OTHER_TABLES,
)

NEW_STATE = ("source_experiment_id", "support_experiment_ids", "contra_experiment_ids")


def _experiment_of_run(conn) -> dict[str, str]:
    return {row[0]: row[1] for row in conn.execute(
        "SELECT feedback_run_id, experiment_id FROM experiments WHERE feedback_run_id IS NOT NULL")}


def _with_experiments(state: dict, by_run: dict[str, str]) -> dict:
    """A state recorded before v13, with the experiment fields its run ids stand for."""
    return {**state,
            "source_experiment_id": by_run.get(state.get("source_run_id") or ""),
            "support_experiment_ids": [by_run[r] for r in state.get("support_run_ids", []) if r in by_run],
            "contra_experiment_ids": [by_run[r] for r in state.get("contra_run_ids", []) if r in by_run]}


def backfill(conn) -> None:
    """Key what was learned per run by the experiment each run's feedback became in v11."""
    by_run = _experiment_of_run(conn)
    for run_id, experiment_id in by_run.items():
        conn.execute("UPDATE learn_jobs SET experiment_id = ? WHERE run_id = ?", (experiment_id, run_id))
        conn.execute("UPDATE memory_deltas SET experiment_id = ? WHERE run_id = ? AND source = 'learn'",
                     (experiment_id, run_id))
    for row in conn.execute("SELECT memory_id, source_run_id, support_run_ids_json, contra_run_ids_json"
                            " FROM memory_items").fetchall():
        state = _with_experiments({"source_run_id": row[1], "support_run_ids": json.loads(row[2]),
                                   "contra_run_ids": json.loads(row[3])}, by_run)
        conn.execute("UPDATE memory_items SET source_experiment_id = ?, support_experiment_ids_json = ?,"
                     " contra_experiment_ids_json = ? WHERE memory_id = ?",
                     (state["source_experiment_id"], json.dumps(state["support_experiment_ids"]),
                      json.dumps(state["contra_experiment_ids"]), row[0]))
    for row in conn.execute("SELECT delta_id, position, before_json, after_json"
                            " FROM memory_delta_ops").fetchall():
        before = json.dumps(_with_experiments(json.loads(row[2]), by_run)) if row[2] else None
        after = json.dumps(_with_experiments(json.loads(row[3]), by_run))
        conn.execute("UPDATE memory_delta_ops SET before_json = ?, after_json = ?"
                     " WHERE delta_id = ? AND position = ?", (before, after, row[0], row[1]))
