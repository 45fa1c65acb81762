"""Reading a folder of papers-as-markdown: text, content hash, and DOI.

A document's DOI comes from YAML-style front matter (``doi: 10.xxxx/…``
between ``---`` lines, removed from the indexed text) or from a sidecar file
``<name>.doi`` beside it; otherwise the document is cited by its file name.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".md", ".txt")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_DOI_LINE = re.compile(r"^\s*doi\s*:\s*[\"']?(10\.\d{4,9}/\S+?)[\"']?\s*$", re.IGNORECASE | re.MULTILINE)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


@dataclass(frozen=True)
class SourceDocument:
    rel_path: str
    text: str
    sha256: str
    doi: str | None


def read_document(root: Path, path: Path) -> SourceDocument:
    raw = path.read_text(encoding="utf-8")
    doi, text = None, raw
    front = _FRONT_MATTER.match(raw)
    if front:
        text = raw[front.end():]
        found = _DOI_LINE.search(front.group(1))
        doi = found.group(1) if found else None
    sidecar = path.with_name(path.name + ".doi")
    if doi is None and sidecar.is_file():
        candidate = sidecar.read_text(encoding="utf-8").strip()
        doi = candidate if _DOI.match(candidate) else None
    return SourceDocument(rel_path=path.relative_to(root).as_posix(), text=text.strip(),
                          sha256=hashlib.sha256(raw.encode()).hexdigest(), doi=doi)


def find_documents(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
