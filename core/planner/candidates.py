"""What a plan chooses from: the agent's cited recipes, and — with ``explore`` — the planner's own.

* :func:`from_outputs` — every recipe of the given runs' outputs, in the agent's
  order (runs as given, then rank), each with the citations its rationale makes
  (alias → canonical reference), so an item carries its evidence.
* :func:`composed` — recipes the planner composes from what the lab and the agent
  have used: every pair of those metals × every ratio used × every modifier used.
  Each is a recipe key of parts that already passed the structure checks (two
  different dopant metals, a -COOH modifier that is not the linker); the count
  is bounded by a seeded sample so a plan stays fast.
"""
from __future__ import annotations

import random
import re
from itertools import combinations

from core.chemistry.elements import dopant_problem
from core.planner.planning import Candidate
from core.recipe_key import RecipeKey, RecipeKeyError, key_or_none

_BRACKETS = re.compile(r"\[([^\]]*)\]")
_ALIAS = re.compile(r"\b[CM]\d+\b")


def cited(text: str | None, citations: dict[str, str]) -> dict[str, str]:
    aliases = _ALIAS.findall(" ".join(_BRACKETS.findall(text or "")))
    return {alias: citations[alias] for alias in dict.fromkeys(aliases) if alias in citations}


def shown(recipe: dict, key: RecipeKey) -> dict:
    return {"M1": recipe["M1"], "M2": recipe["M2"], "atomic_ratio": recipe["atomic_ratio"],
            "modifier": recipe.get("small_molecule_modifier") or recipe.get("modifier"),
            "modifier_smiles": recipe.get("modifier_smiles") or key.canonical_smiles, "recipe_key": str(key)}


def from_outputs(outputs: list[tuple[str, dict, dict]]) -> tuple[list[Candidate], int]:
    """``outputs``: (run_id, recipes_json, citations) in the agent's order. (candidates, recipes without a key)."""
    found, unusable, order = [], 0, 0
    for run_id, recipes_json, citations in outputs:
        for rank, recipe in enumerate(recipes_json.get("recipes", []), start=1):
            key = key_or_none(recipe)
            if key is None:
                unusable += 1
                continue
            found.append(Candidate(key, shown(recipe, key), {"run_id": run_id, "rank": recipe.get("rank", rank)},
                                   cited(recipe.get("rationale"), citations), order))
            order += 1
    return found, unusable


def composed(keys: list[RecipeKey], names: dict[str, str], limit: int, seed: int, start: int) -> list[Candidate]:
    """Recipes from the metals, ratios and modifiers of ``keys``; ``names``: canonical SMILES → a name."""
    metals = sorted({m for k in keys for m in (k.metal_a, k.metal_b) if dopant_problem(m) is None})
    ratios = sorted({(k.part_a, k.part_b) for k in keys} | {(1, 1)})
    modifiers = sorted({k.canonical_smiles for k in keys})
    made = []
    for a, b in combinations(metals, 2):
        for part_a, part_b in ratios:
            for smiles in modifiers:
                try:
                    key = RecipeKey(a, b, part_a, part_b, smiles)
                except RecipeKeyError:  # pragma: no cover - parts come from valid keys
                    continue
                made.append(key)
    if len(made) > limit:
        made = sorted(random.Random(seed).sample(made, limit), key=str)
    return [Candidate(k, {"M1": k.metal_a, "M2": k.metal_b, "atomic_ratio": k.ratio,
                          "modifier": names.get(k.canonical_smiles), "modifier_smiles": k.canonical_smiles,
                          "recipe_key": str(k)}, None, {}, start + i) for i, k in enumerate(made)]
