"""Reading the orchestrator's final answer: JSON in plain content, parsed robustly, then checked.

Models served without a structured-output mode wrap JSON in prose or code
fences; we take the outermost object. What cannot be read becomes a precise
error the model is asked to repair, like any other validation error.
"""
from __future__ import annotations

import json
from typing import Any

from worker.recipe_validation import CheckedAnswer, check_answer


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


def read_final_answer(text: str | None, *, recipes_per_run: int,
                      refs: dict[str, str]) -> CheckedAnswer:
    """The checked answer: normalised recipes, citations of every alias cited, errors."""
    try:
        answer = extract_json_object(text)
    except ValueError as exc:
        return CheckedAnswer({}, {}, [str(exc)])
    return check_answer(answer, recipes_per_run=recipes_per_run, known_aliases=refs)
