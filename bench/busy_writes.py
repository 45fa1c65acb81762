"""Writes under a busy worker: POST /batches from 8 clients, worker stopped vs executing.

Each repeat uses a fresh database. Phase *stopped*: gunicorn alone, wrk posts
dry-run batches for ``--seconds`` (they stay queued). Phase *busy*: gunicorn
again plus the worker, which executes the queued dry runs back to back while
wrk posts for ``--seconds`` more; the queue must still hold runs at the end,
so the worker was busy throughout. Every process records its write
transactions (``C2XC_LOCK_STATS_DIR``, see ``store/lock_stats.py``): who held
the lock, for how long, and how long API writers waited for it.

Needs wrk (Debian: ``apt-get install wrk``).
Usage: python -m bench.busy_writes [--seconds 10] [--repeats 2] [--connections 8]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.api_load import POST, run_wrk
from bench.common import machine
from tests.processes import ServiceProcesses, wait_until


def lock_report(folder: Path) -> dict:
    """Per program (gunicorn, worker): each store function's lock waits and holds."""
    report: dict = {}
    for path in sorted(folder.glob("locks-*.json")):
        data = json.loads(path.read_text())
        program = "worker" if "worker" in data["program"] else "api"
        for caller, stats in data["callers"].items():
            report.setdefault(program, {}).setdefault(caller, []).append(stats)
    return report


def one_repeat(tmp: Path, seconds: int, connections: int) -> dict:
    env = {"C2XC_WORKER_POLL_S": "0.5", "C2XC_WORKER_HEARTBEAT_S": "2", "C2XC_WORKER_STALE_S": "10",
           "C2XC_LOG_LEVEL": "WARNING"}
    result = {}
    svc = ServiceProcesses(tmp, {**env, "C2XC_LOCK_STATS_DIR": str(tmp / "locks-stopped")})
    try:
        svc.start_api()
        result["stopped"] = run_wrk(f"{svc.base_url}/batches", POST, connections, seconds, tmp)
    finally:
        svc.stop_all()
    svc = ServiceProcesses(tmp, {**env, "C2XC_LOCK_STATS_DIR": str(tmp / "locks-busy")})
    try:
        svc.start_api()
        svc.start_worker()
        wait_until(lambda: svc.get("/system/worker").json()["queue"]["runs_by_status"].get("completed"),
                   60, message="the worker to start executing")
        result["busy"] = run_wrk(f"{svc.base_url}/batches", POST, connections, seconds, tmp)
        queue = svc.get("/system/worker").json()["queue"]["runs_by_status"]
        result["busy"]["queued_at_end"] = queue.get("queued", 0)
        result["busy"]["completed_at_end"] = queue.get("completed", 0)
        if not queue.get("queued"):
            raise SystemExit("the queue ran dry during the busy phase: use more --seconds")
    finally:
        svc.stop_all()
    result["ratios"] = {
        "p99_busy_over_stopped": round(result["busy"]["p99_ms"] / result["stopped"]["p99_ms"], 2),
        "throughput_busy_over_stopped": round(result["busy"]["requests_per_s"]
                                              / result["stopped"]["requests_per_s"], 2)}
    result["locks"] = {"stopped": lock_report(tmp / "locks-stopped"), "busy": lock_report(tmp / "locks-busy")}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    repeats = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
            repeats.append(one_repeat(Path(tmp), args.seconds, args.connections))
    print(json.dumps({
        "machine": machine(), "seconds": args.seconds, "connections": args.connections,
        "median_p99_ratio": statistics.median(r["ratios"]["p99_busy_over_stopped"] for r in repeats),
        "median_throughput_ratio": statistics.median(r["ratios"]["throughput_busy_over_stopped"]
                                                     for r in repeats),
        "repeats": repeats}, indent=1))


if __name__ == "__main__":
    main()
