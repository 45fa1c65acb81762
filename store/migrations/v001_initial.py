"""v1: the core tables — batches, runs, events (payloads apart), cancel requests, meta.

Every table has an integer ``seq`` primary key: it is the keyset for cursors
and the strict append order of events. Public ids are separate unique text
columns so they stay opaque.
"""
VERSION = 1
DESCRIPTION = "batches, runs, events, event payloads, cancel requests, meta"

STATEMENTS = (
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE batches (
        seq                  INTEGER PRIMARY KEY,
        batch_id             TEXT NOT NULL UNIQUE,
        created_at           REAL NOT NULL,
        status               TEXT NOT NULL,
        user_request         TEXT NOT NULL,
        n_runs               INTEGER NOT NULL,
        recipes_per_run      INTEGER NOT NULL,
        temperature          REAL NOT NULL,
        dry_run              INTEGER NOT NULL,
        config_snapshot_json TEXT NOT NULL,
        schema_version       INTEGER NOT NULL,
        extra_json           TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE runs (
        seq           INTEGER PRIMARY KEY,
        run_id        TEXT NOT NULL UNIQUE,
        batch_id      TEXT NOT NULL REFERENCES batches(batch_id),
        run_index     INTEGER NOT NULL,
        status        TEXT NOT NULL,
        created_at    REAL NOT NULL,
        started_at    REAL,
        finished_at   REAL,
        worker_id     TEXT,
        error_code    TEXT,
        error_message TEXT,
        UNIQUE (batch_id, run_index)
    )
    """,
    """
    CREATE TABLE events (
        seq           INTEGER PRIMARY KEY,
        event_id      TEXT NOT NULL UNIQUE,
        run_id        TEXT NOT NULL REFERENCES runs(run_id),
        created_at    REAL NOT NULL,
        event_type    TEXT NOT NULL,
        payload_bytes INTEGER NOT NULL
    )
    """,
    # Payloads live apart so that listing events never reads a payload page.
    """
    CREATE TABLE event_payloads (
        event_seq    INTEGER PRIMARY KEY REFERENCES events(seq),
        payload_json TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE cancel_requests (
        seq         INTEGER PRIMARY KEY,
        cancel_id   TEXT NOT NULL UNIQUE,
        target_type TEXT NOT NULL CHECK (target_type IN ('batch', 'run')),
        target_id   TEXT NOT NULL,
        reason      TEXT,
        created_at  REAL NOT NULL
    )
    """,
    "CREATE INDEX cancel_requests_by_target ON cancel_requests (target_id, seq)",
    "CREATE INDEX runs_by_batch ON runs (batch_id, run_index)",
)
