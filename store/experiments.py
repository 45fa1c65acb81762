"""Experiments: every recipe the lab plans, is making, has measured or could not make (SPEC 14).

One row per recipe made (several rows with one recipe key are replicates). The
rules live in migration v11's constraints; this module says them in words first,
so a client gets a precise 4xx rather than a constraint name:

* status moves forward only — ``planned → in_lab → measured | failed`` (a result
  may be entered at once) — and a measured experiment has products or a score;
* a run's feedback *is* the measured experiment of the recipe it names, written
  by :func:`write_feedback_experiment` in the feedback's own transaction; its
  measurement is changed through the feedback (one source of truth), its notes,
  conditions and ``archived`` flag here;
* ``version`` counts every change; :func:`update_experiment` refuses a stale
  one (``PreconditionFailed``), so of two concurrent edits one wins and the other
  is told to reload.

Nothing is deleted: ``archived`` hides an experiment from lists and the planner.
"""
from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from core.fractions import fractions, value_sum
from store import dialect, learn_jobs
from store import status as st
from store.cursor import decode_cursor, page, where
from store.db import write_transaction
from store.experiment_rows import FINISHED, NEXT_STATUSES, Experiment, ExperimentProduct, recipe_columns
from store.ids import new_id
from store.products import product_problems

SCHEMA_VERSION = 1
EXPORT_PAGE = 500
IMPORT_CHUNK = 500  # rows per few statements of an import's one transaction
_COLUMNS = ("experiment_id, m1, m2, atomic_ratio, modifier, modifier_smiles, canonical_smiles, recipe_key,"
            " metal_pair, source_run_id, source_rank, feedback_run_id, status, archived, score, value_sum,"
            " fractions_all_zero, conditions, notes, plan_id, created_at, updated_at, measured_at, version,"
            " schema_version, extra_json")

_INSERT = f"INSERT INTO experiments ({_COLUMNS}) VALUES ({', '.join('?' * 26)})"
_INSERT_PRODUCT = ("INSERT INTO experiment_products (experiment_seq, position, product_id, value, fraction)"
                   " VALUES (?, ?, ?, ?, ?)")


@dataclass
class NewExperiment:
    """What a client asks to store. ``recipe`` is already structure-checked (core.chemistry.recipes)
    unless ``source`` names a run's recipe, which the store reads from the run's output."""

    status: str = "planned"
    recipe: dict[str, Any] | None = None
    source: tuple[str, int] | None = None
    products: list[tuple[str, float]] = field(default_factory=list)
    score: float | None = None
    conditions: str = ""
    notes: str = ""
    plan_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _fields_problem(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {field_name: [message]}})


def _check_measurement(status: str, products: list[tuple[str, float]] | None, score: float | None) -> None:
    if status == "measured" and not products and score is None:
        raise _fields_problem("status", "a measured experiment needs its products or a score")
    if status != "measured" and (products or score is not None):
        raise _fields_problem("status", f"products and a score belong to a measured experiment; "
                                        f"this one is {status}")


