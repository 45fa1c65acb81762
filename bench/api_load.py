"""Benchmark 5 (and the API half of 6): API throughput under gunicorn, measured with wrk.

Starts gunicorn (``C2XC_WEB_WORKERS``, default 2) and the worker on
127.0.0.1, then for 1, 8 and 32 concurrent connections runs wrk for
``--seconds`` against: ``POST /batches`` (dry run) without and with a unique
``Idempotency-Key`` per request, and ``GET /runs/{id}/events?limit=50`` on a
finished run. The worker executes the created dry runs meanwhile. Reports
requests/s, p50/p99 latency, non-2xx count, and each API worker's peak RSS.

Needs wrk (Debian: ``apt-get install wrk``).
Usage: python -m bench.api_load [--seconds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.common import machine, process_peak_rss_mb
from tests.processes import ServiceProcesses, wait_until

BODY = json.dumps({"user_request": "load test", "dry_run": True})
REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout
  io.write(string.format("JSON {\\"requests\\": %d, \\"seconds\\": %f, \\"p50_ms\\": %f, \\"p99_ms\\": %f, \\"errors\\": %d}\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors))
end
"""
POST = """wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
""" % BODY
POST_IDEMPOTENT = POST + """
local counter = 0
local thread_tag = tostring(math.random(1, 1e9))
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. thread_tag .. "-" .. counter
  return wrk.format()
end
"""


def run_wrk(url: str, script: str, connections: int, seconds: int, tmp: Path) -> dict:
    lua = tmp / f"s{abs(hash(script))}.lua"
    lua.write_text(script + REPORT)
    threads = min(connections, 2)
    done = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(lua),
                           url], capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"^JSON (.*)$", done.stdout, re.MULTILINE)
    if not found:
        raise SystemExit(f"wrk failed: {done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    result["requests_per_s"] = round(result["requests"] / result["seconds"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
        tmp = Path(tmp)
        svc = ServiceProcesses(tmp, {"C2XC_WORKER_POLL_S": "0.5", "C2XC_WORKER_HEARTBEAT_S": "2",
                                     "C2XC_WORKER_STALE_S": "10", "C2XC_LOG_LEVEL": "WARNING"})
        svc.env["C2XC_WEB_WORKERS"] = os.environ.get("C2XC_WEB_WORKERS", "2")
        try:
            svc.start_api()
            svc.start_worker()
            run_id = svc.create_batch()["runs"][0]["run_id"]
            wait_until(lambda: svc.run(run_id)["status"] == "completed", 30)
            targets = {
                "POST /batches": (f"{svc.base_url}/batches", POST),
                "POST /batches + Idempotency-Key": (f"{svc.base_url}/batches", POST_IDEMPOTENT),
                "GET /runs/{id}/events": (f"{svc.base_url}/runs/{run_id}/events?limit=50", ""),
            }
            results = {name: {c: run_wrk(url, script, c, args.seconds, tmp) for c in (1, 8, 32)}
                       for name, (url, script) in targets.items()}
            gunicorn = svc.processes[0].pid
            children = subprocess.run(["pgrep", "-P", str(gunicorn)], capture_output=True,
                                      text=True).stdout.split()
            rss = [round(process_peak_rss_mb(int(pid)), 1) for pid in children]
            queue = svc.get("/system/worker").json()["queue"]
        finally:
            svc.stop_all()
    print(json.dumps({"machine": machine(), "web_workers": len(rss), "seconds_per_point": args.seconds,
                      "results": results, "api_worker_peak_rss_mb": rss, "queue_after": queue},
                     indent=2))


if __name__ == "__main__":
    main()
