"""Deep queues: the worker's cost per iteration and the API's writes with 0, 10,000 and 100,000 queued runs.

For each depth, a fresh database gets 2 × ``--iterations`` queued dry runs
at the head and ``depth`` more behind them (in bulk, through ``store``). Then:

1. In process (no HTTP): the worker's bookkeeping per iteration, i.e.
   ``cancel_queued_runs`` with nothing pending and with one fresh cancel
   request, and ``claim_next_run``; then ``run_once`` executing a dry run
   (bookkeeping plus the run itself). Medians over ``--iterations``.
2. Real processes: gunicorn + the worker on the same file; wrk posts dry-run
   batches from 8 clients for ``--seconds`` while the worker executes the
   queue. Reports requests/s and p99, and the gap between one run's end and
   the next run's start from the runs' own timestamps: how long a run at the
   head of the queue waits for the worker (its queue latency once it is next).

Needs wrk (Debian: ``apt-get install wrk``).
Usage: python -m bench.deep_queue [--depths 0,10000,100000] [--seconds 10] [--iterations 200]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench.api_load import POST, run_wrk
from bench.common import machine, summary
from core.settings import load_run_settings, load_worker_settings
from store import cancels, runs
from store.db import Database
from store.migrations import migrate
from tests.processes import ServiceProcesses, wait_until
from tests.store_helpers import queued_runs
from worker.loop import Worker


def _timed(function, repeats: int) -> dict:
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        durations.append((time.perf_counter() - started) * 1000)
    return summary(durations, 3)


def in_process(path: str, iterations: int, queued: list[str]) -> dict:
    database = Database(path)
    conn = database.connection()
    worker = Worker(database, load_worker_settings(), load_run_settings())
    worker.start()
    try:
        last = iter(reversed(queued))  # the newest runs, behind the whole queue

        def cancel_one_then_apply():
            cancels.request_run_cancel(conn, next(last), "bench", time.time())
            runs.cancel_queued_runs(conn, time.time())

        result = {
            "cancel_check_idle_ms": _timed(lambda: runs.cancel_queued_runs(conn, time.time()), iterations),
            "cancel_one_request_ms": _timed(cancel_one_then_apply, iterations),
            "run_once_dry_run_ms": _timed(worker.run_once, iterations),
        }
    finally:
        worker.shutdown()
    return result


def with_processes(tmp: Path, seconds: int) -> dict:
    svc = ServiceProcesses(tmp, {"C2XC_WORKER_POLL_S": "0.5", "C2XC_WORKER_HEARTBEAT_S": "2",
                                 "C2XC_WORKER_STALE_S": "10", "C2XC_LOG_LEVEL": "WARNING"})
    try:
        svc.start_api()
        svc.start_worker()
        wait_until(lambda: svc.get("/system/worker").json()["worker"]["running"], 30,
                   message="the worker")
        load = run_wrk(f"{svc.base_url}/batches", POST, 8, seconds, tmp)
    finally:
        svc.stop_all()
    conn = Database(svc.db_path).connection()
    finished, cursor = [], None
    while True:
        page, cursor, more = runs.list_runs(conn, batch_id=None, status="completed", limit=200, cursor=cursor)
        finished += [(r.started_at, r.finished_at) for r in page]
        if not more:
            break
    finished.sort()
    gaps = [(nxt[0] - prev[1]) * 1000 for prev, nxt in zip(finished, finished[1:])]
    return {"post_batches": load, "runs_completed": len(finished),
            "gap_between_runs_ms": summary(gaps, 3) if gaps else None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depths", default="0,10000,100000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    report = {"machine": machine(), "depths": {}}
    for depth in [int(d) for d in args.depths.split(",")]:
        with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
            tmp = Path(tmp)
            path = str(tmp / "service.db")
            os.environ["C2XC_SQLITE_PATH"] = path
            conn = Database(path).connection()
            migrate(conn)
            # 2 × iterations runs at the head (executed, or canceled from the back when the queue
            # is no deeper), then ``depth`` runs behind them.
            queued = queued_runs(conn, 2 * args.iterations + depth)
            point = {"in_process": in_process(path, args.iterations, queued)}
            point["processes"] = with_processes(tmp, args.seconds)
            report["depths"][depth] = point
    depths = list(report["depths"])
    base = report["depths"][depths[0]]
    report["ratios_to_shallowest"] = {
        depth: {
            "cancel_check_idle": round(p["in_process"]["cancel_check_idle_ms"]["median"]
                                       / base["in_process"]["cancel_check_idle_ms"]["median"], 2),
            "post_p99": round(p["processes"]["post_batches"]["p99_ms"]
                              / base["processes"]["post_batches"]["p99_ms"], 2),
            "gap_between_runs": round(p["processes"]["gap_between_runs_ms"]["median"]
                                      / base["processes"]["gap_between_runs_ms"]["median"], 2),
        } for depth, p in report["depths"].items()}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
