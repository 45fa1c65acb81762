"""Citations in the agent's text: every bracket form a model writes, read and normalised.

Models cite as ``[C3]``, ``[C3, C7]``, ``[C3][C7]``, ``[C3–C5]``, ``【C3】``,
``［c3］``… — chunks as ``C#`` and lab memories as ``M#`` (``[C3, M1]``). A citation that goes unrecognised is a citation nobody checks,
and a chemist clicking it finds nothing — so every bracket group is read:

* a group holding only aliases, lists and ranges is a citation; it is
  rewritten in the one stored form, each alias in its own brackets:
  ``[C3][C4][C5]``;
* a group that mixes an alias with other text (``[C3, Fig. 2]``) is
  reported, so the model rewrites it — it is never stored half-read;
* other bracketed text (``[Zr6O4(OH)4]``) is left alone.

Whether each alias was retrieved in the run is the validator's business.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_OPEN, _CLOSE = r"\[［【〔", r"\]］】〕"
_GROUP = re.compile(rf"[{_OPEN}]([^{_OPEN}{_CLOSE}]{{0,200}})[{_CLOSE}]")
_ALIAS = r"([CcMm])(\d{1,5})"
_RANGE_DASH = r"(?:-|–|—|~|～|to)"
_ITEM = re.compile(rf"^{_ALIAS}(?:{_RANGE_DASH}{_ALIAS})?$")
_SEPARATORS = re.compile(r"[,，;；、]|\s+and\s+|\s+")
_ANY_ALIAS = re.compile(rf"(?<![A-Za-z0-9]){_ALIAS}(?![A-Za-z0-9])")
MAX_RANGE = 50


@dataclass
class ReadCitations:
    text: str                                   # with every citation group normalised
    aliases: list[str] = field(default_factory=list)   # in order of first appearance
    problems: list[str] = field(default_factory=list)


def _expand(item: str) -> list[str] | None:
    match = _ITEM.match(item)
    if not match:
        return None
    kind, first = match.group(1).upper(), int(match.group(2))
    last = int(match.group(4)) if match.group(4) else first
    if match.group(3) and match.group(3).upper() != kind:
        return None  # a range from a chunk to a memory means nothing
    if last < first or last - first >= MAX_RANGE:
        return None
    return [f"{kind}{n}" for n in range(first, last + 1)]


def _group_aliases(content: str) -> list[str] | None:
    """The aliases of a pure citation group, or None if the group holds anything else."""
    # ranges may be written with spaces around the dash: "C3 – C5" -> "C3–C5"
    joined = re.sub(rf"\s*({_RANGE_DASH})\s*", r"\1", content.strip())
    items = [item for item in _SEPARATORS.split(joined) if item]

    aliases: list[str] = []
    for item in items:
        expanded = _expand(item)
        if expanded is None:
            return None
        aliases += expanded
    return aliases or None


def read_citations(text: str, where: str) -> ReadCitations:
    """Normalise the citation groups of ``text``; ``where`` names the field in problems."""
    result = ReadCitations(text="")
    position = 0
    pieces: list[str] = []
    for match in _GROUP.finditer(text):
        content = match.group(1)
        aliases = _group_aliases(content)
        pieces.append(text[position:match.start()])
        if aliases is not None:
            pieces.append("".join(f"[{alias}]" for alias in aliases))
            for alias in aliases:
                if alias not in result.aliases:
                    result.aliases.append(alias)
        else:
            if _ANY_ALIAS.search(content):
                result.problems.append(
                    f"{where}: the citation {match.group(0)!r} mixes an alias with other text; "
                    "cite with aliases alone in brackets, e.g. [C3] or [C3][C7]")
            pieces.append(match.group(0))
        position = match.end()
    pieces.append(text[position:])
    result.text = "".join(pieces)
    return result


STORED_ALIAS = re.compile(r"\[([CM]\d+)\]")


def stored_aliases(text: str) -> list[str]:
    """Aliases in text already normalised by :func:`read_citations` (for readers of outputs)."""
    return STORED_ALIAS.findall(text or "")
