"""v6: evidence pages by run in order, and cancel requests the worker has applied.

* ``runs_by_batch_in_order (batch_id, seq)``: a batch's runs listed in queue
  order without sorting them.
* ``evidence_by_run (run_id, seq)``: an evidence page was served by the
  ``(run_id, alias)`` unique index and a sort of all the run's evidence, so it
  grew with the trace; now it is one index range, whatever the run's size.
* ``cancel_requests.handled_at``: set when the worker has canceled the queued
  runs a request names. The worker looks only at requests not yet handled
  (a partial index holds just those), so its work per iteration follows the
  pending cancels, not the length of the queue. Requests stay readable for
  running runs, which check for them by target at every interruption point.
  Requests made before this version are handled once, at the first iteration.
"""
VERSION = 6
DESCRIPTION = "evidence (run_id, seq) and runs (batch_id, seq) indexes; cancel_requests.handled_at with a partial index"

STATEMENTS = (
    "CREATE INDEX evidence_by_run ON evidence (run_id, seq)",
    "CREATE INDEX runs_by_batch_in_order ON runs (batch_id, seq)",
    "ALTER TABLE cancel_requests ADD COLUMN handled_at REAL",
    "CREATE INDEX cancel_requests_unhandled ON cancel_requests (seq) WHERE handled_at IS NULL",
)
