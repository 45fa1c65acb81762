"""Plans: what the planner proposed, stored as answered, and their acceptance.

``accept_plan`` turns chosen items into planned experiments in one write
transaction with the plan's own change to ``accepted``: a second accept (or two
at once) finds the plan accepted and is a 409, so no item is planned twice.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from core.errors import Conflict, NotFound, ValidationFailed
from store import dialect
from store.db import write_transaction
from store.experiments import NewExperiment, insert_experiment
from store.experiment_rows import Experiment
from store.ids import new_id

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class StoredPlan:
    plan_id: str
    status: str
    created_at: float
    accepted_at: float | None
    request: dict[str, Any]
    answer: dict[str, Any]
    accepted: dict[str, Any] | None


def _plan(row) -> StoredPlan:
    return StoredPlan(row["plan_id"], row["status"], row["created_at"], row["accepted_at"],
                      json.loads(row["request_json"]), json.loads(row["answer_json"]),
                      json.loads(row["accepted_json"]) if row["accepted_json"] else None)


def save_plan(conn: sqlite3.Connection, *, request: dict, answer: dict, now: float) -> StoredPlan:
    plan_id = new_id("plan")
    answer = {**answer, "plan_id": plan_id, "created_at": now}
    with write_transaction(conn):
        conn.execute("INSERT INTO plans (plan_id, status, objective, goal, model_id, n_results, request_json,"
                     " answer_json, created_at, schema_version) VALUES (?, 'proposed', ?, ?, ?, ?, ?, ?, ?, ?)",
                     (plan_id, answer["objective"], answer["goal"], answer["model_id"], answer["n_results"],
                      json.dumps(request), json.dumps(answer), now, SCHEMA_VERSION))
    return get_plan(conn, plan_id)


def get_plan(conn: sqlite3.Connection, plan_id: str) -> StoredPlan:
    row = conn.execute("SELECT * FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
    if row is None:
        raise NotFound(f"plan {plan_id!r} does not exist", {"plan_id": plan_id})
    return _plan(row)


def accept_plan(conn: sqlite3.Connection, plan_id: str, indices: list[int] | None,
                now: float) -> tuple[StoredPlan, list[Experiment]]:
    """Planned experiments for the chosen items (1-based; None: all), with the plan's acceptance."""
    with write_transaction(conn):
        dialect.lock(conn, "lock_plan", plan_id)
        plan = get_plan(conn, plan_id)
        if plan.status == "accepted":
            raise Conflict(f"plan {plan_id} was accepted already", {"plan_id": plan_id,
                                                                    "accepted_at": plan.accepted_at})
        items = plan.answer["items"]
        chosen = indices or list(range(1, len(items) + 1))
        wrong = [i for i in chosen if not 1 <= i <= len(items)]
        if wrong or len(set(chosen)) != len(chosen):
            raise ValidationFailed(f"items must be distinct numbers 1..{len(items)}",
                                   {"fields": {"items": [f"1..{len(items)}, each once"]}})
        made = []
        for index in chosen:
            item = items[index - 1]
            source = item["source"]
            new = NewExperiment(status="planned", plan_id=plan_id,
                                source=(source["run_id"], source["rank"]) if source else None,
                                recipe=None if source else {"M1": item["recipe"]["M1"], "M2": item["recipe"]["M2"],
                                                            "atomic_ratio": item["recipe"]["atomic_ratio"],
                                                            "small_molecule_modifier": item["recipe"].get("modifier"),
                                                            "modifier_smiles": item["recipe"]["modifier_smiles"]},
                                extra={"plan_item": index})
            made.append(insert_experiment(conn, new, now))
        accepted = {"items": chosen, "experiment_ids": [e.experiment_id for e in made]}
        conn.execute("UPDATE plans SET status = 'accepted', accepted_at = ?, accepted_json = ? WHERE plan_id = ?",
                     (now, json.dumps(accepted), plan_id))
        return get_plan(conn, plan_id), made
