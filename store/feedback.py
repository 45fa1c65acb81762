"""Lab feedback: what a chemist measured after making a run's recipe, at most one per run.

``put_feedback`` replaces a run's feedback in one write transaction — the
row, its products and their fractions together — so a reader sees the old
feedback or the new one, never half; concurrent writers serialise on the
write lock and the last one wins. Fractions are computed here when they are
written (``core.fractions``), and stored.

``export_rows`` reads every completed run with its output and feedback in
keyset pages, for the CSV export: memory stays constant however many runs
there are.
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from core.errors import Conflict, NotFound, ValidationFailed
from core.fractions import fractions, value_sum
from store import dialect, experiments, learn_jobs
from store import status as st
from store.db import write_transaction
from store.ids import new_id
from store.products import product_problems
from store.records import Feedback, FeedbackProduct

SCHEMA_VERSION = 1
EXPORT_PAGE = 200


def _run_state(conn: sqlite3.Connection, run_id: str) -> tuple[str, list[dict], bool]:
    """(status, the recipes of its output, dry run?); NotFound for an unknown run."""
    row = conn.execute("SELECT r.status, o.recipes_json, b.dry_run FROM runs r JOIN batches b"
                       " ON b.batch_id = r.batch_id LEFT JOIN run_outputs o"
                       " ON o.run_id = r.run_id WHERE r.run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFound(f"run {run_id!r} does not exist", {"run_id": run_id})
    recipes = json.loads(row["recipes_json"]).get("recipes", []) if row["recipes_json"] else []
    return row["status"], recipes, bool(row["dry_run"])


def _check_products(conn: sqlite3.Connection, products: list[tuple[str, float]]) -> None:
    problems = product_problems(conn, [product_id for product_id, _ in products],
                                lambda index: f"products[{index}].product_id")
    if problems:
        raise ValidationFailed("the feedback's products are not acceptable", {"fields": problems})


def put_feedback(conn: sqlite3.Connection, run_id: str, *, score: float, pros: str, cons: str,
                 other: str, recipe_index: int | None, products: list[tuple[str, float]],
                 extra: dict[str, Any], clock: Callable[[], float] = time.time) -> Feedback:
    """Create or replace the run's feedback, atomically.

    The time is read once the write lock is held, so ``updated_at`` follows
    the order in which concurrent writers really committed. Every save counts
    the feedback's ``version`` up and, for a normal run, queues a learn job for
    that version in the same transaction (SPEC 12: a dry run's feedback is kept,
    never learned from). The feedback is also the measured experiment of the
    recipe it names (SPEC 14), rewritten in the same transaction.
    """
    with write_transaction(conn):
        dialect.lock(conn, "lock_run", run_id)  # concurrent saves replace one after the other
        now = clock()
        status, recipes, _dry_run = _run_state(conn, run_id)
        recipe_count = len(recipes)
        if status != st.COMPLETED:
            raise Conflict(f"feedback is for a completed run; run {run_id} is {status}",
                           {"run_id": run_id, "status": status})
        if recipe_index is not None and not 1 <= recipe_index <= recipe_count:
            raise ValidationFailed(f"recipe_index must be 1..{recipe_count} (the run's recipes)",
                                   {"fields": {"recipe_index": [f"1..{recipe_count}"]}})
        _check_products(conn, products)
        values = [value for _, value in products]
        parts, all_zero = fractions(values)
        old = conn.execute("SELECT feedback_id, created_at, version FROM run_feedback"
                           " WHERE run_id = ?", (run_id,)).fetchone()
        version = old["version"] + 1 if old else 1
        conn.execute("DELETE FROM feedback_products WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM run_feedback WHERE run_id = ?", (run_id,))
        conn.execute(
            "INSERT INTO run_feedback (run_id, feedback_id, score, pros, cons, other, recipe_index,"
            " value_sum, fractions_all_zero, created_at, updated_at, schema_version, extra_json,"
            " version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, old["feedback_id"] if old else new_id("feedback"), score, pros, cons, other,
             recipe_index, value_sum(values), int(all_zero), old["created_at"] if old else now,
             now, SCHEMA_VERSION, json.dumps(extra), version))
        conn.executemany(
            "INSERT INTO feedback_products (run_id, position, product_id, value, fraction)"
            " VALUES (?, ?, ?, ?, ?)",
            [(run_id, i, product_id, value, part)
             for i, ((product_id, value), part) in enumerate(zip(products, parts))])
        experiment = experiments.write_feedback_experiment(
            conn, run_id, recipe=recipes[recipe_index - 1] if recipe_index else None, rank=recipe_index,
            score=score, now=now, feedback_version=version)
        # a dry run's feedback is never learned; a save that changes nothing learns nothing
        learn_jobs.queue_in_transaction(conn, experiment, "feedback", now)
        return get_feedback(conn, run_id)


def get_feedback(conn: sqlite3.Connection, run_id: str) -> Feedback:
    _run_state(conn, run_id)  # NotFound for an unknown run
    row = conn.execute("SELECT * FROM run_feedback WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFound(f"run {run_id} has no feedback yet", {"run_id": run_id, "feedback": None})
    products = [FeedbackProduct(product_id=p["product_id"], name=p["name"], status=p["status"],
                                value=p["value"], fraction=p["fraction"])
                for p in conn.execute(
                    "SELECT fp.product_id, p.name, p.status, fp.value, fp.fraction"
                    " FROM feedback_products fp JOIN products p ON p.product_id = fp.product_id"
                    " WHERE fp.run_id = ? ORDER BY fp.position", (run_id,))]
    return Feedback(run_id=run_id, feedback_id=row["feedback_id"], score=row["score"],
                    pros=row["pros"], cons=row["cons"], other=row["other"],
                    recipe_index=row["recipe_index"], products=products,
                    value_sum=row["value_sum"], fractions_all_zero=bool(row["fractions_all_zero"]),
                    created_at=row["created_at"], updated_at=row["updated_at"],
                    schema_version=row["schema_version"], extra=json.loads(row["extra_json"]),
                    version=row["version"])


@dataclass(frozen=True)
class ExportedRun:
    batch_id: str
    batch_created_at: float
    user_request: str
    run_id: str
    run_index: int
    finished_at: float
    dry_run: bool
    recipes: list[dict[str, Any]]
    score: float | None
    recipe_index: int | None
    fractions: dict[str, float]  # product id -> fraction


def export_products(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(product id, name) of every product a chemist may meet in the export, in catalogue
    order: the active ones and the archived ones some feedback used (an archived product
    nobody measured would only be an empty column)."""
    return [(r["product_id"], r["name"]) for r in conn.execute(
        "SELECT product_id, name FROM products WHERE status = 'active' OR EXISTS (SELECT 1"
        " FROM feedback_products fp WHERE fp.product_id = products.product_id) ORDER BY seq")]


