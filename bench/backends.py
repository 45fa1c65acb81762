"""SQLite and PostgreSQL side by side: dry-run throughput, API write p99, queue latency (issue 22).

For each backend and each worker count (1, 2, 4, 8 by default), a fresh
database: gunicorn and N worker processes (each its own ``C2XC_WORKER_HOST``)
start against it; once all N are live, ``--runs`` dry runs (no step delay)
are queued in one transaction, as a lab's backlog would be. While the
workers drain them a paced, open-loop client uses the API as browsers
would: ``--rate`` writes per second (``POST /batches``, one dry run each,
which the workers execute too) and as many reads (``GET /runs?limit=50``).
Then, with the queue empty and the workers idle, ``--latency-samples``
single-run batches are submitted a random 0.2-1.0 s apart and each one's
latency measured from ``POST /batches`` being sent to its ``run_started``
(not from the reply: on PostgreSQL the notification at commit can start the
run before the reply reaches the client).

Throughput is the backlog's runs over the window from its first start to
its last finish. The PostgreSQL server is a throwaway cluster of Debian's
``postgresql`` started here with durable commits (fsync on), so both
backends pay for durability; SQLite runs as shipped (WAL). Every figure is
the median over ``--repeats`` fresh databases.

This proves the plumbing — claims, wake-ups, leases, the database under
concurrent writers — not a model: dry runs make no LLM calls. With a real
model a run's minutes of LLM time dwarf all of this (``bench.many_workers``).

Usage: PYTHONPATH=. python -m bench.backends [--counts 1,2,4,8] [--runs 400] [--repeats 3]
       [--rate 10] [--latency-samples 10] [--backends sqlite,postgres]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import requests

from bench.common import machine, summary
from bench.many_workers import PacedClient
from store import runs
from store.db import open_database
from store.workers import queue_counts
from tests.postgres_server import PostgresCluster
from tests.processes import ServiceProcesses, wait_until
from tests.store_helpers import queued_runs

# The product's idle back-off (not the tests' fast polling): queue latency is what a lab would see.
WORKER_ENV = {"C2XC_WORKER_POLL_S": "0.5", "C2XC_WORKER_MAX_POLL_S": "2.0", "C2XC_WORKER_HEARTBEAT_S": "2",
              "C2XC_WORKER_STALE_S": "15", "C2XC_DRY_RUN_STEP_DELAY_S": "0", "C2XC_LOG_LEVEL": "WARNING"}


class BatchWriter(PacedClient):
    """The paced client, writing what a lab writes most: one new dry-run batch per write."""

    def _write(self, session: requests.Session, n: int) -> requests.Response:
        return session.post(f"{self.base_url}/batches", timeout=30,
                            json={"user_request": f"paced {n}", "dry_run": True})


def _idle_latencies(svc: ServiceProcesses, samples: int, rng: random.Random) -> list[float]:
    latencies = []
    for _ in range(samples):
        time.sleep(rng.uniform(0.2, 1.0))  # idle on purpose: the workers' back-off is what is measured
        sent = time.time()
        run_id = svc.create_batch()["runs"][0]["run_id"]
        started = wait_until(lambda: next((e for e in svc.all_events(run_id, event_type="run_started")),
                                          None), 15, interval=0.005, message="the run to start")
        latencies.append((started["created_at"] - sent) * 1000)
    return latencies


def one_point(workdir: Path, env: dict, count: int, n_runs: int, rate: float, samples: int,
              rng: random.Random) -> dict:
    svc = ServiceProcesses(workdir, {**WORKER_ENV, **env})
    database = open_database(svc.database_target)
    conn = database.connection()
    try:
        svc.start_api()  # migrates the fresh database
        for i in range(count):
            svc.start_worker(env={"C2XC_WORKER_HOST": f"host-{i}"})
        wait_until(lambda: svc.get("/system/worker").json()["worker"]["live_workers"] == count, 120,
                   interval=0.1, message="every worker to register")
        backlog = queued_runs(conn, n_runs)
        with BatchWriter(svc.base_url, rate) as client:
            wait_until(lambda: all(runs.get_run(conn, r).status == "completed" for r in backlog[-50:])
                       and not {"queued", "running"} & set(queue_counts(conn)[0]), 600, interval=0.2,
                       message="the backlog to drain")
        wait_until(lambda: not {"queued", "running"} & set(queue_counts(conn)[0]), 60, interval=0.1,
                   message="the paced writes' runs to finish")
        latencies = _idle_latencies(svc, samples, rng)
        finished = [runs.get_run(conn, r) for r in backlog]
    finally:
        svc.stop_all()
        database.close()
    assert all(r.status == "completed" for r in finished), "a backlog run did not complete"
    window = max(r.finished_at for r in finished) - min(r.started_at for r in finished)
    api = client.report()
    return {"runs_per_s": round(len(finished) / window, 1), "write_p99_ms": api["write"]["p99_ms"],
            "read_p99_ms": api["read"]["p99_ms"], "api_failures": api["failures"],
            "queue_latency_ms": round(statistics.median(latencies), 1)}


def _median_point(points: list[dict]) -> dict:
    return {key: summary([p[key] for p in points], 1)["median"] for key in points[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--counts", default="1,2,4,8")
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=10.0, help="API writes per second, and as many reads")
    parser.add_argument("--latency-samples", type=int, default=10)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    rng = random.Random(22)
    cluster = PostgresCluster(durable=True).start() if "postgres" in args.backends else None
    raw: dict[str, dict[int, list[dict]]] = {b: {c: [] for c in counts} for b in args.backends.split(",")}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # Alternate backends and counts within each repeat, so a noisy minute hits both alike.
            for repeat in range(args.repeats):
                for count in counts:
                    for backend in raw:
                        workdir = Path(tmp) / f"{backend}-{count}-{repeat}"
                        workdir.mkdir()
                        env = {} if backend == "sqlite" else {
                            "C2XC_DATABASE_URL": cluster.url(cluster.create_database())}
                        raw[backend][count].append(one_point(workdir, env, count, args.runs, args.rate,
                                                             args.latency_samples, rng))
    finally:
        if cluster:
            cluster.stop()
    table = {backend: {count: _median_point(points) for count, points in per_count.items()}
             for backend, per_count in raw.items()}
    print(json.dumps({"machine": machine(), "runs": args.runs, "repeats": args.repeats, "rate": args.rate,
                      "medians": table, "raw": raw}, indent=1))


if __name__ == "__main__":
    main()
