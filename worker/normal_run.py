"""Normal runs: the recipe agent over the two knowledge bases and the configured LLM.

The effective settings are the worker's own (including the API key, which is
never stored) with the batch's permitted overrides applied, exactly as the
API recorded them in the batch's config snapshot.
"""
from __future__ import annotations

from core.errors import DependencyUnavailable
from core.settings import apply_overrides
from store.records import RunOutput
from worker.agent.engine import RecipeAgent
from worker.agent.note import RunNote
from worker.agent.tools import ToolBox
from worker.kb.adapter import KnowledgeBase
from worker.llm.client import LlmClient
from worker.llm.embeddings import openai_embedder
from worker.run_context import RunContext


def execute_normal_run(ctx: RunContext) -> RunOutput:
    settings = apply_overrides(ctx.settings, ctx.run.config_snapshot.get("overrides_applied") or {})
    kbs = {namespace: KnowledgeBase(namespace, directory, openai_embedder(settings),
                                    settings.embedding_dim, settings.embedding_model)
           for namespace, directory in settings.kb_dirs().items()}
    try:
        if not settings.api_key:
            raise DependencyUnavailable(f"{settings.llm_api_key_env} is not set in the worker's "
                                        "environment")

        for kb in kbs.values():  # fail before spending tokens if a KB vanished after preflight
            kb.check_directory()
        agent = RecipeAgent(ctx, LlmClient(settings), ToolBox(ctx, kbs, RunNote()), settings.bounds)
        return agent.run()
    finally:
        for kb in kbs.values():
            kb.close()
