"""Is the API workers' slow memory rise glibc's per-thread malloc arenas? Measure it.

    .venv/bin/python -m bench.malloc_arenas [--seconds 120] [--clients 40]

Starts the real service (gunicorn, 2 gthread workers × 40 threads, and the
worker) twice on one database — once with glibc's default arena limit (8 ×
cores), once with ``C2XC_MALLOC_ARENA_MAX=2`` (the service's default, applied by
``api/gunicorn_conf.py``) — and drives the same read-heavy
load from ``--clients`` concurrent clients (pages of runs, events with
payloads, evidence, outputs), sampling each API worker's RSS and its malloc
arenas: glibc maps each non-main arena as a heap aligned to 64 MiB, so the
count of such anonymous mappings in ``/proc/<pid>/maps`` is the number of
arenas, and their resident size (``smaps``) is what they hold.
Prints one JSON object per configuration.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.processes import ServiceProcesses

HEAP_ALIGN = 64 * 2**20


def arenas(pid: int) -> tuple[int, float]:
    """(number of non-main malloc arenas, MB resident in them)."""
    count, rss_kb, inside = 0, 0, False
    try:
        with open(f"/proc/{pid}/smaps") as smaps:
            for line in smaps:
                head = line.split()
                if "-" in head[0] and len(head) >= 5 and ":" in head[3]:  # a mapping's first line
                    start = int(head[0].split("-")[0], 16)
                    inside = start % HEAP_ALIGN == 0 and len(head) == 5 and head[1].startswith("rw")
                    count += inside
                elif inside and head[0] == "Rss:":
                    rss_kb += int(head[1])
    except FileNotFoundError:
        pass
    return count, rss_kb / 1024


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load(svc: ServiceProcesses, run_ids: list[str], stop: threading.Event, counter: list[int]) -> None:
    session, i = requests.Session(), 0
    paths = ["/runs?limit=50", "/batches?limit=50"]
    for run_id in run_ids:
        paths += [f"/runs/{run_id}/events?limit=200&include_payload=true", f"/runs/{run_id}/evidence?limit=50",
                  f"/runs/{run_id}/output", f"/runs/{run_id}"]
    while not stop.is_set():
        session.get(svc.base_url + paths[i % len(paths)], timeout=30)
        i += 1
    counter.append(i)


def measure(arena_max: str | None, seconds: float, clients: int, workdir: Path) -> dict:
    env = {"C2XC_DRY_RUN_STEP_DELAY_S": "0", "C2XC_LOG_LEVEL": "WARNING"}
    env["C2XC_MALLOC_ARENA_MAX"] = arena_max  # api/gunicorn_conf.py applies it (0: glibc's default)
    svc = ServiceProcesses(workdir, env)
    try:
        svc.start_api()
        worker = svc.start_worker()
        runs = []
        for _ in range(10):
            runs += [r["run_id"] for r in svc.create_batch(n_runs=3, recipes_per_run=3)["runs"]]
        for run_id in runs:
            svc.wait_batch_finished(svc.run(run_id)["batch_id"])
        master = svc.processes[0].pid
        children = [int(p) for p in subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                                                    text=True).stdout.split()]
        stop, counter = threading.Event(), []
        threads = [threading.Thread(target=load, args=(svc, runs, stop, counter)) for _ in range(clients)]
        for t in threads:
            t.start()
        samples, started = [], time.monotonic()
        while time.monotonic() - started < seconds:
            time.sleep(5)
            samples.append({"t_s": round(time.monotonic() - started),
                            "rss_mb": [round(rss_mb(p), 1) for p in children],
                            "arenas": [arenas(p)[0] for p in children],
                            "arena_mb": [round(arenas(p)[1], 1) for p in children]})
        stop.set()
        for t in threads:
            t.join()
        svc.stop(worker)
        first, last = samples[1], samples[-1]
        return {"C2XC_MALLOC_ARENA_MAX": arena_max if arena_max != "0" else "0 (glibc default: 8 x cores)", "requests": sum(counter),
                "rss_mb_after_10s": first["rss_mb"], "rss_mb_end": last["rss_mb"],
                "arenas_end": last["arenas"], "arena_mb_end": last["arena_mb"],
                "rss_growth_mb_median": round(statistics.median(
                    b - a for a, b in zip(first["rss_mb"], last["rss_mb"])), 1)}
    finally:
        svc.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=40)
    args = parser.parse_args()
    for arena_max in ("0", "2"):
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(measure(arena_max, args.seconds, args.clients, Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