def export_rows(conn: sqlite3.Connection, batch_id: str | None = None) -> Iterator[ExportedRun]:
    """Every completed run (of ``batch_id``, if given), oldest first, a page of ``EXPORT_PAGE``
    at a time (no transaction is held between pages: a long download never pins the WAL)."""
    after = 0
    only_batch = "AND r.batch_id = ? " if batch_id else ""
    while True:
        rows = conn.execute(
            "SELECT r.seq, r.run_id, r.run_index, r.finished_at, r.batch_id, b.created_at AS"
            " batch_created_at, b.user_request, b.dry_run, o.recipes_json, f.score, f.recipe_index"
            " FROM runs r JOIN batches b ON b.batch_id = r.batch_id"
            " JOIN run_outputs o ON o.run_id = r.run_id"
            " LEFT JOIN run_feedback f ON f.run_id = r.run_id"
            f" WHERE r.status = ? {only_batch}AND r.seq > ? ORDER BY r.seq LIMIT ?",
            (st.COMPLETED, *([batch_id] if batch_id else []), after, EXPORT_PAGE)).fetchall()
        if not rows:
            return
        ids = [row["run_id"] for row in rows]
        parts: dict[str, dict[str, float]] = {}
        for p in conn.execute(f"SELECT run_id, product_id, fraction FROM feedback_products"
                              f" WHERE run_id IN ({','.join('?' * len(ids))})", ids):
            parts.setdefault(p["run_id"], {})[p["product_id"]] = p["fraction"]
        for row in rows:
            yield ExportedRun(batch_id=row["batch_id"], batch_created_at=row["batch_created_at"],
                              user_request=row["user_request"],
                              run_id=row["run_id"], run_index=row["run_index"],
                              finished_at=row["finished_at"], dry_run=bool(row["dry_run"]),
                              recipes=json.loads(row["recipes_json"]).get("recipes", []),
                              score=row["score"], recipe_index=row["recipe_index"],
                              fractions=parts.get(row["run_id"], {}))
        after = rows[-1]["seq"]
