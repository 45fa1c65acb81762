"""`/runs`: list, detail, output, modifier checks, cancel."""
from __future__ import annotations

import time

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.exact_json import send, send_with_etag
from api.planning import with_predictions
from api.reasoning import reasoning_tree
from api.schemas import (
    CancelBodySchema,
    CancelResultSchema,
    ModifierChecksSchema,
    ReasoningSchema,
    RunListArgsSchema,
    RunListSchema,
    RunOutputSchema,
    RunSchema,
)
from api.serializers import cancel_dict, modifier_checks, output_dict, page_dict, run_dict
from core.chemistry.structure import MAX_HEAVY_ATOMS, MAX_MOLECULAR_WEIGHT
from core.errors import Conflict
from store import cancels, events, runs

REASONING_EVENTS = ("recap_info", "llm_response")

blp = Blueprint("runs", __name__, description="Runs and their output")


@blp.route("/runs")
class Runs(MethodView):
    @blp.etag
    @blp.arguments(RunListArgsSchema, location="query")
    @blp.response(200, RunListSchema)
    def get(self, args):
        """List runs in queue order (oldest first); filter by `batch_id` and `status`.

        Carries an `ETag` (send it back as `If-None-Match`: `304` while unchanged).
        """
        items, next_cursor, has_more = runs.list_runs(
            conn(), batch_id=args.get("batch_id"), status=args.get("status"),
            limit=args["limit"], cursor=args.get("cursor"))
        return send_with_etag(page_dict([run_dict(r) for r in items], next_cursor, has_more))


@blp.route("/runs/<string:run_id>")
class RunDetail(MethodView):
    @blp.etag
    @blp.response(200, RunSchema)
    @blp.alt_response(404, description="no such run")
    def get(self, run_id):
        """One run: status, timestamps, error, cancel request."""
        return send_with_etag(run_dict(runs.get_run(conn(), run_id)))


@blp.route("/runs/<string:run_id>/output")
class RunOutput(MethodView):
    @blp.response(200, RunOutputSchema)
    @blp.alt_response(404, description="no such run")
    @blp.alt_response(409, description="the run has no output (yet); details.status says why")
    def get(self, run_id):
        """The recipes, their citations and memory ids of a completed run.

        Each recipe also carries its `recipe_key` and a `prediction` of the
        objective product's share (mean, sd, 80 % interval, the model's data) once
        the lab has enough measured results; before that `prediction` is null and
        `prediction_reason` says why.
        """
        c = conn()
        return send(with_predictions(c, output_dict(_output_of(c, run_id))))


def _output_of(c, run_id: str):
    """The run's output; 404 for an unknown run, 409 naming its status while it has none."""
    output = runs.get_output(c, run_id)
    if output is None:
        run = runs.get_run(c, run_id)
        raise Conflict(f"run {run_id} has no output; its status is {run.status}",
                       {"run_id": run_id, "status": run.status})
    return output


@blp.route("/runs/<string:run_id>/modifier_checks")
class ModifierChecks(MethodView):
    @blp.response(200, ModifierChecksSchema)
    @blp.alt_response(404, description="no such run")
    @blp.alt_response(409, description="the run has no output (yet); details.status says why")
    def get(self, run_id):
        """What was checked about each recipe's modifier, from its structure (offline).

        Canonical SMILES, formula, molecular weight, InChIKey, the number of
        carboxylic acid groups, and whether OPSIN confirmed the name.
        """
        return {"run_id": run_id, "items": modifier_checks(_output_of(conn(), run_id)),
                "limits": {"max_heavy_atoms": MAX_HEAVY_ATOMS,
                           "max_molecular_weight": MAX_MOLECULAR_WEIGHT}}


@blp.route("/runs/<string:run_id>/reasoning")
class Reasoning(MethodView):
    @blp.response(200, ReasoningSchema)
    @blp.alt_response(404, description="no such run")
    def get(self, run_id):
        """The agent's reasoning as a tree of nodes, rebuilt from the trace (also while it runs).

        Each node: its role and task, its plan as first stated and as
        revised, the rounds it acted, its repairs, its conclusion and the
        evidence it cites, its LLM calls, tokens and time. `recipes` names,
        for each recipe of the output, the nodes whose conclusions cite the
        same evidence.
        """
        c = conn()
        run = runs.get_run(c, run_id)
        output = runs.get_output(c, run_id)
        recipes = output.recipes_json.get("recipes") if output else None
        tree = reasoning_tree(events.iter_events(c, run_id, REASONING_EVENTS), run.status, recipes)
        return {"run_id": run_id, "run_status": run.status, **tree}


@blp.route("/runs/<string:run_id>/cancel")
class RunCancel(MethodView):
    @blp.arguments(CancelBodySchema, required=False)
    @blp.response(202, CancelResultSchema)
    @blp.alt_response(404, description="no such run")
    def post(self, body, run_id):
        """Ask to cancel one run (asynchronous, best effort; always observable on the run)."""
        outcome = cancels.request_run_cancel(conn(), run_id, (body or {}).get("reason"),
                                             time.time())
        return cancel_dict(outcome)
