"""An experiment as a record, and its recipe as the columns that store it.

Kept apart from ``store/experiments.py`` (the queries) because migration v11
fills the same columns from old feedback: one definition of what a stored
recipe is (its key from :mod:`core.recipe_key`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.recipe_key import key_or_none

STATUSES = ("planned", "in_lab", "measured", "failed")
FINISHED = ("measured", "failed")
# Forward only (SPEC 14): planned -> in_lab -> measured | failed; a result may be entered at once.
NEXT_STATUSES = {"planned": ("planned", "in_lab", "measured", "failed"),
                 "in_lab": ("in_lab", "measured", "failed"),
                 "measured": ("measured",), "failed": ("failed",)}


def recipe_columns(recipe: dict | None) -> tuple:
    """(m1, m2, atomic_ratio, modifier, modifier_smiles, canonical_smiles, recipe_key, metal_pair).

    All None when the recipe is absent or has no key (unknown: never guessed); the modifier's
    name alone may be None (a notebook that gives the structure only).
    """
    key = key_or_none(recipe)
    if key is None:
        return (None,) * 8
    return (recipe["M1"].strip(), recipe["M2"].strip(), recipe["atomic_ratio"].strip(),
            (recipe.get("small_molecule_modifier") or recipe.get("modifier") or "").strip() or None,
            recipe["modifier_smiles"].strip(), key.canonical_smiles, str(key), key.metal_pair)


@dataclass(frozen=True)
class ExperimentProduct:
    product_id: str
    name: str
    status: str
    value: float
    fraction: float


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    recipe: dict[str, Any] | None
    source: dict[str, Any] | None
    feedback_run_id: str | None
    status: str
    archived: bool
    products: list[ExperimentProduct]
    value_sum: float | None
    fractions_all_zero: bool | None
    score: float | None
    conditions: str
    notes: str
    plan_id: str | None
    created_at: float
    updated_at: float
    measured_at: float | None
    version: int
    schema_version: int
    extra: dict[str, Any] = field(default_factory=dict)
    seq: int = 0

    @classmethod
    def from_row(cls, row: Any, products: list[ExperimentProduct]) -> "Experiment":
        recipe = None
        if row["recipe_key"] is not None:
            recipe = {"M1": row["m1"], "M2": row["m2"], "atomic_ratio": row["atomic_ratio"],
                      "modifier": row["modifier"], "modifier_smiles": row["modifier_smiles"],
                      "canonical_smiles": row["canonical_smiles"], "recipe_key": row["recipe_key"],
                      "metal_pair": row["metal_pair"]}
        source = ({"run_id": row["source_run_id"], "rank": row["source_rank"]}
                  if row["source_run_id"] is not None else None)
        return cls(experiment_id=row["experiment_id"], recipe=recipe, source=source,
                   feedback_run_id=row["feedback_run_id"], status=row["status"],
                   archived=bool(row["archived"]), products=products, value_sum=row["value_sum"],
                   fractions_all_zero=(None if row["fractions_all_zero"] is None
                                       else bool(row["fractions_all_zero"])),
                   score=row["score"], conditions=row["conditions"], notes=row["notes"],
                   plan_id=row["plan_id"], created_at=row["created_at"], updated_at=row["updated_at"],
                   measured_at=row["measured_at"], version=row["version"],
                   schema_version=row["schema_version"], extra=json.loads(row["extra_json"]),
                   seq=row["seq"])

    def fraction_of(self, product_name: str) -> float | None:
        """The share of ``product_name`` among the measured products (None: not measured)."""
        wanted = product_name.strip().lower()
        for product in self.products:
            if product.name.strip().lower() == wanted:
                return product.fraction
        return None
