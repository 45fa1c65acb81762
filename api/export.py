"""`/export/recipes.csv`: every recipe of every completed run, with its lab feedback, for analysis.

One row per recipe: batch (its time as epoch seconds and as ISO 8601 UTC,
its request text), run, rank, metals, ratio, modifier and its checked
structure, whether this recipe is the one the lab made, and — on that row
only — the run's feedback score and one column per product (its fraction).
When the feedback does not say which recipe was made (``made_in_lab``
empty), every row of the run carries them. Product columns are the active
products and the archived ones some feedback used. Streamed a page of runs
at a time, so memory stays flat however many runs there are (tested with
10,000). ``?batch_id=`` exports one batch, ``?bom=true`` starts the CSV with a
UTF-8 byte-order mark for Excel, ``?format=jsonl`` gives the same rows as JSON
lines, fractions keyed by product name.

Text cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``@``, a tab or a carriage return) are prefixed with ``'``.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any, Iterator

from flask import Response
from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.schemas import ExportArgsSchema
from api.schemas.experiments import ExperimentExportArgsSchema
from store import experiments, feedback
from store.batches import get_batch

blp = Blueprint("export", __name__, description="Exports for analysis")
COLUMNS = ("batch_id", "batch_created_at", "batch_created_iso", "user_request", "run_id",
           "run_index", "finished_at", "finished_iso", "dry_run", "rank",
           "M1", "M2", "atomic_ratio", "modifier", "modifier_smiles", "canonical_smiles",
           "formula", "molecular_weight", "carboxylic_acid_groups", "name_check",
           "made_in_lab", "feedback_score")
FORMULA_STARTS = ("=", "+", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def iso(epoch: float | None) -> str | None:
    """ISO 8601 in UTC, to the second: what a spreadsheet reads as a date and time."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rows(run: feedback.ExportedRun) -> Iterator[dict[str, Any]]:
    for rank, recipe in enumerate(run.recipes, start=1):
        rank = recipe.get("rank", rank)
        facts = recipe.get("modifier_structure") or {}
        made = None if run.recipe_index is None else run.recipe_index == rank
        yield {"batch_id": run.batch_id, "batch_created_at": run.batch_created_at,
               "batch_created_iso": iso(run.batch_created_at), "user_request": run.user_request,
               "run_id": run.run_id, "run_index": run.run_index, "finished_at": run.finished_at,
               "finished_iso": iso(run.finished_at),
               "dry_run": run.dry_run, "rank": rank, "M1": recipe.get("M1"), "M2": recipe.get("M2"),
               "atomic_ratio": recipe.get("atomic_ratio"),
               "modifier": recipe.get("small_molecule_modifier"),
               "modifier_smiles": recipe.get("modifier_smiles"),
               "canonical_smiles": facts.get("canonical_smiles"), "formula": facts.get("formula"),
               "molecular_weight": facts.get("molecular_weight"),
               "carboxylic_acid_groups": facts.get("carboxylic_acid_groups"),
               "name_check": facts.get("name_check"),
               "made_in_lab": made,
               # the lab's numbers belong to the recipe it made, not to its neighbours
               "feedback_score": run.score if made is not False else None}


