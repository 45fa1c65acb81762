"""Normal runs: the recipe agent over the two knowledge bases and the configured LLM.

The effective settings are the worker's own (including the API key, which is
never stored) with the batch's permitted overrides applied, exactly as the
API recorded them in the batch's config snapshot. Knowledge bases come from
the worker's pool and stay open for the next run.
"""
from __future__ import annotations

from core.errors import DependencyUnavailable
from core.settings import apply_overrides
from store.records import RunOutput
from worker.agent.engine import RecipeAgent
from worker.agent.note import RunNote
from worker.agent.tools import ToolBox
from worker.kb.pool import KnowledgeBasePool
from worker.llm.client import LlmClient
from worker.run_context import RunContext


class NormalRunExecutor:
    """Executes normal runs; owns the pool of open knowledge bases (closed at shutdown)."""

    def __init__(self, pool: KnowledgeBasePool | None = None):
        self.pool = pool or KnowledgeBasePool()

    def __call__(self, ctx: RunContext) -> RunOutput:
        settings = apply_overrides(ctx.settings,
                                   ctx.run.config_snapshot.get("overrides_applied") or {})
        if not settings.api_key:
            raise DependencyUnavailable(f"{settings.llm_api_key_env} is not set in the worker's "
                                        "environment")
        kbs = self.pool.for_run(settings)
        for kb in kbs.values():  # fail before spending tokens if a KB vanished after preflight
            kb.check_directory()
        agent = RecipeAgent(ctx, LlmClient(settings), ToolBox(ctx, kbs, RunNote()), settings.bounds)
        return agent.run()

    def close(self) -> None:
        self.pool.close()
