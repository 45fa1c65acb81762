"""Run states and the batch status roll-up (a pure function, so it is testable alone).

Run: ``queued -> running -> completed | failed | canceled`` and ``queued -> canceled``.
Terminal states never change again. A batch has no state of its own: it is
derived from its runs and stored only so lists can filter on it.
"""
from __future__ import annotations

from typing import Mapping

QUEUED, RUNNING, COMPLETED, FAILED, CANCELED = "queued", "running", "completed", "failed", "canceled"
RUN_STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED, CANCELED)
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, CANCELED})
BATCH_STATUSES = RUN_STATUSES


def rollup_batch_status(run_counts: Mapping[str, int]) -> str:
    """Batch status from the number of its runs in each state.

    * every run finished: ``completed`` if all completed, ``failed`` if any
      failed, otherwise ``canceled``;
    * some run running or finished with work done: ``running``;
    * otherwise (all queued, or only queued and canceled-before-start): ``queued``.
    """
    total = sum(run_counts.values())
    finished = sum(run_counts.get(s, 0) for s in TERMINAL_STATUSES)
    if total and finished == total:
        if run_counts.get(COMPLETED, 0) == total:
            return COMPLETED
        return FAILED if run_counts.get(FAILED, 0) else CANCELED
    if run_counts.get(RUNNING, 0) or run_counts.get(COMPLETED, 0) or run_counts.get(FAILED, 0):
        return RUNNING
    return QUEUED
