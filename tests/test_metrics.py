"""Prometheus metrics (issue 31): the API's /metrics (gunicorn, multiprocess) and the worker's own port,
scraped after a dry batch and a failed normal run, parsed with prometheus_client's parser."""
from __future__ import annotations

import re

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.agent_fixtures import agent_env, finished, submit
from tests.agent_script import MISBEHAVIOURS, RESEARCH, final
from tests.postgres_server import free_port
from tests.processes import running_service, wait_until

TOKEN = "metrics-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def svc(llm, kbs, tmp_path_factory):
    port = free_port()
    env = agent_env(llm, kbs, C2XC_METRICS_PORT=str(port), C2XC_API_TOKEN=TOKEN, C2XC_AGENT_MAX_REPAIRS="1")
    with running_service(tmp_path_factory.mktemp("metrics"), env) as procs:
        procs.metrics_port = port
        procs.headers = {"Authorization": f"Bearer {TOKEN}"}
        wait_until(lambda: _worker_answers(procs), 60, message="the worker's metrics port")
        yield procs


def _samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _scrape_api(svc, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(svc.base_url.rsplit("/api/v1", 1)[0] + "/metrics", headers=headers, timeout=30)


def _scrape_worker(svc, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"http://127.0.0.1:{svc.metrics_port}/metrics", headers=headers, timeout=30)


def _worker_answers(svc) -> bool:
    try:
        return _scrape_worker(svc).status_code == 200
    except requests.RequestException:  # the worker is still starting
        return False


def test_both_endpoints_need_the_token_the_api_needs(svc):
    assert _scrape_api(svc, token=None).status_code == 401
    assert _scrape_api(svc, token=None).json()["error"]["code"] == "unauthenticated"
    assert _scrape_worker(svc, token="wrong").status_code == 401
    assert _scrape_worker(svc, token=None).status_code == 401


def test_the_counts_move_after_a_dry_batch_and_a_failed_run(svc, llm):
    api_before, worker_before = _samples(_scrape_api(svc).text), _samples(_scrape_worker(svc).text)
    created = svc.post("/batches", json={"user_request": "metrics", "dry_run": True, "n_runs": 2})
    assert created.status_code == 201
    for run in created.json()["runs"]:
        assert finished(svc, run["run_id"])["status"] == "completed"
    bad, _ = MISBEHAVIOURS["linker under its systematic name"]
    failing = submit(svc, llm, RESEARCH[:1] + [final(bad), final(bad)], recipes_per_run=1)
    assert finished(svc, failing)["error"]["code"] == "invalid_output"

    api = _samples(_scrape_api(svc).text)
    worker = _samples(_scrape_worker(svc).text)
    assert _value(api, "c2xc_runs", status="completed") - _value(api_before, "c2xc_runs", status="completed") == 2
    assert _value(api, "c2xc_runs_ended_total", status="failed", error_code="invalid_output") == 1
    assert _value(api, "c2xc_workers_live") == 1 and ("c2xc_oldest_queued_run_age_seconds", ()) in api
    posted = _value(api, "c2xc_http_request_duration_seconds_count", method="POST", route="/api/v1/batches",
                    status="201")
    assert posted - _value(api_before, "c2xc_http_request_duration_seconds_count", method="POST",
                           route="/api/v1/batches", status="201") == 2
    assert any(name == "c2xc_http_request_duration_seconds_count" and dict(labels).get("route") ==
               "/api/v1/runs/<string:run_id>" for name, labels in api)  # templates, never ids
    ids = re.compile(r"(run|batch|exp|plan|learn|mem)_[0-9a-f]{16,}")
    assert not any(ids.search(value) for (_, labels) in [*api, *worker] for _, value in labels)  # bounded

    def moved(name, **labels):
        return _value(worker, name, **labels) - _value(worker_before, name, **labels)
    assert moved("c2xc_worker_runs_ended_total", status="completed", error_code="") == 2
    assert moved("c2xc_worker_runs_ended_total", status="failed", error_code="invalid_output") == 1
    assert moved("c2xc_worker_run_duration_seconds_count", mode="dry_run") == 2
    assert moved("c2xc_llm_calls_total", model="fake-qwen", purpose="agent", outcome="ok") >= 3
    assert moved("c2xc_llm_prompt_tokens_total", model="fake-qwen") > 0
    assert moved("c2xc_llm_completion_tokens_total", model="fake-qwen") > 0
