"""A lab notebook as CSV → experiments: the columns, and every bad row's line and reason.

The columns (header names compared without case; docs/OPERATIONS.md "Importing a lab notebook"):

* ``M1``, ``M2``, ``atomic_ratio``, ``modifier_smiles`` — the recipe, checked like
  the agent's (two stable metals, a ratio, a -COOH small molecule that is not
  the BTB linker); ``modifier`` — its name, checked against the structure where
  OPSIN parses it;
* or ``run_id`` + ``rank`` — a recipe of a completed run (the recipe columns may
  then stay empty, or must name the same recipe);
* ``status`` — planned, in_lab, measured, failed (empty: measured when the row
  has a result, else planned); ``score`` (0–10); ``conditions``; ``notes``;
* ``product:<name>`` — the measured amount of that catalogue product (any unit
  shared by the row's products; empty: not measured). Fractions are computed.

The export's computed columns (ids, keys, times, fractions, …) are accepted and
ignored, so an exported file imports again; any other column refuses the file,
so a misspelt column is never silently dropped. Cells the export escaped for a
spreadsheet (``'=…``) are read back unescaped.

Reading is a generator over a text stream: memory does not grow with the file.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

from api.export import FORMULA_STARTS
from core.catalogue_names import name_key
from core.chemistry.recipes import check_recipe
from core.recipe_key import key_or_none
from store.experiment_rows import STATUSES
from store.experiments import NewExperiment

PRODUCT_PREFIX = "product:"
RECIPE_COLUMNS = ("m1", "m2", "atomic_ratio", "modifier", "modifier_smiles")
READ_COLUMNS = (*RECIPE_COLUMNS, "run_id", "rank", "status", "score", "conditions", "notes")
# What the export adds that an import computes again or cannot set.
IGNORED_COLUMNS = ("experiment_id", "archived", "canonical_smiles", "recipe_key", "metal_pair",
                   "feedback_run_id", "plan_id", "value_sum", "created_at", "created_iso",
                   "measured_at", "measured_iso", "updated_at", "version")
IGNORED_PREFIXES = ("fraction:",)
MAX_PROBLEMS_REPORTED = 1000


class HeaderError(ValueError):
    """The file cannot be read at all (no header, unknown columns, a product that does not exist)."""


@dataclass
class Header:
    columns: list[str]                       # lower-cased, trimmed, in file order
    products: list[tuple[int, str, str]]     # (column index, product id, display name)
    ignored: list[str] = field(default_factory=list)


@dataclass
class RowResult:
    line: int
    experiment: NewExperiment | None
    problems: list[str]


def _unescape(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2] and cell[1:].startswith(FORMULA_STARTS) else cell


def read_header(cells: list[str], catalogue: dict[str, tuple[str, str, str]]) -> Header:
    """Which column is which; HeaderError naming every column that cannot be read."""
    columns = [cell.strip().lstrip("\ufeff").lower() for cell in cells]
    problems, products, ignored = [], [], []
    for index, (column, raw) in enumerate(zip(columns, cells)):
        if column.startswith(PRODUCT_PREFIX):
            name = raw.strip()[len(PRODUCT_PREFIX):]
            found = catalogue.get(name_key(name))
            if found is None:
                problems.append(f"column {raw.strip()!r}: no product named {name!r} in the catalogue "
                                "(add it on the Products page first)")
            else:
                products.append((index, found[0], found[1]))
        elif column in IGNORED_COLUMNS or column.startswith(IGNORED_PREFIXES):
            ignored.append(raw.strip())
        elif column not in READ_COLUMNS:
            problems.append(f"column {raw.strip()!r} is not one this import reads")
    repeated = sorted({c for c in columns if columns.count(c) > 1 and c})
    if repeated:
        problems.append(f"columns given twice: {', '.join(repeated)}")
    has_recipe = {"m1", "m2", "atomic_ratio", "modifier_smiles"} <= set(columns)
    if not has_recipe and not {"run_id", "rank"} <= set(columns):
        problems.append("the recipe columns are missing: M1, M2, atomic_ratio, modifier_smiles "
                        "(or run_id and rank)")
    if problems:
        raise HeaderError("; ".join(problems))
    return Header(columns, products, ignored)


def _number(text: str, what: str, problems: list[str], low: float, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{what}: {text!r} is not a number")
        return None
    if not math.isfinite(value) or not low <= value <= high:
        problems.append(f"{what}: {text!r} must be a finite number in {low:g}..{high:g}")
        return None
    return value


def _recipe(cells: dict[str, str], problems: list[str]) -> dict | None:
    recipe = {"M1": cells.get("m1", ""), "M2": cells.get("m2", ""),
              "atomic_ratio": cells.get("atomic_ratio", ""),
              "small_molecule_modifier": cells.get("modifier", ""),
              "modifier_smiles": cells.get("modifier_smiles", "")}
    checked = check_recipe(recipe, "recipe", require_name=False)
    problems += [p.replace("recipe.small_molecule_modifier", "modifier").replace("recipe.", "")
                 for p in checked.problems]
    return checked.fields if not checked.problems else None


def _source(cells: dict[str, str], problems: list[str]) -> tuple[str, int] | None:
    run_id, rank = cells.get("run_id", ""), cells.get("rank", "")
    if not run_id and not rank:
        return None
    if not run_id or not rank.isdigit() or int(rank) < 1:
        problems.append("run_id and rank go together (rank: 1, 2, …)")
        return None
    return run_id, int(rank)


def read_row(line: int, values: list[str], header: Header, product_status: dict[str, str]) -> RowResult:
    """One data row as a NewExperiment, or every problem with it (a run source is checked on store)."""
    problems: list[str] = []
    if len(values) > len(header.columns):
        problems.append(f"{len(values)} cells but the header has {len(header.columns)} columns")
    cells = {column: _unescape(value.strip()) for column, value in zip(header.columns, values)}
    source = _source(cells, problems)
    recipe_given = any(cells.get(c) for c in RECIPE_COLUMNS)
    recipe = _recipe(cells, problems) if recipe_given or source is None else None
    products = []
    for index, product_id, name in header.products:
        text = values[index].strip() if index < len(values) else ""
        if text:
            value = _number(text, f"product:{name}", problems, 0.0, 1.7976931348623157e308)
            if product_status.get(product_id) != "active":
                problems.append(f"product:{name}: the product is archived; restore it or leave the cell empty")
            if value is not None:
                products.append((product_id, value))
    score = _number(cells["score"], "score", problems, 0.0, 10.0) if cells.get("score") else None
    has_result = bool(products) or score is not None
    status = cells.get("status", "").lower() or ("measured" if has_result else "planned")
    if status not in STATUSES:
        problems.append(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    elif status == "measured" and not has_result:
        problems.append("status measured needs a score or at least one product:<name> value")
    elif status != "measured" and has_result:
        problems.append(f"status {status}: products and a score belong to a measured experiment")
    for column, limit in (("conditions", 2000), ("notes", 4000)):
        if len(cells.get(column, "")) > limit:
            problems.append(f"{column}: at most {limit} characters")
    if problems:
        return RowResult(line, None, problems)
    return RowResult(line, NewExperiment(
        status=status, recipe=recipe if source is None else None, source=source, products=products,
        score=score, conditions=cells.get("conditions", ""), notes=cells.get("notes", ""),
        extra={"imported": True, "recipe_as_written": recipe} if source and recipe else {"imported": True}),
        [])


def read_rows(stream: TextIO, catalogue: dict[str, tuple[str, str, str]]) -> tuple[Header, Iterator[RowResult]]:
    """The header, and each data row in turn (blank lines skipped). HeaderError for an unreadable file."""
    reader = csv.reader(stream)
    try:
        first = next(reader)
    except StopIteration:
        raise HeaderError("the file is empty: a header line naming the columns is needed") from None
    except csv.Error as error:
        raise HeaderError(f"line 1 is not CSV: {error}") from None
    header = read_header(first, catalogue)
    status_of = {product_id: status for product_id, _, status in catalogue.values()}

    def rows() -> Iterator[RowResult]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield RowResult(reader.line_num, None, [f"not CSV: {error}"])
                continue
            if any(v.strip() for v in values):
                yield read_row(reader.line_num, values, header, status_of)
    return header, rows()


def same_recipe_as_run(written: dict | None, run_recipe: dict) -> bool:
    """A row naming run_id + rank and a recipe too: they must be one recipe (by key)."""
    return written is None or key_or_none(written) == key_or_none(run_recipe)
