"""Prompt templates (the ``.md`` files beside this module) and their version stamp.

A template's version is the start of the SHA-256 of its text. The API records
every version in a batch's config snapshot and the agent in ``run_started``,
so a trace can always be tied to the exact prompts that produced it. The
templates live here, not in the worker, because the API stamps them too.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

TEMPLATES = ("domain", "dopant_guide", "mof_guide", "orchestrator", "tio2_expert", "mof_expert",
             "repair", "expert_repair", "memory_block", "lessons", "lessons_repair", "landscape_block")


@lru_cache(maxsize=None)
def template(name: str) -> str:
    if name not in TEMPLATES:
        raise KeyError(name)
    return resources.files(__name__).joinpath(f"{name}.md").read_text("utf-8")


def template_versions() -> dict[str, str]:
    return {name: hashlib.sha256(template(name).encode()).hexdigest()[:12] for name in TEMPLATES}
