"""v8: lab memory — items, their vectors, deltas with before/after, learn jobs, exposures.

SPEC section 12. Everything memory is lives in this one database, so a learn
job or a rollback commits its items, their vectors and its delta in one
transaction (the seed's product kept memory text in a second store and could
not undo a half-applied change).

* ``memory_items``: one row per memory; never deleted (archived instead).
  Text is bounded; ``kind``/``role``/``polarity``/``status`` are CHECKed.
* ``memory_vectors``: derived data, one per *active* item, stamped with the
  embedder (model and dimension) that computed it; a rollback that archives
  an added item deletes its vector, so retrieval cannot see it.
* ``memory_deltas`` + ``memory_delta_ops``: every change to the bank (a learn
  job's, a chemist's) with each touched item's full before and after state,
  vectors included, so a rollback restores the exact before-state. At most one
  *applied* learn delta per run (partial unique index): re-learning rolls the
  previous one back in the same transaction.
* ``learn_jobs``: queued by ``PUT /runs/{id}/feedback`` in the feedback's own
  transaction, claimed by the worker before runs, leased like runs.
* ``memory_exposures`` / ``memory_citations``: which run and node was shown
  which memory with which score, and which runs cited it.
* ``run_feedback.version``: every save of a run's feedback counts up, so a
  learn job knows which feedback it learns from; existing feedback is version
  1 and gets a learn job, so what the lab already measured enters memory.
"""
from store.migrations.postgres_ddl import translate_all

VERSION = 8
DESCRIPTION = ("memory_items, memory_vectors, memory_deltas, memory_delta_ops, learn_jobs, "
               "memory_exposures, memory_citations; run_feedback.version")

ITEM_STATUS = "CHECK (status IN ('active', 'archived'))"
KINDS = "CHECK (kind IN ('lab_result', 'lesson', 'note'))"
ROLES = "CHECK (role IN ('global', 'orchestrator', 'tio2_expert', 'mof_expert'))"
POLARITIES = "CHECK (polarity IN ('prefer', 'avoid', 'neutral'))"

