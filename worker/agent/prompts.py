"""The agent's prompts, rendered from the templates in ``core/prompts``.

Each role gets the shared description of the material system and only the
thinking guide it works with: the TiO2 expert the dopant guide, the MOF
expert the microenvironment guide, the orchestrator both.
"""
from __future__ import annotations

from core.prompts import template

GUIDES = {"orchestrator": ("dopant_guide", "mof_guide"), "tio2_expert": ("dopant_guide",),
          "mof_expert": ("mof_guide",)}


def role_prompt(role: str, **values) -> str:
    domain = "\n\n".join([template("domain"), *(template(guide) for guide in GUIDES[role])])
    return template(role).format(domain=domain, **values)


def _repair(name: str, errors: list[str], chunks: list[str], memories: list[str]) -> str:
    """A repair names both kinds of alias the run may cite, so a model that wrote a metal as
    [M1] learns what [M#] means instead of trying the same bracket again."""
    def listed(aliases: list[str]) -> str:
        return ", ".join(f"[{a}]" for a in aliases) or "none"
    return template(name).format(errors="\n".join(f"- {e}" for e in errors), chunks=listed(chunks),
                                 memories=listed(memories))


def expert_repair_prompt(errors: list[str], chunks: list[str], memories: list[str]) -> str:
    return _repair("expert_repair", errors, chunks, memories)


def repair_prompt(errors: list[str], chunks: list[str], memories: list[str]) -> str:
    return _repair("repair", errors, chunks, memories)
