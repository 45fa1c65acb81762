"""A consistent copy of the live database, taken while the API and the worker keep writing.

SQLite's online backup API copies the pages of one read snapshot. Copied in
one step (``pages=-1``) it holds a read transaction for the copy's
duration, which in WAL mode blocks no writer; copied in several steps it
would restart whenever another connection wrote in between, and with a busy
worker it might never finish. The copy is written next to the target,
checked with ``PRAGMA integrity_check``, flushed to disk, and only then
renamed into place, so a backup that fails half-way never leaves a
plausible-looking broken file where a good one was expected.
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import Conflict, DependencyUnavailable
from store.migrations import current_version


@dataclass(frozen=True)
class BackupResult:
    path: str
    bytes: int
    seconds: float
    schema_version: int
    integrity: str


def backup(source: sqlite3.Connection, target: str, *, overwrite: bool = False) -> BackupResult:
    """Copy the database ``source`` is connected to into the file ``target``."""
    final = Path(target).expanduser().resolve()
    if final.exists() and not overwrite:
        raise Conflict(f"{final} exists; choose a new name (or --overwrite)", {"path": str(final)})
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(f".{final.name}.partial-{os.getpid()}")
    started = time.monotonic()
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=-1)
            integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
            version = current_version(copy)
        finally:
            copy.close()
        if integrity != "ok":
            raise DependencyUnavailable(f"the copy failed its integrity check: {integrity}",
                                        {"missing": ["database"]})
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, final)
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
    return BackupResult(path=str(final), bytes=final.stat().st_size,
                        seconds=round(time.monotonic() - started, 3), schema_version=version,
                        integrity=integrity)