def csv_line_writer():
    """``line(values) -> str``: one CSV line at a time from one reused buffer (a streamed export)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()
    return line


def _csv(c, batch_id: str | None, bom: bool) -> Iterator[str]:
    products = feedback.export_products(c)
    if bom:
        yield "\ufeff"
    line = csv_line_writer()
    yield line([*COLUMNS, *(f"fraction_{name}" for _, name in products)])
    for run in feedback.export_rows(c, batch_id):
        for row in _rows(run):
            fractions = [run.fractions.get(pid) if row["feedback_score"] is not None else None
                         for pid, _ in products]
            yield line([_cell("" if row[k] is None else row[k]) for k in COLUMNS]
                       + ["" if f is None else f for f in fractions])


def _jsonl(c, batch_id: str | None) -> Iterator[str]:
    names = dict(feedback.export_products(c))
    for run in feedback.export_rows(c, batch_id):
        for row in _rows(run):
            row["fractions"] = ({names[pid]: f for pid, f in run.fractions.items() if pid in names}
                                if row["feedback_score"] is not None else {})
            yield json.dumps(row, ensure_ascii=False) + "\n"


@blp.route("/export/recipes.csv")
class RecipesExport(MethodView):
    @blp.arguments(ExportArgsSchema, location="query")
    @blp.doc(responses={"200": {
        "description": "one row per recipe of every completed run (streamed)",
        "content": {"text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, description="batch_id names no batch")
    @blp.alt_response(422, description="unknown format or query parameter")
    def get(self, args):
        """Every recipe of every completed run with its lab feedback, as CSV (or JSON lines).

        Columns: batch, run, rank, M1, M2, ratio, modifier, its SMILES and
        checked structure, the run's feedback score, whether the lab made this
        recipe, and `fraction_<product>` per catalogue product.
        """
        c = conn()
        batch_id = args.get("batch_id")
        if batch_id:
            get_batch(c, batch_id)  # 404 for an unknown batch, not an empty file
        name = f"recipes-{batch_id}" if batch_id else "recipes"
        if args["format"] == "jsonl":
            return Response(_jsonl(c, batch_id), mimetype="application/x-ndjson",
                            headers={"Content-Disposition": f"attachment; filename={name}.jsonl"})
        return Response(_csv(c, batch_id, args["bom"]), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={name}.csv"})


EXPERIMENT_COLUMNS = ("experiment_id", "status", "archived", "M1", "M2", "atomic_ratio", "modifier",
                      "modifier_smiles", "canonical_smiles", "recipe_key", "metal_pair", "run_id", "rank",
                      "feedback_run_id", "plan_id", "score", "conditions", "notes", "created_at",
                      "created_iso", "measured_at", "measured_iso")


def _experiment_cells(e) -> list[Any]:
    recipe, source = e.recipe or {}, e.source or {}
    values = (e.experiment_id, e.status, e.archived, recipe.get("M1"), recipe.get("M2"),
              recipe.get("atomic_ratio"), recipe.get("modifier"), recipe.get("modifier_smiles"),
              recipe.get("canonical_smiles"), recipe.get("recipe_key"), recipe.get("metal_pair"),
              source.get("run_id"), source.get("rank"), e.feedback_run_id, e.plan_id, e.score,
              e.conditions, e.notes, e.created_at, iso(e.created_at), e.measured_at, iso(e.measured_at))
    return [_cell("" if v is None else v) for v in values]


def _experiments_csv(c, bom: bool) -> Iterator[str]:
    products = experiments.export_products(c)
    if bom:
        yield "\ufeff"
    line = csv_line_writer()
    yield line([*EXPERIMENT_COLUMNS, *(f"product:{name}" for _, name in products),
                *(f"fraction:{name}" for _, name in products)])
    for e in experiments.export_pages(c):
        measured = {p.product_id: p for p in e.products}
        yield line(_experiment_cells(e)
                   + [measured[pid].value if pid in measured else "" for pid, _ in products]
                   + [measured[pid].fraction if pid in measured else "" for pid, _ in products])


@blp.route("/export/experiments.csv")
class ExperimentsExport(MethodView):
    @blp.arguments(ExperimentExportArgsSchema, location="query")
    @blp.doc(responses={"200": {"description": "one row per experiment, oldest first (streamed)",
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(422, description="unknown query parameter")
    def get(self, args):
        """Every experiment with its recipe, status, result (`product:<name>` amounts and
        `fraction:<name>` shares) and notes, as CSV. The file imports again as it is
        (`POST /experiments/import` reads the recipe, status, result and notes columns)."""
        return Response(_experiments_csv(conn(), args["bom"]), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=experiments.csv"})
