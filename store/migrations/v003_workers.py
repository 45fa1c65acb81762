"""v3: worker registry and heartbeats (liveness, reconcile, /system/worker)."""
VERSION = 3
DESCRIPTION = "workers: id, pid, host, heartbeat, current run, startup reconcile count"

STATEMENTS = (
    """
    CREATE TABLE workers (
        worker_id               TEXT PRIMARY KEY,
        pid                     INTEGER NOT NULL,
        host                    TEXT NOT NULL,
        started_at              REAL NOT NULL,
        heartbeat_at            REAL NOT NULL,
        stopped_at              REAL,
        current_run_id          TEXT,
        poll_interval_s         REAL NOT NULL,
        reconciled_running_runs INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX workers_by_heartbeat ON workers (heartbeat_at)",
)
