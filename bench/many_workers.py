"""Many workers on one database: 1, 2, 4 and 8 worker processes executing normal runs.

The model is the fake OpenAI-compatible server on loopback answering every
chat call after ``--llm-latency`` seconds (default 1 s), as a model that
searches both knowledge bases once and then answers one cited recipe: two
LLM calls per run. Several runs talk to it at once, so it answers by what it
is asked (``FakeOpenAI.respond``), not from a shared script. The knowledge
bases are real LightRAG folders built once from the agent tests' documents.

For each worker count, a fresh database gets ``--runs-per-worker`` × N
normal runs; gunicorn serves the API meanwhile and a paced client uses it as
a lab's browsers would: ``--rate`` writes per second (``POST /products``,
one new name each) and as many reads (``GET /runs?limit=50``), each request
on schedule whatever the last one took (an open loop, so a slow answer
cannot hide the next). Reports runs completed per minute (first start to
last finish), each worker's share, runs not started exactly once (a second
claim writes a second ``run_started``), CPU seconds per run, lock waits and
holds, and the API's p50/p99 while the workers ran.

Usage: python -m bench.many_workers [--counts 1,2,4,8] [--runs-per-worker 6] [--llm-latency 1.0] [--rate 20]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from bench.busy_writes import lock_report
from bench.common import machine, process_cpu_seconds, process_peak_rss_mb
from store import batches, events, runs
from store.db import Database, write_transaction
from store.migrations import migrate
from tests.agent_script import MODULATION_DOCS, ONE_RECIPE, PRINCIPLES_DOCS, search
from tests.fake_openai import FakeOpenAI
from tests.kb_fixtures import build_kb, fake_endpoint_settings
from tests.processes import ServiceProcesses, wait_until


class PacedClient:
    """Requests on a fixed schedule from one thread per kind; latencies in ms, failures counted."""

    def __init__(self, base_url: str, rate: float):
        self.base_url, self.interval = base_url, 1 / rate
        self.stop = threading.Event()
        self.latencies: dict[str, list[float]] = {"write": [], "read": []}
        self.failures = 0
        self._threads = [threading.Thread(target=self._loop, args=(kind,), daemon=True)
                         for kind in self.latencies]

    def _write(self, session: requests.Session, n: int) -> requests.Response:
        """One write: a new product name (a subclass writes what its benchmark needs)."""
        return session.post(f"{self.base_url}/products", json={"name": f"paced {n} {time.time()}"},
                            timeout=30)

    def _request(self, session: requests.Session, kind: str, n: int) -> None:
        started = time.perf_counter()
        if kind == "write":
            reply = self._write(session, n)
        else:
            reply = session.get(f"{self.base_url}/runs", params={"limit": 50}, timeout=30)
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        self.failures += reply.status_code >= 400

    def _loop(self, kind: str) -> None:
        session, n = requests.Session(), 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            self._request(session, kind, n)
            n += 1
            next_at += self.interval
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> "PacedClient":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(30)

    def report(self) -> dict:
        def p(values, q):
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 2)
        return {kind: {"n": len(v), "p50_ms": p(v, 0.5), "p99_ms": p(v, 0.99)}
                for kind, v in self.latencies.items() if v} | {"failures": self.failures}


def two_call_model(latency: float):
    """Search both KBs when nothing was retrieved yet, else answer; each answer after ``latency``."""
    def respond(body: dict) -> dict:
        retrieved = any(m.get("role") == "tool" for m in body.get("messages", []))
        if retrieved:
            return {**ONE_RECIPE, "delay": latency}
        return {"tool_calls": [search("kb_principles", "copper molybdenum ethylene OCCO"),
                               search("kb_modulation", "mercaptobenzoic acid Zr6 CO2")], "delay": latency}
    return respond


def _queue(conn, n: int) -> list[str]:
    with write_transaction(conn):
        created = [batches.insert_batch(conn, user_request="Cu dual-metal TiO2 for C2H4", n_runs=1,
                                        recipes_per_run=1, temperature=0.7, dry_run=False,
                                        config_snapshot={}, extra={}, now=time.time())[1][0][0]
                   for _ in range(n)]
    return created


def _claims(conn, run_ids: list[str]) -> dict:
    """How many runs were started other than exactly once (a second claim writes a second start)."""
    twice = sum(len(events.list_events(conn, run_id, limit=200, cursor=None,
                                       event_types=["run_started"])[0]) != 1 for run_id in run_ids)
    return {"runs_not_started_exactly_once": twice}


def one_count(tmp: Path, count: int, per_worker: int, env: dict, seconds_cap: float, rate: float) -> dict:
    svc = ServiceProcesses(tmp, {**env, "C2XC_LOCK_STATS_DIR": str(tmp / "locks")})
    conn = Database(svc.db_path).connection()
    migrate(conn)
    run_ids = _queue(conn, count * per_worker)
    workers = []
    try:
        svc.start_api()
        started = time.monotonic()
        workers = [svc.start_worker() for _ in range(count)]
        with PacedClient(svc.base_url, rate) as client:
            wait_until(lambda: all(runs.get_run(conn, r).status not in ("queued", "running")
                                   for r in run_ids), seconds_cap, interval=0.2, message="every run to finish")
        elapsed = time.monotonic() - started
        rss = [round(process_peak_rss_mb(w.pid), 1) for w in workers]
        cpu = {"workers_s": round(sum(process_cpu_seconds(w.pid) for w in workers), 1),
               "api_s": round(sum(process_cpu_seconds(int(p)) for p in subprocess.run(
                   ["pgrep", "-P", str(svc.processes[0].pid)], capture_output=True, text=True).stdout.split()), 1)}
    finally:
        svc.stop_all()
    locks = lock_report(tmp / "locks")
    finished = [runs.get_run(conn, r) for r in run_ids]
    statuses = Counter(r.status for r in finished)
    window = max(r.finished_at for r in finished) - min(r.started_at for r in finished)
    return {"workers": count, "runs": len(run_ids), "statuses": dict(statuses),
            "runs_per_minute": round(statuses.get("completed", 0) / window * 60, 1),
            "window_s": round(window, 1), "wall_s_including_start": round(elapsed, 1),
            "runs_per_worker": sorted(Counter(r.worker_id for r in finished).values()),
            **_claims(conn, run_ids), "worker_peak_rss_mb": rss, "cpu": cpu,
            "worker_cpu_s_per_run": round(cpu["workers_s"] / len(run_ids), 2),
            "api": client.report(),
            "api_lock_wait_ms": [s["wait_ms"] for s in locks.get("api", {}).get("products.create_product", [])],
            "worker_lock_hold_p99_ms": max((s["hold_ms"]["p99"] for stats in locks.get("worker", {}).values()
                                            for s in stats), default=None)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="1,2,4,8")
    parser.add_argument("--runs-per-worker", type=int, default=6)
    parser.add_argument("--llm-latency", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=20.0, help="API writes per second, and as many reads")
    args = parser.parse_args()
    report = {"machine": machine(), "llm_latency_s": args.llm_latency, "points": []}
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp, FakeOpenAI(embedding_dim=64) as llm:
        tmp = Path(tmp)
        os.environ["OPENAI_API_KEY"] = "sk-bench"  # the KB builder's client wants one; the fake ignores it
        settings = fake_endpoint_settings(llm)
        principles = build_kb(tmp / "kb-p", PRINCIPLES_DOCS, settings, fake=llm)
        modulation = build_kb(tmp / "kb-m", MODULATION_DOCS, settings, fake=llm)
        llm.respond = two_call_model(args.llm_latency)
        env = {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": llm.base_url, "C2XC_LLM_MODEL": "fake-qwen",
               "C2XC_EMBEDDING_MODEL": "fake-hash-64", "C2XC_EMBEDDING_DIM": "64",
               "LIGHTRAG_KB_PRINCIPLES_DIR": principles, "LIGHTRAG_KB_MODULATION_DIR": modulation,
               "C2XC_WORKER_POLL_S": "0.05", "C2XC_WORKER_HEARTBEAT_S": "1", "C2XC_WORKER_STALE_S": "10",
               "C2XC_LOG_LEVEL": "WARNING"}
        for count in [int(c) for c in args.counts.split(",")]:
            folder = tmp / f"workers-{count}"
            folder.mkdir()
            report["points"].append(one_count(folder, count, args.runs_per_worker, env,
                                              seconds_cap=120 + 10 * args.runs_per_worker, rate=args.rate))
    base = report["points"][0]
    for point in report["points"]:
        point["speedup"] = round(point["runs_per_minute"] / base["runs_per_minute"], 2)
        point["api_p99_ratio"] = {kind: round(point["api"][kind]["p99_ms"] / base["api"][kind]["p99_ms"], 2)
                                  for kind in ("write", "read")}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.exit(main())
