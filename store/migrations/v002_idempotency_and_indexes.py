"""v2: Idempotency-Key records, and the indexes the list endpoints filter on."""
VERSION = 2
DESCRIPTION = "idempotency_keys; indexes on events (run, order, type) and batch/run status"

STATEMENTS = (
    """
    CREATE TABLE idempotency_keys (
        idem_key        TEXT PRIMARY KEY,
        request_hash    TEXT NOT NULL,
        response_status INTEGER NOT NULL,
        response_json   TEXT NOT NULL,
        batch_id        TEXT NOT NULL REFERENCES batches(batch_id),
        created_at      REAL NOT NULL,
        expires_at      REAL NOT NULL
    )
    """,
    "CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at)",
    "CREATE INDEX events_by_run ON events (run_id, seq)",
    "CREATE INDEX events_by_run_type ON events (run_id, event_type, seq)",
    "CREATE INDEX batches_by_status ON batches (status, seq)",
    "CREATE INDEX runs_by_status ON runs (status, seq)",
)
