"""`/runs/{run_id}/evidence`: the chunks a run retrieved, by alias, without scanning events."""
from __future__ import annotations

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.exact_json import send
from api.schemas import EvidenceListArgsSchema, EvidenceListSchema, EvidenceSchema
from api.serializers import evidence_dict, page_dict
from store import evidence, runs

blp = Blueprint("evidence", __name__, description="Evidence registry of a run")


@blp.route("/runs/<string:run_id>/evidence")
class EvidenceList(MethodView):
    @blp.arguments(EvidenceListArgsSchema, location="query")
    @blp.response(200, EvidenceListSchema)
    @blp.alt_response(404, description="no such run")
    def get(self, args, run_id):
        """Every chunk retrieved in the run, in retrieval order; content on request."""
        c = conn()
        runs.require_run(c, run_id)
        items, next_cursor, has_more = evidence.list_evidence(
            c, run_id, limit=args["limit"], cursor=args.get("cursor"),
            include_content=args["include_content"])
        return send(page_dict([evidence_dict(i, args["include_content"]) for i in items],
                              next_cursor, has_more))


@blp.route("/runs/<string:run_id>/evidence/<string:alias>")
class EvidenceDetail(MethodView):
    @blp.response(200, EvidenceSchema)
    @blp.alt_response(404, description="no such run or alias")
    def get(self, run_id, alias):
        """One evidence item with the full chunk text."""
        c = conn()
        runs.require_run(c, run_id)
        return evidence_dict(evidence.get_evidence(c, run_id, alias), with_content=True)
