"""Prometheus metrics an operator scrapes (issue 31): one definition per metric, bounded labels.

Label values come from closed sets only — statuses, error codes, route
templates, the model name, a purpose, an outcome — never a run, batch or job
id, so a metric's series do not grow with use.

* The **worker** counts what it does (runs ended, their duration, LLM calls and
  tokens, learn jobs) in its own process and serves them on
  ``C2XC_METRICS_PORT`` (``worker/metrics_server.py``).
* The **API** times every request by route template and status; under
  gunicorn's several processes it uses prometheus_client's multiprocess mode
  (``PROMETHEUS_MULTIPROC_DIR``, set by ``api/gunicorn_conf.py``). At each scrape
  it also reads what the database knows for the whole deployment — queue depth
  by status, runs ended by status and error code, the oldest queued run's age,
  live workers, learn jobs by status (``api/metrics.py``) — so three hosts'
  workers are seen in one place.

Importing this module costs nothing until a metric is first used.
"""
from __future__ import annotations

import threading
from functools import lru_cache, wraps

_CREATING = threading.Lock()


def _once(build):
    """A process-wide singleton made under a lock: the API's first requests arrive on several threads
    at once, and a metric registered twice is an error (found as 500s under load)."""
    cached = lru_cache(maxsize=None)(build)

    @wraps(build)
    def get():
        with _CREATING:
            return cached()
    return get


DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@_once
def worker_metrics():
    from prometheus_client import Counter, Histogram

    return {
        "runs": Counter("c2xc_worker_runs_ended", "runs this worker ended, by status and error code",
                        ["status", "error_code"]),
        "run_seconds": Histogram("c2xc_worker_run_duration_seconds", "how long a run took, start to end",
                                 ["mode"], buckets=DURATION_BUCKETS),
        "llm_calls": Counter("c2xc_llm_calls", "LLM calls (each attempt), by model, purpose and outcome",
                             ["model", "purpose", "outcome"]),
        "prompt_tokens": Counter("c2xc_llm_prompt_tokens", "prompt tokens the LLM endpoint reported", ["model"]),
        "completion_tokens": Counter("c2xc_llm_completion_tokens", "completion tokens the LLM endpoint reported",
                                     ["model"]),
        "learn_jobs": Counter("c2xc_worker_learn_jobs_ended", "learn jobs this worker ended, by outcome",
                              ["outcome"]),
    }


@_once
def api_metrics():
    from prometheus_client import Histogram

    return {"requests": Histogram("c2xc_http_request_duration_seconds",
                                  "API requests by method, route template and status",
                                  ["method", "route", "status"], buckets=REQUEST_BUCKETS)}


def count_run_end(status: str, error_code: str | None, mode: str, seconds: float | None) -> None:
    m = worker_metrics()
    m["runs"].labels(status, error_code or "").inc()
    if seconds is not None:
        m["run_seconds"].labels(mode).observe(max(0.0, seconds))


def count_llm_call(model: str, purpose: str | None, outcome: str, usage: dict | None = None) -> None:
    m = worker_metrics()
    m["llm_calls"].labels(model, purpose or "agent", outcome).inc()
    if usage:
        m["prompt_tokens"].labels(model).inc(usage.get("prompt_tokens") or 0)
        m["completion_tokens"].labels(model).inc(usage.get("completion_tokens") or 0)


def count_learn_job(outcome: str) -> None:
    worker_metrics()["learn_jobs"].labels(outcome).inc()
