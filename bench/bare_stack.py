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
median requests/s and p99 per app, and the median over rounds of each
round's ratio (service / bare: the two runs closest in time, so a noisy
moment on a shared machine moves both). Last, each app's own time per
request in-process on one thread (``in_process``): the same comparison
without the network and without wrk competing for the cores.

Needs wrk (Debian: ``apt-get install wrk``).
``--backend postgres`` builds the same data in a throwaway PostgreSQL
cluster (Debian's ``postgresql``, durable commits) and serves it from there.

Usage: PYTHONPATH=. python -m bench.bare_stack [--seconds 4] [--rounds 7] [--connections 32]
       [--backend sqlite|postgres]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests

from bench.api_load import run_wrk
from bench.common import machine
from bench.event_pages import fill_run
from store.db import open_database
from store.migrations import migrate
from tests.postgres_server import PostgresCluster
from tests.processes import ServiceProcesses
from tests.store_helpers import completed_runs, queue_batch


def build_database(target: str) -> dict[str, str]:
    """The fixed database (a SQLite path or a PostgreSQL URL); returns each hot read's path."""
    conn = open_database(target).connection()
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


def in_process(paths: dict[str, str], repeats: int = 5, requests: int = 300) -> dict[str, dict]:
    """Each app's own time per request on one thread (Flask's test client, no network, no wrk).

    Far less noisy than wrk on a shared 2-core machine, where the load
    generator competes with the servers for the same cores.
    """
    from api.app import create_app
    from bench.bare_app import app as bare_app

    clients = {"service": create_app().test_client(), "bare": bare_app.test_client()}
    report = {}
    for name, path in paths.items():
        url = "/api/v1" + path
        ms: dict[str, list[float]] = {"service": [], "bare": []}
        for client in clients.values():
            for _ in range(50):
                client.get(url)
        for _ in range(repeats):  # interleaved, so a slow moment hits both
            for app, client in clients.items():
                started = time.perf_counter()
                for _ in range(requests):
                    client.get(url)
                ms[app].append((time.perf_counter() - started) / requests * 1000)
        service, bare = (statistics.median(ms[app]) for app in ("service", "bare"))
        report[name] = {"service_ms": round(service, 3), "bare_ms": round(bare, 3),
                        "throughput_ratio": round(bare / service, 2)}
    return report


def _over_http(apps: dict[str, str], paths: dict[str, str], args, tmp: Path) -> dict[str, dict]:
    """wrk against each app in turn; ratios taken per round (the two runs next to each other)."""
    raw: dict[str, list[dict]] = {name: [] for name in paths}
    for round_ in range(args.rounds):
        order = ["service", "bare"] if round_ % 2 == 0 else ["bare", "service"]
        for name, path in paths.items():
            pair = {app: run_wrk(apps[app] + path, "", args.connections, args.seconds, tmp) for app in order}
            raw[name].append(pair)
    table = {}
    for name, pairs in raw.items():
        def median_of(app, key):
            return round(statistics.median(pair[app][key] for pair in pairs), 1)
        table[name] = {
            **{app: {"requests_per_s": median_of(app, "requests_per_s"), "p99_ms": median_of(app, "p99_ms"),
                     "errors": sum(pair[app]["errors"] for pair in pairs)} for app in ("service", "bare")},
            "throughput_ratio": round(statistics.median(
                pair["service"]["requests_per_s"] / pair["bare"]["requests_per_s"] for pair in pairs), 2),
            "p99_ratio": round(statistics.median(
                pair["service"]["p99_ms"] / pair["bare"]["p99_ms"] for pair in pairs), 2)}
    return {"medians": table, "raw": raw}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: a throwaway cluster of Debian's postgresql, durable commits")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    cluster = PostgresCluster(durable=True).start() if args.backend == "postgres" else None
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as cleanup:
        if cluster:
            cleanup.callback(cluster.stop)
        tmp = Path(tmp)
        shared = cluster.url(cluster.create_database()) if cluster else str(tmp / "hot.db")
        built = time.perf_counter()
        paths = build_database(shared)
        build_s = time.perf_counter() - built
        env = {"C2XC_DATABASE_URL" if cluster else "C2XC_SQLITE_PATH": shared, "C2XC_WEB_WORKERS": "2",
               "C2XC_WEB_THREADS": "40", "C2XC_LOG_LEVEL": "WARNING"}
        processes = {app: ServiceProcesses(tmp / app, env) for app in ("service", "bare")}
        try:
            apps = {}
            for app, module in (("service", "api.wsgi:app"), ("bare", "bench.bare_app:app")):
                (tmp / app).mkdir()
                apps[app] = processes[app].start_api(module)
            check_same_bodies(apps, paths)
            http = _over_http(apps, paths, args, tmp)
        finally:
            for procs in processes.values():
                procs.stop_all()
        os.environ.update(processes["service"].env)  # the in-process apps open the same file
        report = {"machine": machine(), "backend": args.backend, "connections": args.connections,
                  "seconds": args.seconds,
                  "rounds": args.rounds, "build_s": round(build_s, 1), "in_process": in_process(paths),
                  **http}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
