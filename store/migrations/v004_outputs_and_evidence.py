"""v4: run outputs and the evidence registry (one row per cited alias).

Both are written by the worker alongside the events that announce them, so the
API can serve ``/output`` and ``/evidence`` without decoding any event payload.
"""
VERSION = 4
DESCRIPTION = "run_outputs, evidence"

STATEMENTS = (
    """
    CREATE TABLE run_outputs (
        run_id          TEXT PRIMARY KEY REFERENCES runs(run_id),
        recipes_json    TEXT NOT NULL,
        citations_json  TEXT NOT NULL,
        memory_ids_json TEXT NOT NULL,
        created_at      REAL NOT NULL
    )
    """,
    """
    CREATE TABLE evidence (
        seq               INTEGER PRIMARY KEY,
        run_id            TEXT NOT NULL REFERENCES runs(run_id),
        alias             TEXT NOT NULL,
        ref               TEXT NOT NULL,
        source            TEXT NOT NULL,
        kb_namespace      TEXT NOT NULL,
        lightrag_chunk_id TEXT NOT NULL,
        content           TEXT NOT NULL,
        created_at        REAL NOT NULL,
        UNIQUE (run_id, alias)
    )
    """,
)
