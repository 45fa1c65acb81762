"""v7: runs remember when retention deleted their trace.

``c2xc-admin prune`` deletes the events of old finished runs; a run whose
trace is gone says so (``trace_pruned_at``) instead of looking as if it
never wrote anything. The index finds finished runs by age without reading
the whole table.
"""
VERSION = 7
DESCRIPTION = "runs.trace_pruned_at; runs by finish time"

STATEMENTS = (
    "ALTER TABLE runs ADD COLUMN trace_pruned_at REAL",
    "CREATE INDEX runs_by_finish ON runs (finished_at) WHERE finished_at IS NOT NULL",
)
