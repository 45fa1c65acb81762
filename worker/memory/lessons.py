"""Lessons distilled by the LLM from a run and its lab feedback: asked, checked, repaired once.

The model answers in plain content (no structured-output mode, as everywhere
in this product); the program holds it to a strict schema — at most
``MAX_LESSONS`` lessons, each with a bounded title and content, a role and
a polarity from fixed sets, no other field, and no run-local alias such as
``[C3]`` (meaningless outside the run it came from). A failing answer goes
back once with the precise problems; a second failure means no lessons from
this job (the lab result is still learned), and the job's notes say why.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from core.prompts import template
from worker.agent.answer import extract_json_object
from worker.citations import read_citations

MAX_LESSONS = 3
TITLE_CHARS, CONTENT_CHARS = 120, 1000
ROLES = ("global", "orchestrator", "tio2_expert", "mof_expert")
POLARITIES = ("prefer", "avoid", "neutral")
FIELDS = {"title", "content", "role", "polarity"}


@dataclass(frozen=True)
class Lesson:
    title: str
    content: str
    role: str
    polarity: str


def check_lessons(text: str | None) -> tuple[list[Lesson], list[str]]:
    """(the lessons, the problems); any problem rejects the whole answer."""
    try:
        answer = extract_json_object(text)
    except ValueError as exc:
        return [], [str(exc).replace("final answer", "answer")]
    problems: list[str] = []
    if set(answer) != {"lessons"}:
        problems.append("the answer must be {\"lessons\": [...]} and nothing else")
    items = answer.get("lessons")
    if not isinstance(items, list):
        return [], problems + ["lessons: must be a list"]
    if len(items) > MAX_LESSONS:
        problems.append(f"lessons: at most {MAX_LESSONS}, got {len(items)}")
    lessons = []
    for index, item in enumerate(items[:MAX_LESSONS]):
        where = f"lessons[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object")
            continue
        extra = set(item) - FIELDS
        if extra:
            problems.append(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
        found = _lesson(item, where, problems)
        if found:
            lessons.append(found)
    return (lessons if not problems else []), problems


def _lesson(item: dict[str, Any], where: str, problems: list[str]) -> Lesson | None:
    before = len(problems)
    texts = {}
    for key, limit in (("title", TITLE_CHARS), ("content", CONTENT_CHARS)):
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}.{key}: required, a non-empty string")
            continue
        if len(value.strip()) > limit:
            problems.append(f"{where}.{key}: at most {limit} characters, got {len(value.strip())}")
        if read_citations(value, key).aliases:
            problems.append(f"{where}.{key}: must not cite run-local aliases such as [C3] or [M1]; "
                            "say what the evidence showed instead")
        texts[key] = " ".join(value.split())
    for key, allowed in (("role", ROLES), ("polarity", POLARITIES)):
        if item.get(key) not in allowed:
            problems.append(f"{where}.{key}: must be one of {', '.join(allowed)}")
    if len(problems) > before:
        return None
    return Lesson(texts["title"], texts["content"], item["role"], item["polarity"])


def distil_lessons(ask: Callable[[list[dict[str, str]]], str | None], digest: str
                   ) -> tuple[list[Lesson], dict[str, Any]]:
    """Ask for lessons, repair once; (the lessons, notes for the job record)."""
    messages = [{"role": "system", "content": template("lessons").format(max_lessons=MAX_LESSONS)},
                {"role": "user", "content": digest}]
    reply = ask(messages)
    lessons, problems = check_lessons(reply)
    if not problems:
        return lessons, {"lesson_attempts": 1}
    messages += [{"role": "assistant", "content": reply or ""},
                 {"role": "user", "content": template("lessons_repair").format(
                     errors="\n".join(f"- {p}" for p in problems))}]
    reply = ask(messages)
    lessons, second = check_lessons(reply)
    if not second:
        return lessons, {"lesson_attempts": 2, "first_problems": problems}
    return [], {"lesson_attempts": 2, "lesson_problems": second,
                "lessons_skipped": "the model's lessons failed the check twice"}
