"""The hot reads send their dicts without a schema dump (api.exact_json): the bytes must not change.

A fixed database holds every shape a hot read can send: completed dry runs
(events with payloads, evidence, outputs), a failed run with its error, a
queued run with a cancel request, pages with and without a next cursor.
For each hot URL the body is compared byte for byte with what the schema
dump of the store's records gave before (``expected``, the former handlers'
code), and loaded back through the documented schema, which refuses any
field it does not document and any value of the wrong type.
"""
from __future__ import annotations

import json
import time

import pytest

from api.schemas import (
    BatchListSchema,
    EventListSchema,
    EvidenceListSchema,
    RunListSchema,
    RunOutputSchema,
    RunSchema,
)
from api.serializers import event_dict, evidence_dict, page_dict, run_dict
from core import trace
from store import batches, events, evidence, runs, workers
from tests.backends import app_connection
from tests.store_helpers import execute_queue


@pytest.fixture
def filled(make_app):
    app = make_app(C2XC_DRY_RUN_STEP_DELAY_S="0")
    client = app.test_client()
    for n_runs, recipes in ((3, 2), (2, 1)):
        body = {"user_request": "Cu/Mo", "dry_run": True, "n_runs": n_runs, "recipes_per_run": recipes}
        assert client.post("/api/v1/batches", json=body).status_code == 201
    execute_queue(app.extensions["c2xc"].database.target)
    failing = client.post("/api/v1/batches", json={"user_request": "fails", "dry_run": True}).get_json()
    waiting = client.post("/api/v1/batches", json={"user_request": "waits", "dry_run": True}).get_json()
    with app_connection(app) as conn:
        workers.register_worker(conn, worker_id="w-test", pid=1, host="here", poll_interval_s=1,
                                now=time.time())
        failed_id = runs.claim_next_run(conn, "w-test", time.time()).run_id
        runs.finish_run(conn, run_id=failed_id, worker_id="w-test", now=time.time(),
                        event=trace.RunFailed(error_code="llm_error", message="the model said no",
                                              details={}))
        assert failing["runs"][0]["run_id"] == failed_id
        client.post(f"/api/v1/runs/{waiting['runs'][0]['run_id']}/cancel", json={"reason": "not today"})
        yield app, client, conn


def _output_with_predictions(app, conn, run_id):
    """The stored output as the endpoint decorates it (recipe keys and predictions, SPEC 14)."""
    from api.planning import with_predictions
    from api.serializers import output_dict

    with app.app_context():
        return with_predictions(conn, output_dict(runs.get_output(conn, run_id)))


def _expected_bodies(app, conn, run_ids: list[str], completed: str) -> dict[str, tuple[object, dict]]:
    """URL -> (schema, what the former handler passed to its schema's dump)."""
    def batch_page(limit, status=None):
        return page_dict(*batches.list_batches(conn, status=status, q=None, limit=limit, cursor=None))

    def run_page(limit):
        items, cursor, more = runs.list_runs(conn, batch_id=None, status=None, limit=limit, cursor=None)
        return page_dict([run_dict(r) for r in items], cursor, more)

    def event_page(limit, payload, types=()):
        items, cursor, more = events.list_events(conn, completed, limit=limit, cursor=None, event_types=types,
                                                 since=None, until=None, include_payload=payload)
        return page_dict([event_dict(e, payload) for e in items], cursor, more)

    def evidence_page(limit, content):
        items, cursor, more = evidence.list_evidence(conn, completed, limit=limit, cursor=None,
                                                     include_content=content)
        return page_dict([evidence_dict(i, content) for i in items], cursor, more)

    base = f"/api/v1/runs/{completed}"
    cases = {
        "/api/v1/batches?limit=50": (BatchListSchema, batch_page(50)),
        "/api/v1/batches?limit=2": (BatchListSchema, batch_page(2)),
        "/api/v1/batches?limit=50&status=completed": (BatchListSchema, batch_page(50, "completed")),
        "/api/v1/runs?limit=50": (RunListSchema, run_page(50)),
        "/api/v1/runs?limit=3": (RunListSchema, run_page(3)),
        f"{base}/output": (RunOutputSchema, _output_with_predictions(app, conn, completed)),
        f"{base}/events?limit=50": (EventListSchema, event_page(50, False)),
        f"{base}/events?limit=4&include_payload=true": (EventListSchema, event_page(4, True)),
        f"{base}/events?limit=50&include_payload=true&event_type=final_output":
            (EventListSchema, event_page(50, True, ["final_output"])),
        f"{base}/evidence?limit=50": (EvidenceListSchema, evidence_page(50, False)),
        f"{base}/evidence?limit=2&include_content=true": (EvidenceListSchema, evidence_page(2, True)),
    }
    cases.update({f"/api/v1/runs/{run_id}": (RunSchema, run_dict(runs.get_run(conn, run_id)))
                  for run_id in run_ids})
    return cases


def test_every_hot_read_sends_the_bytes_the_schema_dump_sent(filled):
    app, client, conn = filled
    every_run = runs.list_runs(conn, batch_id=None, status=None, limit=50, cursor=None)[0]
    completed = next(r.run_id for r in every_run if r.status == "completed")
    statuses = {r.status for r in every_run}
    assert {"completed", "failed", "queued"} <= statuses, statuses
    assert any(r.cancel_requested for r in every_run) and any(r.error_code for r in every_run)
    assert evidence.list_evidence(conn, completed, limit=1, cursor=None, include_content=False)[0]

    for url, (schema, former) in _expected_bodies(app, conn, [r.run_id for r in every_run], completed).items():
        reply = client.get(url)
        assert reply.status_code == 200, (url, reply.get_json())
        with app.app_context():
            expected = app.json.response(schema().dump(former)).get_data()
        assert reply.get_data() == expected, url
        body = json.loads(reply.get_data())
        schema().load(body)  # every field documented, every value of its documented type
        assert schema().dump(body) == body, url


@pytest.mark.parametrize("url", ["/api/v1/batches?limit=50", "/api/v1/runs?limit=50", "/api/v1/runs/{run}"])
def test_a_hot_read_with_an_etag_answers_304_until_it_changes(filled, url):
    app, client, conn = filled
    run_id = client.post("/api/v1/batches", json={"user_request": "watched", "dry_run": True}
                         ).get_json()["runs"][0]["run_id"]
    url = url.format(run=run_id)
    tag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": tag})
    assert (again.status_code, again.get_data()) == (304, b"")
    client.post(f"/api/v1/runs/{run_id}/cancel", json={"reason": "changed"})
    client.post("/api/v1/batches", json={"user_request": "something new", "dry_run": True})
    changed = client.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
