"""The program's check of a final answer, shared by dry runs and the agent.

A recipe reaches a scientist only if it passes: exactly ``recipes_per_run``
recipes; ``M1``/``M2`` two different metal elements (not Ti, which is the
host); an ``atomic_ratio`` that is a ratio; a modifier that carries a
carboxylic acid group and is not the fixed BTB linker; a rationale citing at
least one alias; and every cited alias retrieved in this run and mapped in
``citations``. Each problem is reported precisely so the agent can repair it.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

_ALL_ELEMENTS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu "
    "Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np "
    "Pu Am Cm Bk Cf Es Fm Md No Lr"
).split()
# Non-metals, metalloids and noble gases cannot be the dual-metal sites.
_NOT_METALS = set("H He B C N O F Ne Si P S Cl Ar Ge As Se Br Kr Sb Te I Xe At Rn".split())
METALS = frozenset(e for e in _ALL_ELEMENTS if e not in _NOT_METALS)
HOST_METAL = "Ti"

RATIO_PATTERN = re.compile(r"^\s*\d+(\.\d+)?\s*:\s*\d+(\.\d+)?\s*$")
ALIAS_PATTERN = re.compile(r"\[(C\d+)\]")

# Evidence of a -COOH group in a name or formula.
_CARBOXYL_MARKERS = re.compile(
    r"COOH|HOOC|CO2H|HO2C|carboxy|oic\s+acid|(acetic|formic|oxalic|citric|lactic|malic|malonic|"
    r"succinic|glutaric|adipic|maleic|fumaric|tartaric|glycolic|pyruvic|phthalic|"
    r"terephthalic|isophthalic|trimesic|mellitic|salicylic|gallic|cinnamic|picolinic|"
    r"nicotinic|isonicotinic|mandelic|thioglycolic|mercaptoacetic|acrylic|methacrylic|"
    r"butyric|valeric|caproic|stearic|palmitic|oleic|lauric)\s+acid|"
    r"\b(glycine|alanine|valine|leucine|isoleucine|proline|phenylalanine|tryptophan|serine|"
    r"threonine|cysteine|methionine|tyrosine|histidine|lysine|arginine|aspartic|glutamic|"
    r"asparagine|glutamine|sarcosine|EDTA)\b",
    re.IGNORECASE,
)
_BTB_LINKER = re.compile(r"\bH?3?BTB\b|benzene-?1,3,5-?tribenzo", re.IGNORECASE)


def carries_carboxylic_acid(modifier: str) -> bool:
    return bool(_CARBOXYL_MARKERS.search(modifier or ""))


def cited_aliases(text: str) -> list[str]:
    return ALIAS_PATTERN.findall(text or "")


def _check_metal(errors: list[str], where: str, value: Any) -> None:
    if not isinstance(value, str) or value.strip() not in METALS:
        errors.append(f"{where}: {value!r} is not a metal element symbol (e.g. 'Cu', 'Mo')")
    elif value.strip() == HOST_METAL:
        errors.append(f"{where}: 'Ti' is the TiO2 host, not a dopant")


def _check_recipe(errors: list[str], index: int, recipe: Any,
                  citations: Mapping[str, str], known_aliases: Mapping[str, str]) -> None:
    where = f"recipes[{index}]"
    if not isinstance(recipe, dict):
        errors.append(f"{where}: must be an object")
        return
    _check_metal(errors, f"{where}.M1", recipe.get("M1"))
    _check_metal(errors, f"{where}.M2", recipe.get("M2"))
    if isinstance(recipe.get("M1"), str) and recipe.get("M1") == recipe.get("M2"):
        errors.append(f"{where}: M1 and M2 must be two different metals")
    ratio = recipe.get("atomic_ratio")
    if not isinstance(ratio, str) or not RATIO_PATTERN.match(ratio):
        errors.append(f"{where}.atomic_ratio: {ratio!r} is not a ratio like '1:1' or '2:1'")
    modifier = recipe.get("small_molecule_modifier")
    if not isinstance(modifier, str) or not modifier.strip():
        errors.append(f"{where}.small_molecule_modifier: required")
    elif _BTB_LINKER.search(modifier):
        errors.append(f"{where}.small_molecule_modifier: the BTB linker is fixed, not a modifier")
    elif not carries_carboxylic_acid(modifier):
        errors.append(f"{where}.small_molecule_modifier: {modifier!r} shows no carboxylic acid"
                      " (-COOH) group; name a -COOH molecule or give its formula")
    rationale = recipe.get("rationale")
    if not isinstance(rationale, str) or not rationale.strip():
        errors.append(f"{where}.rationale: required")
        return
    aliases = cited_aliases(rationale)
    if not aliases:
        errors.append(f"{where}.rationale: cites no evidence; cite retrieved chunks as [C1]")
    for alias in aliases:
        if alias not in known_aliases:
            errors.append(f"{where}.rationale: [{alias}] was never retrieved in this run")
        elif citations.get(alias) != known_aliases[alias]:
            errors.append(f"citations: [{alias}] must map to {known_aliases[alias]}")


def validate_output(recipes_json: Any, citations: Any, *, recipes_per_run: int,
                    known_aliases: Mapping[str, str]) -> list[str]:
    """Every problem with a final answer, as precise sentences; empty when valid."""
    if not isinstance(recipes_json, dict):
        return ["recipes_json: must be an object with 'recipes' and 'overall_notes'"]
    if not isinstance(citations, dict):
        return ["citations: must be an object mapping alias to reference"]
    errors: list[str] = []
    recipes = recipes_json.get("recipes")
    if not isinstance(recipes, list):
        return ["recipes_json.recipes: must be a list"]
    if len(recipes) != recipes_per_run:
        errors.append(f"recipes_json.recipes: exactly {recipes_per_run} recipe(s) required,"
                      f" got {len(recipes)}")
    for index, recipe in enumerate(recipes):
        _check_recipe(errors, index, recipe, citations, known_aliases)
    notes = recipes_json.get("overall_notes")
    if not isinstance(notes, str) or not notes.strip():
        errors.append("recipes_json.overall_notes: required (ranking and trade-offs)")
    for alias in citations:
        if alias not in known_aliases:
            errors.append(f"citations: [{alias}] was never retrieved in this run")
    return errors
