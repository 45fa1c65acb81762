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


def expert_repair_prompt(errors: list[str], aliases: list[str]) -> str:
    return template("expert_repair").format(errors="\n".join(f"- {e}" for e in errors),
                                            aliases=", ".join(f"[{a}]" for a in aliases) or "none")


def repair_prompt(errors: list[str], aliases: list[str]) -> str:

    return template("repair").format(errors="\n".join(f"- {e}" for e in errors),
                                     aliases=", ".join(f"[{a}]" for a in aliases) or "none")
