"""Soak: the service under mixed load for ``--minutes`` (default 30), the worker killed and restarted.

gunicorn and the worker on 127.0.0.1 with dry runs that take about half a
second (``C2XC_DRY_RUN_STEP_DELAY_S=0.05``). Load, all at once:

* a creator posting dry batches of 1–3 runs (every 1.5 s, about a third
  with an ``Idempotency-Key``, replayed once), below what the worker
  executes, so the queue stays short and drains at the end;
* two readers paging runs, events (with payloads) and evidence of recent runs;
* a canceller cancelling a recent batch or run every 2 s;
* a streamer following a recent run's live events (SSE) until it ends, or
  closing after a few seconds;
* the worker killed with SIGKILL every ``--kill-every`` seconds (default
  180) and started again at once.

Every 10 s it samples each process's memory (RSS of gunicorn's master and
workers, of the worker) and the database and WAL sizes. At the end it stops
the load, lets the queue drain, and checks every run it created: none may
be missing (lost) or still queued/running (stuck); runs the kills
interrupted end ``failed``/``worker_lost``, counted apart. Reports requests,
errors (any 5xx or transport failure), memory drift after warm-up, file
sizes, and writes ``docs/soak.png`` (memory and file sizes over time).

Usage: python -m bench.soak [--minutes 30] [--kill-every 180] [--plot docs/soak.png]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from bench.common import machine
from tests.processes import ServiceProcesses, wait_until

TERMINAL = {"completed", "failed", "canceled"}


class Load:
    """The clients; each counts its requests and errors."""

    def __init__(self, svc: ServiceProcesses):
        self.svc, self.stop = svc, threading.Event()
        self.requests, self.errors = Counter(), Counter()
        self.error_samples: list[str] = []
        self.created_runs: list[str] = []
        self.batches: list[str] = []
        self._lock = threading.Lock()

    def _call(self, session, kind: str, method: str, path: str, **kwargs):
        try:
            reply = session.request(method, f"{self.svc.base_url}{path}", timeout=30, **kwargs)
        except requests.RequestException as exc:
            self._error(kind, f"{method} {path}: {exc}")
            return None
        self.requests[kind] += 1
        if reply.status_code >= 500:
            self._error(kind, f"{method} {path}: {reply.status_code} {reply.text[:200]}")
        return reply

    def _error(self, kind: str, text: str) -> None:
        with self._lock:
            self.errors[kind] += 1
            if len(self.error_samples) < 20:
                self.error_samples.append(text)

    def _recent_runs(self, n: int = 20) -> list[str]:
        with self._lock:
            return self.created_runs[-n:]

    def creator(self) -> None:
        session, n = requests.Session(), 0
        while not self.stop.wait(1.5):  # ~1.3 runs/s, below the worker's ~2/s: the queue stays short
            n += 1
            body = {"user_request": f"soak {n}: Cu-Mo for C2H4", "dry_run": True,
                    "n_runs": random.randint(1, 3), "recipes_per_run": random.randint(1, 3)}
            headers = {"Idempotency-Key": f"soak-{n}"} if n % 3 == 0 else {}
            reply = self._call(session, "create", "POST", "/batches", json=body, headers=headers)
            if headers:
                self._call(session, "create", "POST", "/batches", json=body, headers=headers)  # replay
            if reply is not None and reply.status_code == 201:
                data = reply.json()
                with self._lock:
                    self.batches.append(data["batch"]["batch_id"])
                    self.created_runs += [r["run_id"] for r in data["runs"]]

    def reader(self) -> None:
        session = requests.Session()
        while not self.stop.wait(0.1):
            self._call(session, "read", "GET", "/runs", params={"limit": 50})
            recent = self._recent_runs()
            if not recent:
                continue
            run_id = random.choice(recent)
            page = self._call(session, "read", "GET", f"/runs/{run_id}/events",
                              params={"limit": 50, "include_payload": "true"})
            if page is not None and page.status_code == 200 and page.json()["next_cursor"]:
                self._call(session, "read", "GET", f"/runs/{run_id}/events",
                           params={"limit": 50, "cursor": page.json()["next_cursor"]})
            self._call(session, "read", "GET", f"/runs/{run_id}/evidence", params={"include_content": "true"})

    def canceller(self) -> None:
        session = requests.Session()
        while not self.stop.wait(2.0):
            session.close()  # idle as long as the server's keep-alive: start afresh, as a browser would
            with self._lock:
                batches = self.batches[-10:]
            if not batches:
                continue
            if random.random() < 0.5:
                self._call(session, "cancel", "POST", f"/batches/{random.choice(batches)}/cancel",
                           json={"reason": "soak"})
            elif self._recent_runs():
                self._call(session, "cancel", "POST", f"/runs/{random.choice(self._recent_runs())}/cancel")

    def streamer(self) -> None:
        while not self.stop.is_set():
            recent = self._recent_runs(5)
            if not recent:
                self.stop.wait(0.5)
                continue
            give_up = time.monotonic() + random.uniform(1, 6)
            try:
                with requests.get(f"{self.svc.base_url}/runs/{random.choice(recent)}/events/stream",
                                  stream=True, timeout=30) as reply:
                    self.requests["stream"] += 1
                    if reply.status_code >= 500:
                        self._error("stream", f"stream: {reply.status_code}")
                        continue
                    for _ in reply.iter_lines():
                        if time.monotonic() > give_up or self.stop.is_set():
                            break
            except requests.RequestException as exc:
                self._error("stream", f"stream: {exc}")


def _rss_mb(pid: int) -> float:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def _file_mb(path: str) -> float:
    return os.path.getsize(path) / 2**20 if os.path.exists(path) else 0.0


def _sample(svc: ServiceProcesses, worker: subprocess.Popen, started: float) -> dict:
    master = svc.processes[0].pid
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return {"t_min": round((time.monotonic() - started) / 60, 2), "api_master_mb": round(_rss_mb(master), 1),
            "api_workers_mb": [round(_rss_mb(int(p)), 1) for p in children],
            "worker_mb": round(_rss_mb(worker.pid), 1),
            "db_mb": round(_file_mb(svc.db_path), 1), "wal_mb": round(_file_mb(svc.db_path + "-wal"), 1)}


def _drift(samples: list[dict], key, warmup_min: float) -> dict | None:
    values = [(s["t_min"], key(s)) for s in samples if s["t_min"] >= warmup_min and key(s)]
    if len(values) < 4:
        return None
    quarter = max(1, len(values) // 4)
    first = statistics.mean(v for _, v in values[:quarter])
    last = statistics.mean(v for _, v in values[-quarter:])
    return {"first_quarter_mb": round(first, 1), "last_quarter_mb": round(last, 1),
            "change": round(last / first - 1, 3)}


def _plot(samples: list[dict], kills: list[float], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t_min"] for s in samples]
    fig, (memory, files) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    memory.plot(t, [s["api_master_mb"] for s in samples], label="gunicorn master")
    for i in range(max(len(s["api_workers_mb"]) for s in samples)):
        memory.plot(t, [s["api_workers_mb"][i] if i < len(s["api_workers_mb"]) else None for s in samples],
                    label=f"API worker {i + 1}")
    memory.plot(t, [s["worker_mb"] for s in samples], label="worker (killed and restarted)")
    memory.set_ylabel("RSS (MB)")
    memory.legend(loc="upper left", fontsize=8)
    files.plot(t, [s["db_mb"] for s in samples], label="database file")
    files.plot(t, [s["wal_mb"] for s in samples], label="WAL file")
    files.set_ylabel("size (MB)")
    files.set_xlabel("minutes")
    files.legend(loc="upper left", fontsize=8)
    for axis in (memory, files):
        for k in kills:
            axis.axvline(k, color="grey", linewidth=0.5, linestyle=":")
        axis.grid(alpha=0.3)
    memory.set_title("Soak: memory and file sizes (dotted lines: worker SIGKILLed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--kill-every", type=float, default=180)
    parser.add_argument("--warmup-minutes", type=float, default=3)
    parser.add_argument("--plot", default="docs/soak.png")
    parser.add_argument("--samples-file", help="rewrite the samples so far to this JSON file every 10 s "
                                               "(a long soak can be read while it runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
        svc = ServiceProcesses(Path(tmp), {"C2XC_DRY_RUN_STEP_DELAY_S": "0.05", "C2XC_LOG_LEVEL": "WARNING",
                                           "C2XC_WORKER_HEARTBEAT_S": "1", "C2XC_WORKER_STALE_S": "5"})
        load, samples, kills = Load(svc), [], []
        try:
            svc.start_api()
            worker = svc.start_worker()
            started = time.monotonic()
            threads = [threading.Thread(target=f, daemon=True) for f in
                       (load.creator, load.reader, load.reader, load.canceller, load.streamer)]
            for thread in threads:
                thread.start()
            next_kill = started + args.kill_every
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(10)
                samples.append(_sample(svc, worker, started))
                if args.samples_file:
                    Path(args.samples_file).write_text(json.dumps({"samples": samples, "kills": kills}))
                if time.monotonic() >= next_kill:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait(10)
                    kills.append(round((time.monotonic() - started) / 60, 2))
                    worker = svc.start_worker()
                    next_kill += args.kill_every
            load.stop.set()
            for thread in threads:
                thread.join(60)
            wait_until(lambda: svc.get("/system/worker").json()["queue"]["runs_by_status"].get("queued", 0)
                       + svc.get("/system/worker").json()["queue"]["runs_by_status"].get("running", 0) == 0,
                       600, interval=1, message="the queue to drain")
            statuses, missing, stuck, errors_by_code = Counter(), 0, 0, Counter()
            for run_id in load.created_runs:
                reply = svc.get(f"/runs/{run_id}")
                if reply.status_code == 404:
                    missing += 1
                    continue
                run = reply.json()
                statuses[run["status"]] += 1
                stuck += run["status"] not in TERMINAL
                if run["status"] == "failed":
                    errors_by_code[(run.get("error") or {}).get("code")] += 1
            samples.append(_sample(svc, worker, started))
        finally:
            load.stop.set()
            svc.stop_all()
    _plot(samples, kills, args.plot)
    report = {
        "machine": machine(), "minutes": args.minutes, "worker_kills": len(kills),
        "requests": dict(load.requests), "requests_total": sum(load.requests.values()),
        "errors": dict(load.errors), "error_samples": load.error_samples,
        "runs_created": len(load.created_runs), "run_statuses": dict(statuses),
        "failed_by_code": dict(errors_by_code), "runs_lost": missing, "runs_stuck": stuck,
        "memory_drift_after_warmup": {
            "api_master": _drift(samples, lambda s: s["api_master_mb"], args.warmup_minutes),
            "api_workers_total": _drift(samples, lambda s: sum(s["api_workers_mb"]), args.warmup_minutes)},
        "worker_peak_mb": max(s["worker_mb"] for s in samples),
        "wal_mb_max": max(s["wal_mb"] for s in samples), "db_mb_end": samples[-1]["db_mb"],
        "samples": samples, "plot": args.plot}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
