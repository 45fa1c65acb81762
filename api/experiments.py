"""`/experiments`: recipes the lab plans, makes and measures (SPEC 14), and their CSV import/export.

The API writes experiments (as it writes feedback: the lab's own records); it
never runs anything. A PATCH with ``If-Match: "<version>"`` changes an
experiment only if nobody changed it since (412 otherwise); every response
carries the version as its ``ETag``.
"""
from __future__ import annotations

import time

from flask import request
from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.experiment_import import import_csv
from api.schemas.experiments import (
    ExperimentCreateSchema,
    ExperimentListArgsSchema,
    ExperimentListSchema,
    ExperimentPatchSchema,
    ExperimentSchema,
    ImportArgsSchema,
    ImportResultSchema,
)
from api.serializers import page_dict
from core.chemistry.recipes import check_recipe
from core.errors import InvalidArgument, ValidationFailed
from store import experiments
from store.experiments import ExperimentFilters, NewExperiment

blp = Blueprint("experiments", __name__, description="Experiments: what the lab plans, makes and measures")


def _etag(experiment) -> dict[str, str]:
    return {"ETag": f'"{experiment.version}"'}


def if_match_version() -> int | None:
    """The version named by ``If-Match`` (``"3"``, ``3`` or ``W/"3"``); None when absent."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidArgument("If-Match must be the experiment's version as its ETag gives it, e.g. \"3\"",
                              {"fields": {"If-Match": [f"not a version: {raw[:40]!r}"]}})
    return int(text)


def _checked_recipe(recipe: dict) -> dict:
    entered = {**recipe, "small_molecule_modifier": recipe.get("modifier", recipe.get("small_molecule_modifier"))}
    entered.pop("modifier", None)
    checked = check_recipe(entered, "recipe", require_name=False)
    if checked.problems:
        raise ValidationFailed("the recipe is not one the lab can make",
                               {"fields": {"recipe": checked.problems}, "problems": checked.problems})
    return checked.fields


@blp.route("/experiments")
class Experiments(MethodView):
    @blp.arguments(ExperimentListArgsSchema, location="query")
    @blp.response(200, ExperimentListSchema)
    def get(self, args):
        """List experiments, newest first; filter by status, run, plan, metal or recipe key (replicates)."""
        filters = ExperimentFilters(status=args.get("status"), run_id=args.get("run_id"),
                                    plan_id=args.get("plan_id"), metal=args.get("metal"),
                                    recipe_key=args.get("recipe_key"), archived=args["archived"])
        items, next_cursor, has_more = experiments.list_experiments(
            conn(), filters, limit=args["limit"], cursor=args.get("cursor"))
        return page_dict(items, next_cursor, has_more)

    @blp.arguments(ExperimentCreateSchema)
    @blp.response(201, ExperimentSchema)
    @blp.alt_response(404, description="run_id names no run")
    @blp.alt_response(409, description="the run has no recipes to make (not completed, or a dry run)")
    @blp.alt_response(422, description="a recipe the lab cannot make (details.problems), a rank out of "
                      "range, a measured experiment without a result, an unknown or archived product")
    def post(self, body):
        """Plan (or record) an experiment: a run's recipe (`run_id` + `rank`) or one entered by hand.

        A recipe entered by hand passes the agent's structure checks: two
        different stable metals, a ratio, a -COOH small molecule that is not
        the BTB linker, a name that does not contradict the structure.
        """
        new = NewExperiment(
            status=body["status"], source=(body["run_id"], body["rank"]) if "run_id" in body else None,
            recipe=_checked_recipe(body["recipe"]) if "recipe" in body else None,
            products=[(p["product_id"], p["value"]) for p in body["products"]], score=body["score"],
            conditions=body["conditions"], notes=body["notes"], extra=body["extra"])
        made = experiments.create_experiment(conn(), new, time.time())
        return made, 201, _etag(made)


@blp.route("/experiments/<string:experiment_id>")
class ExperimentDetail(MethodView):
    @blp.response(200, ExperimentSchema)
    @blp.alt_response(404, description="no such experiment")
    def get(self, experiment_id):
        """One experiment; its `ETag` is its version."""
        found = experiments.get_experiment(conn(), experiment_id)
        return found, 200, _etag(found)

    @blp.arguments(ExperimentPatchSchema)
    @blp.response(200, ExperimentSchema)
    @blp.alt_response(400, description="If-Match is not a version")
    @blp.alt_response(404, description="no such experiment")
    @blp.alt_response(409, description="a status that goes back, or a measurement changed here that "
                      "belongs to a run's feedback (details.run_id)")
    @blp.alt_response(412, description="If-Match names an older version (details.version: the current)")
    @blp.alt_response(422, description="measured without products or a score; a result on an experiment "
                      "not measured; an unknown or archived product")
    def patch(self, body, experiment_id):
        """Move an experiment on (`planned → in_lab → measured | failed`), record its result, notes.

        Send `If-Match` with the version you read: if someone changed it since,
        nothing is stored and the answer is 412 with the current version.
        """
        changes = dict(body)
        if "products" in changes:
            changes["products"] = [(p["product_id"], p["value"]) for p in changes["products"]]
        changed = experiments.update_experiment(conn(), experiment_id, if_version=if_match_version(),
                                                changes=changes, now=time.time())
        return changed, 200, _etag(changed)


@blp.route("/experiments/import")
class ExperimentImport(MethodView):
    @blp.arguments(ImportArgsSchema, location="query")
    @blp.doc(requestBody={"required": True, "description": "the CSV file (columns: docs/OPERATIONS.md, "
                          "\"Importing a lab notebook\"), as the body or as the form field `file`",
                          "content": {"text/csv": {"schema": {"type": "string"}},
                                      "multipart/form-data": {"schema": {
                                          "type": "object", "properties": {"file": {
                                              "type": "string", "format": "binary"}}}}}})
    @blp.response(201, ImportResultSchema, description="every row stored, in one transaction")
    @blp.alt_response(200, schema=ImportResultSchema, description="dry_run=true: every row is good; "
                      "nothing stored")
    @blp.alt_response(413, description="over C2XC_MAX_IMPORT_BYTES")
    @blp.alt_response(422, description="the header or some rows are bad: details.rows lists each bad "
                      "row's line and reasons; nothing stored")
    def post(self, args):
        """Import experiments from CSV: all rows or none; `?dry_run=true` checks without storing."""
        result = import_csv(conn(), dry_run=args["dry_run"])
        return result, 200 if args["dry_run"] else 201
