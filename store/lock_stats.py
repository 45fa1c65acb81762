"""Who holds SQLite's write lock, for how long, and how long others wait for it.

Off unless ``C2XC_LOCK_STATS_DIR`` names a folder: then every process records
each write transaction (time waiting for ``BEGIN IMMEDIATE``, time holding
the lock until ``COMMIT`` returns, and the store function that asked) and
writes ``locks-<pid>.json`` there when it exits. The benchmarks use it to
show where write latency goes (``bench/busy_writes.py``); the service never
turns it on. When off, the cost is one attribute test per transaction.
"""
from __future__ import annotations

import atexit
import json
import os
import statistics
import sys
import threading
from collections import defaultdict
from pathlib import Path

ENV = "C2XC_LOCK_STATS_DIR"


class LockStats:
    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.Lock()
        self._samples: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def record(self, caller: str, wait_s: float, hold_s: float) -> None:
        with self._lock:
            self._samples[caller].append((wait_s * 1000, hold_s * 1000))

    def report(self) -> dict:
        """Per caller: count, wait and hold in ms (median, p99, max), and the total time held."""
        def describe(values: list[float]) -> dict:
            ordered = sorted(values)
            return {"median": round(statistics.median(ordered), 3),
                    "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
                    "max": round(ordered[-1], 3)}

        with self._lock:
            return {caller: {"count": len(samples),
                             "wait_ms": describe([w for w, _ in samples]),
                             "hold_ms": describe([h for _, h in samples]),
                             "held_total_s": round(sum(h for _, h in samples) / 1000, 3)}
                    for caller, samples in self._samples.items()}

    def dump(self) -> None:
        if not self._samples:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
        name = program.parent.name if program.name == "__main__.py" else program.name  # python -m x
        (self.folder / f"locks-{os.getpid()}.json").write_text(
            json.dumps({"pid": os.getpid(), "program": name, "callers": self.report()}, indent=1))


def from_environment() -> LockStats | None:
    folder = os.environ.get(ENV)
    if not folder:
        return None
    stats = LockStats(Path(folder))
    atexit.register(stats.dump)
    return stats


def caller_name(depth: int) -> str:
    """The function ``depth`` frames up (the store function that opened the transaction)."""
    frame = sys._getframe(depth + 1)
    return f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_name}"
