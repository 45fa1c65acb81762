"""Arrange lab-memory state for tests: normal runs with feedback, a learner on the fake server."""
from __future__ import annotations

import time
from dataclasses import replace

from core.settings import MemorySettings, load_run_settings
from store import feedback, products
from tests.kb_fixtures import fake_endpoint_settings
from tests.store_helpers import completed_runs

CU_MO = {"rank": 1, "M1": "Cu", "M2": "Mo", "atomic_ratio": "1:1",
         "small_molecule_modifier": "4-mercaptobenzoic acid", "modifier_smiles": "OC(=O)c1ccc(S)cc1",
         "rationale": "Cu-Mo [C1]."}
AG_ZN = {"rank": 1, "M1": "Ag", "M2": "Zn", "atomic_ratio": "3:1",
         "small_molecule_modifier": "trifluoroacetic acid", "modifier_smiles": "OC(=O)C(F)(F)F",
         "rationale": "Ag-Zn [C2]."}


def normal_run_with_feedback(conn, recipe: dict, score: float, product_values: dict[str, float],
                             **fields) -> str:
    """A completed normal run of one recipe and the lab's feedback on it (queues a learn job)."""
    run_id = completed_runs(conn, 1, dry_run=False, recipes=[recipe])[0]
    put(conn, run_id, score, product_values, **fields)
    return run_id


def product_id(conn, name: str) -> str:
    row = conn.execute("SELECT product_id FROM products WHERE name = ?", (name,)).fetchone()
    if row:
        return row[0]
    return products.create_product(conn, name=name, status="active", extra={}, now=time.time()).product_id


def put(conn, run_id: str, score: float, product_values: dict[str, float], **fields):
    return feedback.put_feedback(
        conn, run_id, score=score, pros=fields.get("pros", ""), cons=fields.get("cons", ""),
        other="", recipe_index=fields.get("recipe_index", 1),
        products=[(product_id(conn, name), value) for name, value in product_values.items()],
        extra={})


def learner_settings(fake, **memory):
    """Run settings on the fake server; lessons off unless asked (no LLM script needed)."""
    settings = fake_endpoint_settings(fake)
    return replace(settings, memory=replace(MemorySettings(lessons=False), **memory))


def learner(fake, **memory):
    from worker.memory.learn import Learner
    return Learner(learner_settings(fake, **memory))


def work_learn_jobs(conn, the_learner, worker_id: str = "worker_test") -> list:
    """Claim and execute every queued learn job in this process; their outcomes."""
    from store import learn_jobs
    conn.execute("INSERT INTO workers (worker_id, pid, host, started_at, heartbeat_at,"
                 " poll_interval_s) VALUES (?, 1, 'test', ?, ?, 1) ON CONFLICT DO NOTHING",
                 (worker_id, time.time(), time.time()))
    outcomes = []
    while (job := learn_jobs.claim_next_learn_job(conn, worker_id, time.time())) is not None:
        outcomes.append(the_learner.execute(conn, job, worker_id))
    return outcomes


def probe(conn, settings, index, queries: list[str], k: int = 5) -> list[list[tuple[str, float]]]:
    """Ranked (memory id, score) for each query: what retrieval through ``index`` (kept warm
    across calls, as a worker's is) returns now."""
    from core.embedding import Embedder
    embedder = Embedder(settings)
    try:
        return [[(h.memory_id, h.score) for h in index.search(
            conn, embedder.embed_one(q), embedder=embedder.stamp, dim=embedder.dim, k=k)]
            for q in queries]
    finally:
        embedder.close()


def load_env_settings():
    return load_run_settings()
