"""Run-local citation aliases (``[C3]``, ``[M1]``, ``[C3, C7]``, ``[C3–C5]``) in text that outlives a run.

An alias means something only inside the run that minted it: ``[C3]`` typed in
a chemist's feedback would, copied into a memory, be read by a later run as
*its own* third chunk. So text that becomes memory has them neutralised, and a
chemist's note or edit is refused while it has one. A chemical formula in
brackets — ``[C2H4]``, ``[Cu2Mo2]`` — is not an alias and passes: an alias is a
letter and digits, closed by the bracket or followed by another alias.
"""
from __future__ import annotations

import re

_ONE = r"[CcMm]\d{1,5}"
RUN_LOCAL_ALIAS = re.compile(rf"[\[［【]\s*{_ONE}(?:\s*[,;，、–—\-]\s*(?:{_ONE}|\d{{1,5}}))*\s*[\]］】]")


def has_run_local_alias(text: str) -> bool:
    return bool(RUN_LOCAL_ALIAS.search(text or ""))


def neutralise_aliases(text: str) -> str:
    """``see [C3]`` → ``see (C3 of its own run)``: kept for the reader, no longer a citation."""
    return RUN_LOCAL_ALIAS.sub(lambda m: f"({m.group(0)[1:-1].strip()} of its own run)", text or "")
