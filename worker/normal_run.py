"""Normal runs: the recipe agent over the two knowledge bases and the configured LLM.

The effective settings are the worker's own (including the API key, which is
never stored) with the batch's permitted overrides applied, exactly as the
API recorded them in the batch's config snapshot. Knowledge bases come from
the worker's pool and stay open for the next run; so does the cache of memory
vectors. Lab memory is on unless the batch switched it off (``memory: false``
in its config snapshot) or ``C2XC_MEMORY_TOP_K=0``.
"""
from __future__ import annotations

from core.embedding import Embedder
from core.errors import DependencyUnavailable
from core.planner.lab import ModelCache
from core.settings import apply_overrides, load_planner_settings
from store.memory_search import MemoryIndex
from store.records import RunOutput
from worker.agent.engine import RecipeAgent
from worker.agent.landscape import Landscape
from worker.agent.note import RunNote
from worker.agent.tools import ToolBox
from worker.kb.pool import KnowledgeBasePool
from worker.llm.client import LlmClient
from worker.memory.recall import MemoryRecall
from worker.run_context import RunContext


def memory_enabled(snapshot: dict) -> bool:
    """What the batch asked for; batches from before lab memory had it on."""
    return bool((snapshot.get("memory") or {}).get("enabled", True))


class NormalRunExecutor:
    """Executes normal runs; owns the pool of open knowledge bases (closed at shutdown)."""

    def __init__(self, pool: KnowledgeBasePool | None = None):
        self.pool = pool or KnowledgeBasePool()
        self.memory_index = MemoryIndex()
        self.models = ModelCache(size=2)  # the planner's model behind each run's landscape and predict
        self.planner = load_planner_settings()

    def __call__(self, ctx: RunContext) -> RunOutput:
        settings = apply_overrides(ctx.settings,
                                   ctx.run.config_snapshot.get("overrides_applied") or {})
        if not settings.api_key:
            raise DependencyUnavailable(f"{settings.llm_api_key_env} is not set in the worker's "
                                        "environment")
        kbs = self.pool.for_run(settings)
        for kb in kbs.values():  # fail before spending tokens if a KB vanished after preflight
            kb.check_directory()
        memory = MemoryRecall(ctx, Embedder(settings), self.memory_index,
                              top_k=settings.memory.top_k, search_max_k=settings.memory.search_max_k,
                              enabled=memory_enabled(ctx.run.config_snapshot))
        agent = RecipeAgent(ctx, LlmClient(settings), ToolBox(ctx, kbs, RunNote()), settings.bounds,
                            memory=memory, landscape=Landscape(ctx, self.planner, self.models))
        try:
            return agent.run()
        finally:
            memory.embedder.close()

    def close(self) -> None:
        self.pool.close()
