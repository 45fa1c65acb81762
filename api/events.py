"""`/runs/{run_id}/events`: the trace, paged oldest first; payloads only on request."""
from __future__ import annotations

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.schemas import EventListArgsSchema, EventListSchema, EventSchema
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
        return page_dict([event_dict(e, args["include_payload"]) for e in items],
                         next_cursor, has_more)


@blp.route("/runs/<string:run_id>/events/<string:event_id>")
class EventDetail(MethodView):
    @blp.response(200, EventSchema)
    @blp.alt_response(404, description="no such run or event")
    def get(self, run_id, event_id):
        """One event with its full payload."""
        return event_dict(events.get_event(conn(), run_id, event_id), with_payload=True)