STATEMENTS = (
    f"""
    CREATE TABLE memory_items (
        seq              INTEGER PRIMARY KEY,
        memory_id        TEXT NOT NULL UNIQUE,
        status           TEXT NOT NULL {ITEM_STATUS},
        kind             TEXT NOT NULL {KINDS},
        role             TEXT NOT NULL {ROLES},
        polarity         TEXT NOT NULL {POLARITIES},
        title            TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        content          TEXT NOT NULL CHECK (length(content) BETWEEN 1 AND 4000),
        recipe_json      TEXT,
        outcome_json     TEXT,
        source_run_id    TEXT REFERENCES runs(run_id),
        feedback_version INTEGER,
        support_run_ids_json TEXT NOT NULL,
        contra_run_ids_json  TEXT NOT NULL,
        created_at       REAL NOT NULL,
        updated_at       REAL NOT NULL,
        schema_version   INTEGER NOT NULL,
        extra_json       TEXT NOT NULL
    )
    """,
    # every filter of GET /memories walks an index in page order (newest first), never the table
    "CREATE INDEX memory_items_by_status ON memory_items (status, seq)",
    "CREATE INDEX memory_items_by_kind ON memory_items (kind, seq)",
    "CREATE INDEX memory_items_by_role ON memory_items (role, seq)",
    "CREATE INDEX memory_items_by_polarity ON memory_items (polarity, seq)",
    "CREATE INDEX memory_items_by_source_run ON memory_items (source_run_id)",
    """
    CREATE TABLE memory_vectors (
        memory_id TEXT PRIMARY KEY REFERENCES memory_items(memory_id),
        embedder  TEXT NOT NULL,
        dim       INTEGER NOT NULL CHECK (dim > 0),
        vector    BLOB NOT NULL CHECK (length(vector) = 4 * dim)
    )
    """,
    """
    CREATE TABLE memory_deltas (
        seq              INTEGER PRIMARY KEY,
        delta_id         TEXT NOT NULL UNIQUE,
        source           TEXT NOT NULL CHECK (source IN ('learn', 'manual')),
        status           TEXT NOT NULL CHECK (status IN ('applied', 'rolled_back')),
        run_id           TEXT REFERENCES runs(run_id),
        feedback_version INTEGER,
        job_id           TEXT,
        summary          TEXT NOT NULL,
        created_at       REAL NOT NULL,
        rolled_back_at   REAL,
        rolled_back_why  TEXT,
        CHECK ((status = 'rolled_back') = (rolled_back_at IS NOT NULL))
    )
    """,
    "CREATE UNIQUE INDEX memory_deltas_one_applied_learn_per_run ON memory_deltas (run_id)"
    " WHERE source = 'learn' AND status = 'applied'",
    "CREATE INDEX memory_deltas_by_run ON memory_deltas (run_id, seq)",
    "CREATE INDEX memory_deltas_by_status ON memory_deltas (status, seq)",
    """
    CREATE TABLE memory_delta_ops (
        delta_id      TEXT NOT NULL REFERENCES memory_deltas(delta_id),
        delta_seq     INTEGER NOT NULL,
        position      INTEGER NOT NULL CHECK (position >= 0),
        memory_id     TEXT NOT NULL REFERENCES memory_items(memory_id),
        op            TEXT NOT NULL CHECK (op IN ('add', 'update')),
        before_json   TEXT,
        after_json    TEXT NOT NULL,
        before_vector BLOB,
        after_vector  BLOB,
        PRIMARY KEY (delta_id, position),
        CHECK ((op = 'add') = (before_json IS NULL))
    )
    """,
    "CREATE INDEX memory_delta_ops_by_memory ON memory_delta_ops (memory_id, delta_seq)",
    """
    CREATE TABLE learn_jobs (
        seq              INTEGER PRIMARY KEY,
        job_id           TEXT NOT NULL UNIQUE,
        run_id           TEXT NOT NULL REFERENCES runs(run_id),
        feedback_version INTEGER NOT NULL,
        reason           TEXT NOT NULL CHECK (reason IN ('feedback', 'manual', 'migration')),
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
        notes_json       TEXT NOT NULL DEFAULT '{}'
    )
    """,
    "CREATE INDEX learn_jobs_queued ON learn_jobs (seq) WHERE status = 'queued'",
    "CREATE INDEX learn_jobs_running ON learn_jobs (worker_id) WHERE status = 'running'",
    "CREATE INDEX learn_jobs_by_run ON learn_jobs (run_id, seq)",
    """
    CREATE TABLE memory_exposures (
        seq        INTEGER PRIMARY KEY,
        run_id     TEXT NOT NULL REFERENCES runs(run_id),
        alias      TEXT NOT NULL,
        memory_id  TEXT NOT NULL REFERENCES memory_items(memory_id),
        node_id    TEXT,
        role       TEXT NOT NULL,
        via        TEXT NOT NULL CHECK (via IN ('context', 'search')),
        score      REAL NOT NULL,
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX memory_exposures_by_run ON memory_exposures (run_id, seq)",
    "CREATE INDEX memory_exposures_by_memory ON memory_exposures (memory_id, seq)",
    """
    CREATE TABLE memory_citations (
        memory_id TEXT NOT NULL REFERENCES memory_items(memory_id),
        run_id    TEXT NOT NULL REFERENCES runs(run_id),
        alias     TEXT NOT NULL,
        PRIMARY KEY (memory_id, run_id)
    )
    """,
    "CREATE INDEX memory_citations_by_run ON memory_citations (run_id)",
    "ALTER TABLE run_feedback ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
    # what the lab measured before this version enters memory too (dry runs are never learned)
    """
    INSERT INTO learn_jobs (job_id, run_id, feedback_version, reason, status, created_at)
    SELECT 'learn_' || lower(hex(randomblob(16))), f.run_id, 1, 'migration', 'queued',
           CAST(strftime('%s', 'now') AS REAL)
    FROM run_feedback f JOIN runs r ON r.run_id = f.run_id
    JOIN batches b ON b.batch_id = r.batch_id WHERE b.dry_run = 0 ORDER BY f.updated_at
    """,
)

# PostgreSQL: the same tables; the learn jobs for earlier feedback with its own id and clock.
POSTGRES = (
    *translate_all(STATEMENTS[:-1]),
    """
    INSERT INTO learn_jobs (job_id, run_id, feedback_version, reason, status, created_at)
    SELECT 'learn_' || replace(gen_random_uuid()::text, '-', ''), f.run_id, 1, 'migration',
           'queued', extract(epoch FROM now())
    FROM run_feedback f JOIN runs r ON r.run_id = f.run_id
    JOIN batches b ON b.batch_id = r.batch_id WHERE b.dry_run = 0 ORDER BY f.updated_at
    """,
)
