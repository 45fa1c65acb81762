"""The dry run: the shape of a normal run with no LLM, no knowledge base, no network.

It writes the same event types a normal run writes, registers placeholder
evidence, and returns an output that must pass the same validation as a real
answer — so clients, the UI and the tests can exercise the whole service for
free. Content depends only on the run id (deterministic); every recipe and
note says plainly that it is a placeholder, never a recommendation.
"""
from __future__ import annotations

import hashlib
import random

from core import trace
from core.errors import InvalidOutput
from core.kb_folder import KB_NAMESPACES
from store.records import EvidenceItem, RunOutput
from worker.recipe_validation import check_answer
from worker.run_context import RunContext

MODE = "dry_run"
PLACEHOLDER_NOTICE = "DRY RUN placeholder - not a recommendation."
_CANDIDATES = (
    ("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "OC(=O)c1ccc(S)cc1"),
    ("Cu", "Zn", "2:1", "trifluoroacetic acid", "OC(=O)C(F)(F)F"),
    ("Ag", "Cu", "1:3", "terephthalic acid", "OC(=O)c1ccc(cc1)C(=O)O"),
    ("Co", "Cu", "1:1", "4-aminobenzoic acid", "Nc1ccc(cc1)C(=O)O"),
    ("Ni", "Cu", "1:2", "glycine", "NCC(=O)O"),
)
CHUNKS_PER_KB = 2


def _placeholder_chunks(ctx: RunContext, kb: str, first_alias: int) -> list[EvidenceItem]:
    items = []
    for offset in range(CHUNKS_PER_KB):
        digest = hashlib.md5(f"{ctx.run.run_id}:{kb}:{offset}".encode()).hexdigest()
        chunk_id = f"chunk-{digest}"
        items.append(EvidenceItem(
            alias=f"C{first_alias + offset}", ref=f"kb:{kb}__{chunk_id}",
            source=f"dry-run-placeholder-{kb}.md", kb_namespace=kb, lightrag_chunk_id=chunk_id,
            created_at=ctx.clock(),
            content=f"{PLACEHOLDER_NOTICE} Placeholder chunk {offset + 1} of {kb} for run "
                    f"{ctx.run.run_id}; a normal run retrieves real literature here."))
    return items


def _recipes(ctx: RunContext, aliases: list[str]) -> dict:
    rng = random.Random(ctx.run.run_id)
    picks = rng.sample(_CANDIDATES, ctx.run.recipes_per_run)
    recipes = []
    for rank, (m1, m2, ratio, modifier, smiles) in enumerate(picks, start=1):
        cited = sorted(rng.sample(aliases, 2), key=lambda a: int(a[1:]))
        recipes.append({
            "rank": rank, "M1": m1, "M2": m2, "atomic_ratio": ratio,
            "small_molecule_modifier": modifier, "modifier_smiles": smiles,
            "rationale": f"{PLACEHOLDER_NOTICE} {m1}/{m2} at {ratio} with {modifier} stands in "
                         f"for an agent-written rationale [{cited[0]}] [{cited[1]}].",
        })
    return {"recipes": recipes,
            "overall_notes": f"{PLACEHOLDER_NOTICE} Ranked in placeholder order; a normal run "
                             "explains its ranking and trade-offs here."}


def execute_dry_run(ctx: RunContext) -> RunOutput:
    run, delay = ctx.run, ctx.settings.dry_run_step_delay_s
    ctx.checkpoint()
    ctx.emit(trace.RunStarted(mode=MODE, run_id=run.run_id, batch_id=run.batch_id,
                              run_index=run.run_index, recipes_per_run=run.recipes_per_run,
                              temperature=run.temperature, user_request=run.user_request))
    ctx.pause(delay)
    node = {"node_id": "n1", "parent_id": None, "role": "orchestrator"}
    ctx.emit(trace.RecapInfo(agent="orchestrator", state="down", depth=0, task=run.user_request,
                             **node))
    plan = [{"step": f"search {kb}", "by": "self"} for kb in KB_NAMESPACES]
    plan.append({"step": "draft placeholder recipes", "by": "self"})
    ctx.emit(trace.RecapInfo(agent="orchestrator", state="act", depth=0, plan=plan, planned=plan,
                             think=f"{PLACEHOLDER_NOTICE} A dry run follows a fixed plan.",
                             plan_revision=1, **node))
    aliases: list[str] = []
    for kb in KB_NAMESPACES:
        ctx.pause(delay)
        chunks = _placeholder_chunks(ctx, kb, first_alias=len(aliases) + 1)
        ctx.emit_retrieval(trace.KbQuery(
            kb=kb, query=run.user_request, mode=MODE, top_k=CHUNKS_PER_KB,
            results=[{"alias": c.alias, "ref": c.ref, "source": c.source, "content": c.content}
                     for c in chunks]), chunks)
        aliases += [c.alias for c in chunks]
    ctx.pause(delay)
    ctx.emit(trace.LlmRequest(model=None, placeholder=True, messages=[], tools=[],
                              parameters={"temperature": run.temperature}, node_id="n1"))
    recipes_json = _recipes(ctx, aliases)
    ctx.emit(trace.LlmResponse(placeholder=True, latency_ms=0, node_id="n1",
                               usage={"prompt_tokens": 0, "completion_tokens": 0}))

    ctx.pause(delay)
    checked = check_answer(recipes_json, recipes_per_run=run.recipes_per_run,
                           known_aliases=ctx.known_aliases())
    if checked.errors:
        raise InvalidOutput("dry-run output failed validation", {"errors": checked.errors})
    ctx.emit(trace.RecapInfo(agent="orchestrator", state="up", depth=0, task=run.user_request,
                             result=f"{len(checked.recipes_json['recipes'])} placeholder recipe(s) "
                                    + " ".join(f"[{a}]" for a in checked.citations),
                             plan=[], plan_revision=1, **node))

    ctx.emit(trace.CitationsResolved(citations=checked.citations))
    ctx.checkpoint()
    return RunOutput(recipes_json=checked.recipes_json, citations=checked.citations, memory_ids=[])
