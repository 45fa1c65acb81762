"""Retention under load: prune 990,000 events while the API takes writes from 8 clients.

A database with 105 finished runs and 1,000,000 events (100 runs finished 40
days ago hold 990,000 of them); gunicorn serves it (no worker). wrk posts
dry batches from 8 connections for ``--seconds`` before the prune (the
baseline) and again while ``c2xc-admin prune --older-than-days 30`` runs in
its own process. Reports the prune's transactions (median, p99, longest: how
long it held the write lock each time), the API's waits for the lock and
its p99 in both phases (``C2XC_LOCK_STATS_DIR``), and the file size before
and after.

Needs wrk (Debian: ``apt-get install wrk``).
Usage: python -m bench.retention [--seconds 10]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.api_load import POST, run_wrk
from bench.busy_writes import lock_report
from bench.common import machine
from store.db import Database
from store.migrations import migrate
from tests.processes import REPO, ServiceProcesses
from tests.store_helpers import bulk_events, completed_runs


def _build(path: Path) -> None:
    conn = Database(str(path)).connection()
    migrate(conn)
    old = completed_runs(conn, 100, recipes_per_run=1)
    recent = completed_runs(conn, 5, recipes_per_run=1)
    long_ago = time.time() - 40 * 86400
    conn.executemany("UPDATE runs SET finished_at = ? WHERE run_id = ?", [(long_ago, r) for r in old])
    bulk_events(conn, old, 9_900, long_ago)
    bulk_events(conn, recent, 2_000, time.time())
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _api_waits(folder: Path) -> dict:
    stats = lock_report(folder).get("api", {}).get("batch_creation.create_batch", [])
    return {"wait_ms_p99": [s["wait_ms"]["p99"] for s in stats], "wait_ms_max": [s["wait_ms"]["max"] for s in stats]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    report = {"machine": machine()}
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
        tmp = Path(tmp)
        started = time.monotonic()
        _build(tmp / "service.db")
        report["build_s"] = round(time.monotonic() - started, 1)
        report["bytes_before"] = (tmp / "service.db").stat().st_size
        for phase in ("baseline", "during_prune"):
            svc = ServiceProcesses(tmp, {"C2XC_LOG_LEVEL": "WARNING", "C2XC_LOCK_STATS_DIR": str(tmp / phase)})
            prune = None
            try:
                svc.start_api()
                if phase == "during_prune":
                    prune = subprocess.Popen([sys.executable, "-m", "store.admin", "--db", svc.db_path, "prune",
                                              "--older-than-days", "30"], cwd=REPO, stdout=subprocess.PIPE,
                                             text=True)
                report[phase] = {"post_batches": run_wrk(f"{svc.base_url}/batches", POST, 8, args.seconds, tmp)}
                if prune is not None:
                    report["prune"] = json.loads(prune.communicate(timeout=600)[0])
            finally:
                svc.stop_all()
            report[phase]["api_lock"] = _api_waits(tmp / phase)
        report["bytes_after"] = (tmp / "service.db").stat().st_size
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
