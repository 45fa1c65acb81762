"""Prompt templates (text files beside this module) and their versions.

A template's version is the start of the SHA-256 of its text, recorded in
every batch's config snapshot, so a trace can always be tied to the exact
prompts that produced it.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

TEMPLATES = ("domain", "orchestrator", "tio2_expert", "mof_expert", "repair")


@lru_cache(maxsize=None)
def template(name: str) -> str:
    if name not in TEMPLATES:
        raise KeyError(name)
    return resources.files("worker.agent").joinpath("prompts", f"{name}.md").read_text("utf-8")


def template_versions() -> dict[str, str]:
    return {name: hashlib.sha256(template(name).encode()).hexdigest()[:12] for name in TEMPLATES}


def role_prompt(role: str, **values) -> str:
    return template(role).format(domain=template("domain"), **values)


def repair_prompt(errors: list[str], aliases: list[str]) -> str:
    return template("repair").format(errors="\n".join(f"- {e}" for e in errors),
                                     aliases=", ".join(f"[{a}]" for a in aliases) or "none")
