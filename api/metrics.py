"""``/metrics``: Prometheus text for an operator (issue 31) — the API's requests and the deployment.

Every request is timed by method, route template (``/api/v1/runs/<string:run_id>``,
never the id itself) and status. At each scrape the database is read once for
what concerns the whole deployment, whichever host did it (``store.workers.
deployment_snapshot``). Under gunicorn the request histograms of all its
processes are merged by prometheus_client's multiprocess mode.

The API token rule applies: with ``C2XC_API_TOKEN`` set, ``/metrics`` needs
``Authorization: Bearer <token>`` like every API call (``api/auth.py``).
"""
from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request

from api.context import services
from core.metrics import api_metrics

ROUTE = "/metrics"


class DeploymentCollector:
    """Gauges and totals read from the database at scrape time."""

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        snapshot = _snapshot(services())
        queue = GaugeMetricFamily("c2xc_runs", "runs by status (queue depth: queued, running)", labels=["status"])
        for status, count in sorted(snapshot["runs_by_status"].items()):
            queue.add_metric([status], count)
        yield queue
        ended = CounterMetricFamily("c2xc_runs_ended", "runs ended, by status and error code (every host)",
                                    labels=["status", "error_code"])
        for status, code, count in sorted(snapshot["runs_ended"]):
            ended.add_metric([status, code], count)
        yield ended
        yield GaugeMetricFamily("c2xc_oldest_queued_run_age_seconds", "age of the oldest queued run (0: none)",
                                value=snapshot["oldest_queued_age_s"])
        yield GaugeMetricFamily("c2xc_workers_live", "workers with a fresh heartbeat (every host)",
                                value=snapshot["live_workers"])
        jobs = GaugeMetricFamily("c2xc_learn_jobs", "learn jobs by status", labels=["status"])
        for status, count in sorted(snapshot["learn_jobs"].items()):
            jobs.add_metric([status], count)
        yield jobs


def _snapshot(state) -> dict:
    from store.workers import deployment_snapshot

    return deployment_snapshot(state.database.connection(timeout_s=2.0), time.time(),
                               state.worker_settings.stale_after_s)


def _started() -> None:
    g.c2xc_started = time.perf_counter()


def _timed(response):
    started = getattr(g, "c2xc_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        api_metrics()["requests"].labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started)
    return response


def _scrape() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessLocal())
    registry.register(DeploymentCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _ProcessLocal:
    """One process without gunicorn (tests, ``flask run``): its own default registry's metrics."""

    def collect(self):
        from prometheus_client import REGISTRY

        api_metrics()
        yield from REGISTRY.collect()


def init_metrics(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_timed)
    app.add_url_rule(ROUTE, "metrics", _scrape, methods=["GET"])
