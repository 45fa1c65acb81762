"""Is this a recipe a lab can make? The structure checks of SPEC 8, shared by the agent and the lab.

The agent's final answer (``worker/recipe_validation.py``, which adds the
citation rules) and a recipe a chemist enters or imports (``store/experiments``)
pass the same checks, so a recipe is never acceptable in one place and refused
in the other:

* ``M1``/``M2``: two different stable metals, not Ti (:mod:`core.chemistry.elements`);
* ``atomic_ratio``: a ratio of two positive numbers;
* ``modifier_smiles``: a small molecule with a carboxylic acid group that is not
  the BTB linker, from its structure (RDKit); the name
  (``small_molecule_modifier``) must not contradict the structure where OPSIN
  parses it.

Every problem is one sentence naming its field, so a model can repair it and a
chemist can fix the row of a CSV file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from core.chemistry.elements import dopant_problem, normalise_ratio, parse_ratio
from core.chemistry.names import MISMATCH, NameCheck, check_name
from core.chemistry.structure import analyse_modifier

NameChecker = Callable[[str, str], NameCheck]


@dataclass
class CheckedRecipe:
    """The recipe in its normalised form (None when a part is unusable), its structure facts, problems."""

    fields: dict[str, Any] | None
    structure: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)


def text_or_none(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def check_modifier(recipe: dict, where: str, check_names: NameChecker,
                   problems: list[str], require_name: bool = True) -> dict[str, Any] | None:
    """The modifier's structure facts (with the name check), or None; problems appended."""
    name, smiles = text_or_none(recipe.get("small_molecule_modifier")), text_or_none(recipe.get("modifier_smiles"))
    if name is None and require_name:
        problems.append(f"{where}.small_molecule_modifier: required (the name a chemist reads)")
    if smiles is None:
        problems.append(f"{where}.modifier_smiles: required (the SMILES of the modifier)")
        return None
    report = analyse_modifier(smiles)
    problems += [f"{where}.modifier_smiles: {smiles!r} {p}" if report.facts else f"{where}: {p}"
                 for p in report.problems]
    if report.facts is None:
        return None
    structure = report.facts.as_dict()
    if name is not None and not report.problems:
        named = check_names(name, smiles)
        if named.status == MISMATCH:
            problems.append(f"{where}: the name {name!r} does not match modifier_smiles "
                            f"{smiles!r}: {named.note}; make the name and the SMILES agree")
        structure.update(name_check=named.status, name_check_note=named.note)
    return structure


def check_recipe(recipe: Any, where: str = "recipe", check_names: NameChecker = check_name,
                 require_name: bool = True) -> CheckedRecipe:
    """Every structure problem of ``recipe`` and, when metals and ratio are usable, its normal form.

    ``require_name=False`` for the lab's own records: a notebook may give the structure only (the
    structure is what is checked; a name given is still checked against it).
    """
    if not isinstance(recipe, dict):
        return CheckedRecipe(None, None, [f"{where}: must be an object"])
    problems: list[str] = []
    metals = [recipe.get("M1"), recipe.get("M2")]
    for key, value in zip(("M1", "M2"), metals):
        problem = dopant_problem(value)
        if problem:
            problems.append(f"{where}.{key}: {problem}")
    if isinstance(metals[0], str) and metals[0].strip() == str(metals[1]).strip():
        problems.append(f"{where}: M1 and M2 must be two different metals")
    ratio = recipe.get("atomic_ratio")
    if parse_ratio(ratio) is None:
        problems.append(f"{where}.atomic_ratio: {ratio!r} is not a ratio of two positive "
                        "numbers like '1:1' or '3:1'")
    structure = check_modifier(recipe, where, check_names, problems, require_name)
    if not isinstance(metals[0], str) or not isinstance(metals[1], str) or parse_ratio(ratio) is None:
        return CheckedRecipe(None, structure, problems)
    fields = {"M1": metals[0].strip(), "M2": metals[1].strip(), "atomic_ratio": normalise_ratio(ratio),
              "small_molecule_modifier": text_or_none(recipe.get("small_molecule_modifier")),
              "modifier_smiles": text_or_none(recipe.get("modifier_smiles"))}
    return CheckedRecipe(fields, structure, problems)
