"""Reading the orchestrator's final answer: JSON in plain content, parsed robustly.

Models served without a structured-output mode wrap JSON in prose or code
fences; we take the outermost object. What cannot be read becomes a precise
error the model is asked to repair.
"""
from __future__ import annotations

import json
from typing import Any

from worker.recipe_validation import cited_aliases, validate_output


def extract_json_object(text: str | None) -> dict[str, Any]:
    if not text or "{" not in text:
        raise ValueError("the final answer must be one JSON object; none was found")
    start, end = text.index("{"), text.rindex("}")
    try:
        value = json.loads(text[start:end + 1])
    except ValueError as exc:
        raise ValueError(f"the final answer is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("the final answer must be a JSON object")
    return value


def read_final_answer(text: str | None, *, recipes_per_run: int, refs: dict[str, str]
                      ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(recipes_json, citations, errors). Citations map every cited, known alias to its ref."""
    try:
        answer = extract_json_object(text)
    except ValueError as exc:
        return {}, {}, [str(exc)]
    recipes = answer.get("recipes")
    recipes_json = {"recipes": recipes, "overall_notes": answer.get("overall_notes")}
    cited = []
    for recipe in recipes if isinstance(recipes, list) else []:
        if isinstance(recipe, dict):
            cited += cited_aliases(str(recipe.get("rationale", "")))
    in_notes = cited_aliases(str(answer.get("overall_notes", "")))
    citations = {a: refs[a] for a in sorted(set(cited + in_notes), key=lambda a: int(a[1:]))
                 if a in refs}
    errors = validate_output(recipes_json, citations, recipes_per_run=recipes_per_run,
                             known_aliases=refs)
    errors += [f"overall_notes: [{a}] was never retrieved in this run"
               for a in dict.fromkeys(in_notes) if a not in refs]
    if not errors:
        for rank, recipe in enumerate(recipes, start=1):
            recipe.setdefault("rank", rank)
    return recipes_json, citations, errors
