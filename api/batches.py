"""`/batches`: create (idempotent), list, detail, cancel."""
from __future__ import annotations

import time

from flask.views import MethodView

from api.batch_creation import create_batch
from api.blueprint import Blueprint
from api.context import conn, services
from api.exact_json import send_with_etag
from api.schemas import (
    BatchCreatedSchema,
    BatchCreateSchema,
    BatchListArgsSchema,
    BatchListSchema,
    BatchSchema,
    CancelBodySchema,
    CancelResultSchema,
    IdempotencyHeaderSchema,
)
from api.serializers import batch_dict, cancel_dict, page_dict
from store import batches, cancels

blp = Blueprint("batches", __name__, description="Batches of runs")


@blp.route("/batches")
class Batches(MethodView):
    @blp.arguments(BatchCreateSchema)
    @blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
    @blp.response(201, BatchCreatedSchema)
    @blp.alt_response(409, description="Idempotency-Key reused with a different body")
    @blp.alt_response(413, description="request body too large")
    @blp.alt_response(422, description="validation failed; details.fields lists the fields")
    @blp.alt_response(503, description="a normal run's dependencies are missing; details.missing")
    def post(self, body, idempotency_key=None):
        """Create a batch of `n_runs` queued runs (dry or normal).

        With an `Idempotency-Key` header, the same key and body return the
        first response (same batch, same status) and create nothing.
        """
        result = create_batch(services(), body, idempotency_key)
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return result.body, result.status, headers

    @blp.etag
    @blp.arguments(BatchListArgsSchema, location="query")
    @blp.response(200, BatchListSchema)
    def get(self, args):
        """List batches, newest first; filter by `status` and `q`.

        Carries an `ETag`; a poller that sends it back as `If-None-Match`
        gets `304 Not Modified` while nothing in the page changed.
        """
        items, next_cursor, has_more = batches.list_batches(
            conn(), status=args.get("status"), q=args.get("q"), limit=args["limit"],
            cursor=args.get("cursor"))
        return send_with_etag(page_dict([batch_dict(b) for b in items], next_cursor, has_more))


@blp.route("/batches/<string:batch_id>")
class BatchDetail(MethodView):
    @blp.etag
    @blp.response(200, BatchSchema)
    @blp.alt_response(404, description="no such batch")
    def get(self, batch_id):
        """One batch with its config snapshot and run status counts."""
        return batches.get_batch(conn(), batch_id)


@blp.route("/batches/<string:batch_id>/cancel")
class BatchCancel(MethodView):
    @blp.arguments(CancelBodySchema, required=False)
    @blp.response(202, CancelResultSchema)
    @blp.alt_response(404, description="no such batch")
    def post(self, body, batch_id):
        """Ask to cancel every unfinished run of the batch (asynchronous, best effort)."""
        outcome = cancels.request_batch_cancel(conn(), batch_id, (body or {}).get("reason"),
                                               time.time())
        return cancel_dict(outcome)
