"""The floor for the hot reads: a bare Flask app doing only what each one must (bench.bare_stack).

Each handler runs the same store query as the service, builds the same
fields (cursors included) and sends them with ``jsonify``; the two lists and
the run carry an ETag as the service's do. No argument parsing, no
authentication, no error envelope, no schema: whatever the service spends
beyond this is framework and middleware. ``bench.bare_stack`` checks that
both answer with the same JSON before it measures anything.

Served by gunicorn with the service's own configuration:
``gunicorn -c api/gunicorn_conf.py bench.bare_app:app`` (``C2XC_DATABASE_URL`` or
``C2XC_SQLITE_PATH`` names the database).
"""
from __future__ import annotations

import hashlib
import os

from flask import Flask, jsonify, request

from api.serializers import batch_dict, event_dict, evidence_dict, output_dict, page_dict, run_dict
from store import batches, events, evidence, runs
from store.db import API_CACHE_MB, open_database

app = Flask(__name__)
database = open_database(os.environ.get("C2XC_DATABASE_URL") or os.environ["C2XC_SQLITE_PATH"], API_CACHE_MB)
app.teardown_appcontext(lambda _error: database.release())  # as the service: a pooled connection goes back


def _with_etag(data):
    response = jsonify(data)
    response.set_etag(hashlib.sha1(response.get_data()).hexdigest())
    return response


@app.get("/api/v1/healthz")
def healthz():
    return jsonify({"status": "ok"})


@app.get("/api/v1/batches")
def batch_list():
    items, next_cursor, has_more = batches.list_batches(
        database.connection(), status=None, q=None, limit=int(request.args["limit"]), cursor=None)
    return _with_etag(page_dict([batch_dict(b) for b in items], next_cursor, has_more))


@app.get("/api/v1/runs/<run_id>")
def run_detail(run_id):
    return _with_etag(run_dict(runs.get_run(database.connection(), run_id)))


@app.get("/api/v1/runs/<run_id>/output")
def run_output(run_id):
    return jsonify(output_dict(runs.get_output(database.connection(), run_id)))


@app.get("/api/v1/runs/<run_id>/events")
def event_list(run_id):
    conn = database.connection()
    runs.require_run(conn, run_id)
    items, next_cursor, has_more = events.list_events(
        conn, run_id, limit=int(request.args["limit"]), cursor=None, event_types=(), since=None,
        until=None, include_payload=False)
    return jsonify(page_dict([event_dict(e, False) for e in items], next_cursor, has_more))


@app.get("/api/v1/runs/<run_id>/evidence")
def evidence_list(run_id):
    conn = database.connection()
    runs.require_run(conn, run_id)
    items, next_cursor, has_more = evidence.list_evidence(
        conn, run_id, limit=int(request.args["limit"]), cursor=None, include_content=False)
    return jsonify(page_dict([evidence_dict(i, False) for i in items], next_cursor, has_more))
