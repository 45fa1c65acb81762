"""Benchmark: the web interface's budgets (issue 11), against the real gunicorn service.

1. **Run page at 100,000 events.** What a browser fetches to show a run page
   and its first trace page, one request after another: the HTML, the run,
   its batch, its output, the first 200 events. Target: under 50 ms in all.
2. **50 open event streams.** A writer (playing the worker) appends events
   to a running run that 50 streams follow, while a client times ordinary
   requests (`GET /runs/{id}`, `GET /batches`); the same without streams.
   Targets: ordinary p99 at most 2x, append time at most +10 %.
3. **Event latency in a browser.** Debian's Chromium opens a run page and
   follows the run over SSE; the writer appends events at random moments;
   latency = when the browser received the message minus when the append
   committed (one machine, one clock). Target: median under 200 ms.

Usage: python -m bench.ui_budgets [--requests 100] [--appends 300] [--latency-samples 40]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.common import machine, summary
from bench.event_pages import _fill
from core import trace
from store import events, runs
from store.db import Database
from store.migrations import migrate
from tests.processes import ServiceProcesses
from tests.store_helpers import queue_batch


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def page_load(origin: str, run_id: str, batch_id: str, repeats: int) -> dict:
    api = f"{origin}/api/v1"
    urls = [f"{origin}/runs/{run_id}", f"{api}/runs/{run_id}", f"{api}/batches/{batch_id}",
            f"{api}/runs/{run_id}/output", f"{api}/runs/{run_id}/events?limit=200"]
    session, totals = requests.Session(), []
    for _ in range(repeats):
        started = time.perf_counter()
        for url in urls:
            assert session.get(url, timeout=10).status_code in (200, 409), url
        totals.append(_ms(started))
    return summary(totals, 2)


def _appends(conn, run_id: str, n: int) -> list[float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        events.append_event(conn, run_id, "recap_info", {"step": i, "text": "x" * 500}, time.time())
        times.append(_ms(started))
        time.sleep(0.01)  # a busy agent writes an event every few ms to seconds
    return times


def _ordinary_load(api: str, run_id: str, stop: threading.Event, latencies: list[float]) -> None:
    session = requests.Session()
    while not stop.is_set():
        for url in (f"{api}/runs/{run_id}", f"{api}/batches?limit=20"):
            started = time.perf_counter()
            session.get(url, timeout=10)
            latencies.append(_ms(started))


def _follow(url: str, opened: threading.Event, stop: threading.Event) -> None:
    with requests.get(url, stream=True, timeout=120) as reply:
        opened.set()
        for _ in reply.iter_lines():
            if stop.is_set():
                return


def streams_cost(svc: ServiceProcesses, conn, n_streams: int, appends: int) -> dict:
    run_id = queue_batch(conn, 1)[1][0]
    runs.claim_next_run(conn, "bench-writer", time.time())
    stop, latencies, followers = threading.Event(), [], []
    for _ in range(n_streams):
        opened = threading.Event()
        thread = threading.Thread(target=_follow, daemon=True, args=(
            f"{svc.base_url}/runs/{run_id}/events/stream", opened, stop))
        thread.start()
        followers.append(opened)
    for opened in followers:
        opened.wait(10)
    load = threading.Thread(target=_ordinary_load, args=(svc.base_url, run_id, stop, latencies))
    load.start()
    append_ms = _appends(conn, run_id, appends)
    stop.set()
    load.join()
    runs.finish_run(conn, run_id=run_id, worker_id="bench-writer", now=time.time(),
                    event=trace.RunFailed(error_code="bench", message="done"))
    return {"streams": n_streams, "ordinary_requests": len(latencies),
            "ordinary_p50_ms": round(statistics.median(latencies), 2),
            "ordinary_p99_ms": round(_percentile(latencies, 99), 2),
            "append_median_ms": round(statistics.median(append_ms), 3),
            "append_p99_ms": round(_percentile(append_ms, 99), 3)}


def browser_latency(svc: ServiceProcesses, conn, samples: int) -> dict:
    from selenium.webdriver.common.by import By

    from tests.browser import start_chrome, wait_for

    run_id = queue_batch(conn, 1)[1][0]
    runs.claim_next_run(conn, "bench-writer", time.time())
    events.append_event(conn, run_id, "run_started", {"mode": "bench"}, time.time())
    origin = svc.base_url.rsplit("/api/v1", 1)[0]
    driver = start_chrome()
    try:
        driver.get(f"{origin}/runs/{run_id}#trace")
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#live-indicator:not([hidden])"),
                 message="the page to follow the run")
        driver.execute_script(  # record when each event arrives, beside the page's own stream
            "window.__arrivals = {};"
            "const s = new EventSource(arguments[0]);"
            "s.onmessage = m => { window.__arrivals[JSON.parse(m.data).event_id] = Date.now(); };",
            f"{svc.base_url}/runs/{run_id}/events/stream")
        appended = {}
        for _ in range(samples):
            time.sleep(random.uniform(0.05, 0.25))  # arrivals at random moments, not in step with polls
            event = events.append_event(conn, run_id, "recap_info", {"x": 1}, time.time())
            appended[event.event_id] = time.time() * 1000
        wait_for(driver, lambda d: len(d.execute_script("return window.__arrivals")) >= samples + 1,
                 message="every event in the browser")
        arrivals = driver.execute_script("return window.__arrivals")
        rows = len(driver.find_elements(By.CSS_SELECTOR, "#trace-list .event"))
    finally:
        driver.quit()
    latencies = [arrivals[event_id] - at for event_id, at in appended.items()]
    return {"samples": samples, "latency_ms": summary(latencies, 1),
            "p90_ms": round(_percentile(latencies, 90), 1), "rows_on_the_page": rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--latency-samples", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database = Database(str(workdir / "service.db"))
        conn = database.connection()
        migrate(conn)
        batch_id, (big_run,) = queue_batch(conn, 1)
        runs.claim_next_run(conn, "bench-writer", time.time())
        _fill(conn, big_run, 100_000, big_every=None)
        svc = ServiceProcesses(workdir, {"C2XC_WEB_WORKERS": "2", "C2XC_STREAMS_PER_WORKER": "32"})
        svc.db_path = database.path
        svc.env["C2XC_SQLITE_PATH"] = database.path
        try:
            svc.start_api()
            origin = svc.base_url.rsplit("/api/v1", 1)[0]
            report = {"machine": machine(),
                      "run_page_with_first_trace_page_100k_events_ms":
                          page_load(origin, big_run, batch_id, args.requests)}
            without = streams_cost(svc, conn, 0, args.appends)
            with_50 = streams_cost(svc, conn, 50, args.appends)
            report["streams"] = {"without": without, "with_50": with_50,
                                 "ordinary_p99_ratio": round(with_50["ordinary_p99_ms"]
                                                             / without["ordinary_p99_ms"], 2),
                                 "append_median_ratio": round(with_50["append_median_ms"]
                                                              / without["append_median_ms"], 3)}
            report["browser_event_latency"] = browser_latency(svc, conn, args.latency_samples)
        finally:
            svc.stop_all()
            database.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
