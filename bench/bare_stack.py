"""The hot reads against their floor: the service vs a bare handler, same stack (issue 24).

One SQLite file is built once: 250 completed runs in 50 batches (each run
with an output) and one run with a 20,000-event trace whose ``kb_query``
events registered ~14,000 evidence items (as ``bench.event_pages`` builds
them). Two gunicorns with the service's configuration serve it: the service
(``api.wsgi:app``) and ``bench.bare_app`` (the same store query and fields,
``jsonify``). Before measuring, every endpoint's bodies are compared: the
bench stops if the two would not send the same JSON.

Then for each hot read, ``wrk -c32`` for ``--seconds`` against each app in
turn (which goes first alternates), ``--rounds`` times; the report gives
median requests/s and p99 per app and their ratios (service / bare).

Needs wrk (Debian: ``apt-get install wrk``).
Usage: PYTHONPATH=. python -m bench.bare_stack [--seconds 5] [--rounds 3] [--connections 32]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import requests

from bench.api_load import run_wrk
from bench.common import machine
from bench.event_pages import fill_run
from store.db import Database
from store.migrations import migrate
from tests.processes import ServiceProcesses
from tests.store_helpers import completed_runs, queue_batch


def build_database(path: str) -> dict[str, str]:
    """The fixed database; returns each hot read's path (below /api/v1)."""
    conn = Database(path).connection()
    migrate(conn)
    finished = completed_runs(conn, 250, recipes_per_run=3)
    _, (traced,) = queue_batch(conn, 1)
    fill_run(conn, traced, 20_000, big_every=None)
    return {"GET /batches": "/batches?limit=50",
            "GET /runs/{id}": f"/runs/{finished[0]}",
            "GET /runs/{id}/events": f"/runs/{traced}/events?limit=50",
            "GET /runs/{id}/evidence": f"/runs/{traced}/evidence?limit=50",
            "GET /runs/{id}/output": f"/runs/{finished[0]}/output"}


def check_same_bodies(apps: dict[str, str], paths: dict[str, str]) -> None:
    for name, path in paths.items():
        bodies = {app: requests.get(base + path, timeout=10) for app, base in apps.items()}
        statuses = {app: reply.status_code for app, reply in bodies.items()}
        if set(statuses.values()) != {200}:
            raise SystemExit(f"{name}: not 200 from every app: {statuses}")
        service, bare = (bodies[app].json() for app in ("service", "bare"))
        if service != bare:
            raise SystemExit(f"{name}: the bare handler's body differs from the service's:\n"
                             f"{json.dumps(service)[:600]}\n{json.dumps(bare)[:600]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shared = str(tmp / "hot.db")
        built = time.perf_counter()
        paths = build_database(shared)
        build_s = time.perf_counter() - built
        env = {"C2XC_SQLITE_PATH": shared, "C2XC_WEB_WORKERS": "2", "C2XC_WEB_THREADS": "40",
               "C2XC_LOG_LEVEL": "WARNING"}
        processes = {app: ServiceProcesses(tmp / app, env) for app in ("service", "bare")}
        results: dict[str, dict[str, list[dict]]] = {name: {"service": [], "bare": []} for name in paths}
        try:
            apps = {}
            for app, module in (("service", "api.wsgi:app"), ("bare", "bench.bare_app:app")):
                (tmp / app).mkdir()
                apps[app] = processes[app].start_api(module)
            check_same_bodies(apps, paths)
            for round_ in range(args.rounds):
                order = ["service", "bare"] if round_ % 2 == 0 else ["bare", "service"]
                for name, path in paths.items():
                    for app in order:
                        results[name][app].append(run_wrk(apps[app] + path, "", args.connections,
                                                          args.seconds, tmp))
        finally:
            for procs in processes.values():
                procs.stop_all()
    table = {}
    for name, per_app in results.items():
        medians = {app: {"requests_per_s": round(statistics.median(r["requests_per_s"] for r in rounds), 1),
                         "p99_ms": round(statistics.median(r["p99_ms"] for r in rounds), 1),
                         "errors": sum(r["errors"] for r in rounds)}
                   for app, rounds in per_app.items()}
        table[name] = {**medians, "throughput_ratio": round(medians["service"]["requests_per_s"]
                                                            / medians["bare"]["requests_per_s"], 2),
                       "p99_ratio": round(medians["service"]["p99_ms"] / medians["bare"]["p99_ms"], 2)}
    print(json.dumps({"machine": machine(), "connections": args.connections, "seconds": args.seconds,
                      "rounds": args.rounds, "build_s": round(build_s, 1), "medians": table,
                      "raw": results}, indent=1))


if __name__ == "__main__":
    main()