def run_recipe(conn: sqlite3.Connection, run_id: str, rank: int) -> dict[str, Any]:
    """Recipe ``rank`` (1-based) of a completed normal run's output."""
    row = conn.execute("SELECT r.status, b.dry_run, o.recipes_json FROM runs r JOIN batches b"
                       " ON b.batch_id = r.batch_id LEFT JOIN run_outputs o ON o.run_id = r.run_id"
                       " WHERE r.run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFound(f"run {run_id!r} does not exist", {"run_id": run_id})
    if row["status"] != st.COMPLETED or row["recipes_json"] is None:
        raise Conflict(f"run {run_id} has no recipes to make (it is {row['status']})",
                       {"run_id": run_id, "status": row["status"]})
    if row["dry_run"]:
        raise Conflict(f"run {run_id} is a dry run: its recipes are placeholders, not for the lab",
                       {"run_id": run_id, "dry_run": True})
    recipes = json.loads(row["recipes_json"]).get("recipes", [])
    if not 1 <= rank <= len(recipes):
        raise _fields_problem("rank", f"rank must be 1..{len(recipes)} (the run's recipes)")
    return recipes[rank - 1]


def _products(conn: sqlite3.Connection, seqs: list[int]) -> dict[int, list[ExperimentProduct]]:
    found: dict[int, list[ExperimentProduct]] = {seq: [] for seq in seqs}
    if not seqs:
        return found
    for row in conn.execute(
            "SELECT ep.experiment_seq, ep.product_id, p.name, p.status, ep.value, ep.fraction"
            " FROM experiment_products ep JOIN products p ON p.product_id = ep.product_id"
            f" WHERE ep.experiment_seq IN ({','.join('?' * len(seqs))})"
            " ORDER BY ep.experiment_seq, ep.position", seqs):
        found[row["experiment_seq"]].append(ExperimentProduct(
            product_id=row["product_id"], name=row["name"], status=row["status"], value=row["value"],
            fraction=row["fraction"]))
    return found


def _records(conn: sqlite3.Connection, rows: list[Any]) -> list[Experiment]:
    products = _products(conn, [row["seq"] for row in rows])
    return [Experiment.from_row(row, products[row["seq"]]) for row in rows]


def get_experiment(conn: sqlite3.Connection, experiment_id: str) -> Experiment:
    row = conn.execute("SELECT * FROM experiments WHERE experiment_id = ?", (experiment_id,)).fetchone()
    if row is None:
        raise NotFound(f"experiment {experiment_id!r} does not exist", {"experiment_id": experiment_id})
    return _records(conn, [row])[0]


def _measured(products: list[tuple[str, float]]) -> tuple[float | None, int | None, list[float]]:
    """(value_sum, fractions_all_zero, fractions) of the products; (None, None, []) for none."""
    if not products:
        return None, None, []
    values = [value for _, value in products]
    parts, all_zero = fractions(values)
    return value_sum(values), int(all_zero), parts


def _write_products(conn: sqlite3.Connection, seq: int, products: list[tuple[str, float]],
                    parts: list[float]) -> None:
    conn.execute("DELETE FROM experiment_products WHERE experiment_seq = ?", (seq,))
    conn.executemany(_INSERT_PRODUCT, _product_rows(seq, products, parts))


def _check_products(conn: sqlite3.Connection, products: list[tuple[str, float]]) -> None:
    problems = product_problems(conn, [product_id for product_id, _ in products],
                                lambda index: f"products[{index}].product_id")
    if problems:
        raise ValidationFailed("the experiment's products are not acceptable", {"fields": problems})


def _row(conn: sqlite3.Connection, new: NewExperiment, now: float,
         products_usable: Callable[[list[tuple[str, float]]], bool]) -> tuple[tuple, list[float]]:
    """The experiments row of ``new`` (its id first) and its products' fractions, every rule
    checked; ``products_usable`` may say yes without a query (an import knows the catalogue)."""
    _check_measurement(new.status, new.products, new.score)
    recipe = run_recipe(conn, *new.source) if new.source else new.recipe
    columns = recipe_columns(recipe)
    if columns[0] is None:
        raise _fields_problem("recipe", "the recipe has no key: metals, ratio and modifier_smiles are needed")
    if not products_usable(new.products):
        _check_products(conn, new.products)  # raises with the precise problem
    measured_at = now if new.status in FINISHED else None
    total, all_zero, parts = _measured(new.products)
    return ((new_id("exp"), *columns, *(new.source or (None, None)), None, new.status, 0, new.score, total,
             all_zero, new.conditions, new.notes, new.plan_id, now, now, measured_at, 1, SCHEMA_VERSION,
             json.dumps(new.extra)), parts)


def _product_rows(seq: int, products: list[tuple[str, float]], parts: list[float]) -> list[tuple]:
    return [(seq, i, product_id, value, part) for i, ((product_id, value), part) in enumerate(zip(products, parts))]


def insert_experiment(conn: sqlite3.Connection, new: NewExperiment, now: float) -> Experiment:
    """Caller holds the write transaction (a plan's accept stores several in one)."""
    values, parts = _row(conn, new, now, lambda products: False)
    seq = conn.execute(_INSERT + " RETURNING seq", values).fetchone()[0]
    conn.executemany(_INSERT_PRODUCT, _product_rows(seq, new.products, parts))
    stored = _records(conn, [conn.execute("SELECT * FROM experiments WHERE seq = ?", (seq,)).fetchone()])[0]
    if new.status in FINISHED:  # a result: memory learns it (SPEC 14), in the worker
        learn_jobs.queue_in_transaction(conn, stored, "experiment", now, fresh=True)
    return stored


def create_experiment(conn: sqlite3.Connection, new: NewExperiment, now: float) -> Experiment:
    with write_transaction(conn):
        return insert_experiment(conn, new, now)


def insert_many(conn: sqlite3.Connection, news: Iterator[NewExperiment], now: float) -> int:
    """Every experiment or none, in one write transaction (a CSV import).

    The write lock is held for the whole file, so rows go in chunks of ``IMPORT_CHUNK`` with a
    handful of statements each (the rows, their products, reading the results back, their
    learn jobs) instead of eight per row: 10,000 rows held the lock 2.4 s one by one
    (``bench/experiments.py``). Products are checked against the active catalogue read once.
    """
    active = {row["product_id"] for row in conn.execute("SELECT product_id FROM products WHERE status = ?",
                                                        ("active",))}

    def usable(products: list[tuple[str, float]]) -> bool:
        ids = [product_id for product_id, _ in products]
        return len(set(ids)) == len(ids) and active.issuperset(ids)

    count, news = 0, iter(news)
    with write_transaction(conn):
        while chunk := list(itertools.islice(news, IMPORT_CHUNK)):
            _insert_chunk(conn, [(new, *_row(conn, new, now, usable)) for new in chunk], now)
            count += len(chunk)
    return count


def _insert_chunk(conn: sqlite3.Connection, rows: list[tuple[NewExperiment, tuple, list[float]]],
                  now: float) -> None:
    conn.executemany(_INSERT, [values for _, values, _ in rows])
    ids = [values[0] for _, values, _ in rows]
    seq_of = dict(conn.execute(f"SELECT experiment_id, seq FROM experiments WHERE experiment_id IN"
                               f" ({','.join('?' * len(ids))})", ids).fetchall())
    conn.executemany(_INSERT_PRODUCT, [product for new, values, parts in rows
                                       for product in _product_rows(seq_of[values[0]], new.products, parts)])
    finished = [seq_of[values[0]] for new, values, _ in rows if new.status in FINISHED]
    if finished:  # results: memory learns them (SPEC 14), in the worker
        stored = conn.execute(f"SELECT * FROM experiments WHERE seq IN ({','.join('?' * len(finished))})"
                              " ORDER BY seq", finished).fetchall()
        learn_jobs.queue_fresh(conn, _records(conn, stored), "experiment", now)


def update_experiment(conn: sqlite3.Connection, experiment_id: str, *, if_version: int | None,
                      changes: dict[str, Any], now: float) -> Experiment:
    """Apply ``changes`` (status, products, score, conditions, notes, archived, extra) at once.

    ``if_version`` (from ``If-Match``): the version the client last saw; another
    is a ``PreconditionFailed`` with the current version, and nothing changes.
    """
    with write_transaction(conn):
        dialect.lock(conn, "lock_experiment", experiment_id)
        current = get_experiment(conn, experiment_id)
        if if_version is not None and if_version != current.version:
            raise PreconditionFailed(
                f"experiment {experiment_id} changed since version {if_version} (now {current.version}); "
                "reload it and apply the change again",
                {"experiment_id": experiment_id, "version": current.version, "if_match": if_version})
        measurement = {"status", "products", "score"} & changes.keys()
        if current.feedback_run_id and measurement:
            raise Conflict(f"this experiment is the lab feedback of run {current.feedback_run_id}: change "
                           f"its {', '.join(sorted(measurement))} with PUT /runs/{current.feedback_run_id}"
                           "/feedback (its notes, conditions and archived flag change here)",
                           {"run_id": current.feedback_run_id, "fields": sorted(measurement)})
        status = changes.get("status", current.status)
        if status not in NEXT_STATUSES[current.status]:
            raise Conflict(f"an experiment moves forward only (planned → in_lab → measured | failed); "
                           f"this one is {current.status}",
                           {"status": current.status, "requested": status,
                            "allowed": list(NEXT_STATUSES[current.status])})
        products = changes.get("products")
        keep_products = [(p.product_id, p.value) for p in current.products]
        score = changes["score"] if "score" in changes else current.score
        _check_measurement(status, keep_products if products is None else products, score)
        row = conn.execute("SELECT seq FROM experiments WHERE experiment_id = ?", (experiment_id,)).fetchone()
        total, all_zero = current.value_sum, current.fractions_all_zero
        if products is not None:
            _check_products(conn, products)
            total, all_zero, parts = _measured(products)
            _write_products(conn, row["seq"], products, parts)
        measured_at = current.measured_at
        if status in FINISHED and current.status not in FINISHED:
            measured_at = now
        conn.execute(
            "UPDATE experiments SET status = ?, score = ?, value_sum = ?, fractions_all_zero = ?,"
            " conditions = ?, notes = ?, archived = ?, extra_json = ?, measured_at = ?, updated_at = ?,"
            " version = version + 1 WHERE seq = ?",
            (status, score, total, None if all_zero is None else int(all_zero),
             changes.get("conditions", current.conditions), changes.get("notes", current.notes),
             int(changes.get("archived", current.archived)), json.dumps(changes.get("extra", current.extra)),
             measured_at, now, row["seq"]))
        updated = get_experiment(conn, experiment_id)
        # a new or changed result is learned; an archived one withdrawn; nothing else is queued
        learn_jobs.queue_in_transaction(conn, updated, "experiment", now)
        return updated


def write_feedback_experiment(conn: sqlite3.Connection, run_id: str, *, recipe: dict | None,
                              rank: int | None, score: float, now: float, feedback_version: int) -> Experiment:
    """The measured experiment a run's feedback is (caller: ``put_feedback``, in its transaction).

    Created on the first save and rewritten on each: recipe (unknown without
    ``rank``), score and the feedback's products, which the caller has just
    stored and checked.
    """
    columns = recipe_columns(recipe)
    source = (run_id, rank) if columns[0] is not None else (None, None)
    old = conn.execute("SELECT seq FROM experiments WHERE feedback_run_id = ?", (run_id,)).fetchone()
    extra = json.dumps({"feedback_version": feedback_version})
    if old is None:
        seq = conn.execute(
            f"INSERT INTO experiments ({_COLUMNS}) VALUES ({', '.join('?' * 26)}) RETURNING seq",
            (new_id("exp"), *columns, *source, run_id, "measured", 0, score, 0.0, 1, "", "", None, now, now,
             now, 1, SCHEMA_VERSION, extra)).fetchone()[0]
    else:
        seq = old["seq"]
        conn.execute(
            "UPDATE experiments SET m1 = ?, m2 = ?, atomic_ratio = ?, modifier = ?, modifier_smiles = ?,"
            " canonical_smiles = ?, recipe_key = ?, metal_pair = ?, source_run_id = ?, source_rank = ?,"
            " score = ?, measured_at = ?, updated_at = ?, extra_json = ?, version = version + 1"
            " WHERE seq = ?", (*columns, *source, score, now, now, extra, seq))
    conn.execute("DELETE FROM experiment_products WHERE experiment_seq = ?", (seq,))
    conn.execute("INSERT INTO experiment_products (experiment_seq, position, product_id, value, fraction)"
                 " SELECT ?, position, product_id, value, fraction FROM feedback_products WHERE run_id = ?",
                 (seq, run_id))
    conn.execute("UPDATE experiments SET value_sum = (SELECT value_sum FROM run_feedback WHERE run_id = ?),"
                 " fractions_all_zero = (SELECT fractions_all_zero FROM run_feedback WHERE run_id = ?)"
                 " WHERE seq = ?", (run_id, run_id, seq))
    return _records(conn, [conn.execute("SELECT * FROM experiments WHERE seq = ?", (seq,)).fetchone()])[0]


@dataclass(frozen=True)
class ExperimentFilters:
    status: str | None = None
    run_id: str | None = None
    plan_id: str | None = None
    metal: str | None = None
    recipe_key: str | None = None
    archived: bool = False


def _filter_clause(filters: ExperimentFilters, before_seq: int | None) -> tuple[str, list]:
    conditions = [("seq < ?", before_seq), ("status = ?", filters.status),
                  ("plan_id = ?", filters.plan_id), ("recipe_key = ?", filters.recipe_key),
                  ("archived = ?", int(filters.archived))]
    clause, params = where(conditions)
    # "either column" as a set of keys from two index searches, checked while walking an index in
    # seq order: an OR, or a search by those keys, would make SQLite sort every match to return
    # one page (tests/test_query_plans.py). The unary + keeps seq's own index out of the IN (an
    # integer expression on both engines; PostgreSQL's planner costs it either way).
    for value, first, second in ((filters.run_id, "source_run_id", "feedback_run_id"),
                                 (filters.metal, "m1", "m2")):
        if value:
            clause += (f" AND +seq IN (SELECT seq FROM experiments WHERE {first} = ?"
                       f" UNION ALL SELECT seq FROM experiments WHERE {second} = ?)")
            params += [value, value]
    return clause, params


def list_experiments(conn: sqlite3.Connection, filters: ExperimentFilters, *, limit: int,
                     cursor: str | None) -> tuple[list[Experiment], str | None, bool]:
    """Newest first, keyset-paged."""
    clause, params = _filter_clause(filters, decode_cursor("experiments", cursor) if cursor else None)
    rows = conn.execute(f"SELECT * FROM experiments {clause} ORDER BY seq DESC LIMIT ?",
                        (*params, limit + 1)).fetchall()
    rows, next_cursor, has_more = page(rows, limit, "experiments", lambda row: row["seq"])
    return _records(conn, rows), next_cursor, has_more


def export_pages(conn: sqlite3.Connection, include_archived: bool = True) -> Iterator[Experiment]:
    """Every experiment, oldest first, ``EXPORT_PAGE`` at a time (no transaction held between pages)."""
    after = 0
    archived = "" if include_archived else " AND archived = 0"
    while True:
        rows = conn.execute(f"SELECT * FROM experiments WHERE seq > ?{archived} ORDER BY seq LIMIT ?",
                            (after, EXPORT_PAGE)).fetchall()
        if not rows:
            return
        yield from _records(conn, rows)
        after = rows[-1]["seq"]


def export_products(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(product id, name) for the export's columns, in catalogue order: the active products and
    the archived ones some experiment measured."""
    return [(r["product_id"], r["name"]) for r in conn.execute(
        "SELECT product_id, name FROM products WHERE status = 'active' OR EXISTS (SELECT 1"
        " FROM experiment_products ep WHERE ep.product_id = products.product_id) ORDER BY seq")]


@dataclass(frozen=True)
class LabResult:
    """A measured or failed experiment as the planner reads it (the product shares by name)."""

    recipe_key: str
    status: str
    shares: dict[str, float]         # catalogue name key -> fraction of the measured products
    fractions_all_zero: bool | None
    score: float | None


_REAL_LAB = ("LEFT JOIN runs r ON r.run_id = COALESCE(e.source_run_id, e.feedback_run_id)"
             " LEFT JOIN batches b ON b.batch_id = r.batch_id"
             " WHERE e.archived = 0 AND e.recipe_key IS NOT NULL AND COALESCE(b.dry_run, 0) = 0")


def lab_results(conn: sqlite3.Connection) -> list[LabResult]:
    """Every measured or failed experiment with a known recipe, not archived, not a dry run's
    placeholder recipe, oldest first: what the planner's model learns from."""
    rows = conn.execute(f"SELECT e.seq, e.recipe_key, e.status, e.fractions_all_zero, e.score FROM experiments e"
                        f" {_REAL_LAB} AND e.status IN ('measured', 'failed') ORDER BY e.seq").fetchall()
    shares: dict[int, dict[str, float]] = {row["seq"]: {} for row in rows}
    for row in conn.execute(
            "SELECT ep.experiment_seq, p.name_norm, ep.fraction FROM experiment_products ep"
            " JOIN products p ON p.product_id = ep.product_id JOIN experiments e ON e.seq = ep.experiment_seq"
            " WHERE e.archived = 0 AND e.status = 'measured' AND e.recipe_key IS NOT NULL"):
        if row["experiment_seq"] in shares:
            shares[row["experiment_seq"]][row["name_norm"]] = row["fraction"]
    return [LabResult(row["recipe_key"], row["status"], shares[row["seq"]],
                      None if row["fractions_all_zero"] is None else bool(row["fractions_all_zero"]), row["score"])
            for row in rows]


def pending_keys(conn: sqlite3.Connection) -> list[str]:
    """The recipe keys of experiments planned or in the lab (a plan counts them as chosen)."""
    return [row[0] for row in conn.execute(
        f"SELECT DISTINCT e.recipe_key FROM experiments e {_REAL_LAB} AND e.status IN ('planned', 'in_lab')"
        " ORDER BY e.recipe_key")]


def modifier_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Canonical SMILES → the name the lab last wrote for it (a composed recipe shows a name)."""
    return {row[0]: row[1] for row in conn.execute(
        "SELECT canonical_smiles, modifier FROM experiments WHERE modifier IS NOT NULL AND canonical_smiles"
        " IS NOT NULL ORDER BY seq")}


def results_marker(conn: sqlite3.Connection) -> tuple:
    """Changes whenever anything the planner reads changes: an experiment added (count, newest seq)
    or changed in any way (every change counts its version up, so the sum grows), or a product
    added, renamed or archived. A process keeps its lab model while the marker stays the same."""
    experiments_part = conn.execute("SELECT COUNT(*), COALESCE(MAX(seq), 0), COALESCE(SUM(version), 0)"
                                    " FROM experiments").fetchone()
    products_part = conn.execute("SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM products").fetchone()
    return (*tuple(experiments_part), *tuple(products_part))
