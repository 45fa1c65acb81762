"""Normal runs: the recipe agent (SPEC 5.2).

Not built yet: until the recipe-agent issue lands, a normal run that passed
the preflight fails at once with ``not_implemented`` and says so in its
trace, rather than pretending to produce recipes. docs/STATUS.md tracks it.
"""
from __future__ import annotations

from store.records import RunOutput
from worker.run_context import RunContext, RunFailure


def execute_normal_run(ctx: RunContext) -> RunOutput:
    ctx.checkpoint()
    ctx.emit("run_started", {"mode": "normal", "run_id": ctx.run.run_id,
                             "batch_id": ctx.run.batch_id, "run_index": ctx.run.run_index,
                             "recipes_per_run": ctx.run.recipes_per_run})
    raise RunFailure("not_implemented",
                     "normal runs (the recipe agent) are not implemented in this release; "
                     "use dry_run=true, see docs/STATUS.md")
