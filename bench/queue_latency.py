"""Benchmark 3: time from ``POST /batches`` returning to the run's ``run_started`` event.

Real processes (gunicorn + worker) on 127.0.0.1. Between submissions the
worker is left idle for a random 0.2-1.5 s so its back-off is in effect, as
it would be for a scientist submitting now and then. Also measures the idle
worker's CPU use over 10 s. Run with ``--wake-check 1000`` to see the
behaviour without the data_version wake-up (poll back-off only).

Usage: python -m bench.queue_latency [--samples 30] [--wake-check 0.02]
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from bench.common import machine, process_cpu_seconds, summary
from tests.processes import ServiceProcesses, wait_until


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--wake-check", type=float, default=0.02)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        svc = ServiceProcesses(Path(tmp), {"C2XC_WORKER_POLL_S": "0.5", "C2XC_WORKER_MAX_POLL_S": "2.0",
                                           "C2XC_WORKER_HEARTBEAT_S": "2.0", "C2XC_WORKER_STALE_S": "10",
                                           "C2XC_WORKER_WAKE_CHECK_S": str(args.wake_check)})
        try:
            svc.start_api()
            worker = svc.start_worker()
            wait_until(lambda: svc.get("/system/worker").json()["worker"]["running"], 30)
            time.sleep(2.0)  # let start-up settle before measuring idle CPU
            cpu_start, wall_start = process_cpu_seconds(worker.pid), time.monotonic()
            time.sleep(10.0)
            idle_cpu = (process_cpu_seconds(worker.pid) - cpu_start) / (time.monotonic() - wall_start)
            latencies, from_commit = [], []
            for _ in range(args.samples):
                time.sleep(rng.uniform(0.2, 1.5))
                created = svc.create_batch()
                returned = time.time()
                run_id = created["runs"][0]["run_id"]
                started = wait_until(lambda: next((e for e in svc.all_events(run_id)
                                                   if e["event_type"] == "run_started"), None),
                                     10, interval=0.005)
                latencies.append((started["created_at"] - returned) * 1000)
                from_commit.append((started["created_at"] - created["batch"]["created_at"]) * 1000)
        finally:
            svc.stop_all()
    print(json.dumps({"machine": machine(), "wake_check_s": args.wake_check,
                      "queue_latency_ms_from_post_return": summary(latencies, 1),
                      "queue_latency_ms_from_batch_commit": summary(from_commit, 1),
                      "idle_worker_cpu_share_of_core": round(idle_cpu, 5)}, indent=2))


if __name__ == "__main__":
    main()
