"""The agent's prompts, rendered from the templates in ``core/prompts``."""
from __future__ import annotations

from core.prompts import template


def role_prompt(role: str, **values) -> str:
    return template(role).format(domain=template("domain"), **values)


def repair_prompt(errors: list[str], aliases: list[str]) -> str:
    return template("repair").format(errors="\n".join(f"- {e}" for e in errors),
                                     aliases=", ".join(f"[{a}]" for a in aliases) or "none")
