"""Benchmarks 4 and 6: dry runs completed per second by one worker, and its peak memory.

Queues ``--runs`` dry runs (``recipes_per_run=3``) through ``store``, then
starts one worker process and measures the time from its first claim to the
last finish (``started_at``/``finished_at`` in the store), and the worker's
peak RSS (VmHWM).

Usage: python -m bench.dry_run_throughput [--runs 1000] [--repeats 3]
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

from bench.common import machine, process_peak_rss_mb, summary
from store.db import connect
from store.migrations import migrate
from tests.store_helpers import queue_batch

REPO = Path(__file__).resolve().parents[1]


def one_round(n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
        path = os.path.join(tmp, "dry.db")
        conn = connect(path)
        migrate(conn)
        for _ in range(0, n, 5):
            queue_batch(conn, 5, recipes_per_run=3)
        env = {**os.environ, "C2XC_SQLITE_PATH": path, "C2XC_LOG_LEVEL": "WARNING"}
        worker = subprocess.Popen([sys.executable, "-m", "worker"], cwd=REPO, env=env)
        peak = 0.0
        while conn.execute("SELECT COUNT(*) FROM runs WHERE status IN ('queued', 'running')"
                           ).fetchone()[0]:
            peak = max(peak, process_peak_rss_mb(worker.pid))
            time.sleep(0.1)
        peak = max(peak, process_peak_rss_mb(worker.pid))
        worker.terminate()
        worker.wait(30)
        first, last, done = conn.execute(
            "SELECT MIN(started_at), MAX(finished_at), SUM(status = 'completed') FROM runs").fetchone()
        conn.close()
        assert done == n, f"only {done} of {n} runs completed"
        return n / (last - first), peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rates, peaks = zip(*(one_round(args.runs) for _ in range(args.repeats)), strict=True)
    print(json.dumps({"machine": machine(), "runs": args.runs, "recipes_per_run": 3,
                      "dry_runs_per_s": summary(list(rates), 1),
                      "worker_peak_rss_mb": summary(list(peaks), 1)}, indent=2))


if __name__ == "__main__":
    main()
