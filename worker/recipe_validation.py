"""The program's check of a final answer, shared by dry runs and the agent.

A recipe reaches a scientist only if it passes, and what passes is stored in
one normalised form with the facts that were checked:

* exactly ``recipes_per_run`` recipes, ranked;
* ``M1``/``M2``: two different stable metals, not Ti (:mod:`core.chemistry.elements`);
* ``atomic_ratio``: a ratio of two positive numbers;
* ``modifier_smiles``: a small molecule with a carboxylic acid group that is
  not the BTB linker, judged by RDKit from the structure; the name must not
  contradict the structure where OPSIN can parse it (unparseable: "name not
  verified"); the facts go into ``modifier_structure``;
* every citation, in any bracket form, an alias retrieved (``[C#]``) or a
  lab memory shown (``[M#]``) in this run; each rationale cites at least
  one; ``citations`` maps every alias in the text.

Each problem is reported as a precise sentence so the agent can repair it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from core.chemistry.names import check_name
from core.chemistry.recipes import NameChecker, check_recipe, text_or_none
from worker.citations import ReadCitations, read_citations


@dataclass
class CheckedAnswer:
    recipes_json: dict[str, Any]
    citations: dict[str, str]
    errors: list[str] = field(default_factory=list)


def never_seen(alias: str) -> str:
    """Why a cited alias is refused; an [M#] never shown is most likely a metal written as M1/M2."""
    if alias.startswith("M"):
        return (f"[{alias}] was never shown to you in this run: [M#] names a line of your lab-memory "
                "block, not a metal; write a metal by its element symbol (e.g. Cu)")
    return f"[{alias}] was never retrieved in this run"


class _Check:
    """One answer being checked: collects errors and the aliases it cites."""

    def __init__(self, known_aliases: Mapping[str, str], check_names: NameChecker):
        self.known, self.check_names = known_aliases, check_names
        self.errors: list[str] = []
        self.cited: list[str] = []

    def cited_text(self, value: Any, where: str, required: str) -> ReadCitations | None:
        text = text_or_none(value)
        if text is None:
            self.errors.append(f"{where}: required ({required})")
            return None
        read = read_citations(text, where)
        self.errors += read.problems
        for alias in read.aliases:
            if alias not in self.known:
                self.errors.append(f"{where}: {never_seen(alias)}")
            elif alias not in self.cited:
                self.cited.append(alias)
        return read

    def recipe(self, recipe: Any, index: int) -> dict | None:
        where = f"recipes[{index}]"
        checked = check_recipe(recipe, where, self.check_names)
        self.errors += checked.problems
        if not isinstance(recipe, dict):
            return None
        rationale = self.cited_text(recipe.get("rationale"), f"{where}.rationale",
                                    "why, citing retrieved chunks as [C1]")
        if rationale is not None and not rationale.aliases and not rationale.problems:
            self.errors.append(f"{where}.rationale: cites no evidence; cite retrieved chunks as [C1]")
        if checked.fields is None:
            return None
        return {"rank": index + 1, **checked.fields, "modifier_structure": checked.structure,
                "rationale": rationale.text if rationale else None}


def check_answer(answer: Any, *, recipes_per_run: int, known_aliases: Mapping[str, str],
                 check_names: NameChecker = check_name) -> CheckedAnswer:
    """Every problem with a final answer as precise sentences, and the normalised answer."""
    if not isinstance(answer, dict):
        return CheckedAnswer({}, {}, ["the answer must be a JSON object with 'recipes' and "
                                      "'overall_notes'"])
    recipes = answer.get("recipes")
    if not isinstance(recipes, list):
        return CheckedAnswer({}, {}, ["recipes: must be a list"])
    check = _Check(known_aliases, check_names)
    if len(recipes) != recipes_per_run:
        check.errors.append(f"recipes: exactly {recipes_per_run} recipe(s) required, "
                            f"got {len(recipes)}")
    checked = [check.recipe(recipe, index) for index, recipe in enumerate(recipes)]
    notes = check.cited_text(answer.get("overall_notes"), "overall_notes",
                             "how the recipes are ranked and the trade-offs")
    recipes_json = {"recipes": [r for r in checked if r is not None],
                    "overall_notes": notes.text if notes else None}
    citations = {alias: check.known[alias] for alias in check.cited}
    return CheckedAnswer(recipes_json, citations, check.errors)
