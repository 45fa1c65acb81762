"""`/runs/{run_id}/events`: the trace, paged oldest first; payloads only on request."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.context import services as current_services
from api.event_stream import start_after, stream_run_events
from api.exact_json import send
from api.schemas import (
    EventListArgsSchema,
    EventListSchema,
    EventSchema,
    EventStreamArgsSchema,
    LastEventIdHeaderSchema,
)
from api.serializers import event_dict, page_dict
from store import events, runs

blp = Blueprint("events", __name__, description="Run traces")


@blp.route("/runs/<string:run_id>/events")
class Events(MethodView):
    @blp.arguments(EventListArgsSchema, location="query")
    @blp.response(200, EventListSchema)
    @blp.alt_response(400, description="cursor does not decode")
    @blp.alt_response(404, description="no such run")
    def get(self, args, run_id):
        """Page through a run's events, oldest first.

        Filter with repeatable `event_type`, `since` (inclusive) and
        `until` (exclusive); payloads are included only with
        `include_payload=true`.
        """
        c = conn()
        runs.require_run(c, run_id)
        items, next_cursor, has_more = events.list_events(
            c, run_id, limit=args["limit"], cursor=args.get("cursor"),
            event_types=args.get("event_type") or (), since=args.get("since"),
            until=args.get("until"), include_payload=args["include_payload"])
        return send(page_dict([event_dict(e, args["include_payload"]) for e in items],
                              next_cursor, has_more))


@blp.route("/runs/<string:run_id>/events/stream")
class EventStream(MethodView):
    @blp.arguments(EventStreamArgsSchema, location="query")
    @blp.arguments(LastEventIdHeaderSchema, location="headers", as_kwargs=True)
    @blp.doc(responses={"200": {
        "description": "`text/event-stream`: one message per event, oldest first. Each "
                       "message's `id` is the event's list cursor and its `data` an event list "
                       "item (no payload). A comment line at least every 15 s; the stream ends "
                       "after the run's terminal event.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
    @blp.alt_response(400, description="`Last-Event-ID` or `after` is not a cursor of this list")
    @blp.alt_response(404, description="no such run")
    @blp.alt_response(503, description="too many open streams in this API worker")
    def get(self, args, run_id, last_event_id=None):
        """Follow a run's trace live (Server-Sent Events).

        Resume without loss or duplicates with the `Last-Event-ID` header
        (browsers send it on reconnect) or `after=<cursor>` (e.g. the
        `next_cursor` of a list page). Filter with repeatable `event_type`.
        """
        services = current_services()
        c = conn()
        runs.require_run(c, run_id)
        after = start_after(last_event_id, args.get("after"))
        services.streams.slots.take()
        body = stream_run_events(services.database, run_id, after, args.get("event_type") or [],
                                 services.api_settings.streams, services.streams.watcher,
                                 services.streams.slots, services.streams.feeds)

        return Response(body, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@blp.route("/runs/<string:run_id>/events/<string:event_id>")
class EventDetail(MethodView):
    @blp.response(200, EventSchema)
    @blp.alt_response(404, description="no such run or event")
    def get(self, run_id, event_id):
        """One event with its full payload."""
        return event_dict(events.get_event(conn(), run_id, event_id), with_payload=True)
