"""How long moving a lab's SQLite database to PostgreSQL takes (``c2xc-admin copy-to``).

Builds a SQLite database with ``--events`` trace events (over 100 completed runs with outputs),
starts a throwaway PostgreSQL cluster with its default durability (fsync on), copies into a new
database through the command a lab would run, and reports the wall time, rows per second and
the size of the source file.

Usage: python -m bench.copy_to [--events 100000]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine
from store.db import Database
from store.migrations import migrate
from tests.postgres_server import PostgresCluster
from tests.processes import REPO
from tests.store_helpers import bulk_events, completed_runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lab.db"
        conn = Database(str(path)).connection()
        migrate(conn)
        run_ids = completed_runs(conn, 100, recipes_per_run=3)
        bulk_events(conn, run_ids, args.events // len(run_ids), time.time())
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        cluster = PostgresCluster(durable=True).start()
        try:
            name = cluster.create_database()
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "store.admin", "--db", str(path), "copy-to",
                                   cluster.url(name)], cwd=REPO, capture_output=True, text=True, timeout=3600)
            seconds = time.monotonic() - started
            assert done.returncode == 0, done.stderr
            report = json.loads(done.stdout)
        finally:
            cluster.stop()
    print(json.dumps({"machine": machine(), "events": args.events, "rows": report["rows"],
                      "sqlite_mb": round(size / 2**20, 1),
                      "seconds": round(seconds, 1), "rows_per_s": round(report["rows"] / seconds),
                      "verified": report["verified"]}, indent=1))


if __name__ == "__main__":
    main()
