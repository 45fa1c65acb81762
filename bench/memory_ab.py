"""Does lab memory carry the lab's results to the next recipes? An A/B/placebo benchmark.

    .venv/bin/python bench/memory_ab.py [--seeds 12] [--rounds 6] [--runs 4] [--out docs/memory_ab.json]

A seeded **lab oracle** (a hidden response surface: each metal and modifier
has a latent effect, the C2H4 fraction is a logistic of their sum) plays the
lab. Each round, every arm proposes ``--runs`` recipes; the oracle "makes"
them and its result is recorded as feedback through the store
(``store.feedback.put_feedback``, which queues the learn job exactly as the API
does); the real :class:`worker.memory.learn.Learner` learns from it, with
embeddings from the fake OpenAI-compatible server on loopback. Three arms:

* ``off``     — memory switched off (``memory: false``): the proposer sees nothing;
* ``on``      — memory on: each run is shown the top-k memories for its task
                (:class:`worker.memory.recall.MemoryRecall`, the agent's own
                retrieval) and may call ``memory_search`` on a candidate;
* ``placebo`` — memory on and learned exactly as ``on`` — one lab result per
                recipe made, the same count and format — but each round's
                outcomes are shuffled among its recipes before they are
                recorded: lab-result-shaped memories whose numbers belong to
                another recipe. What ``on`` gains over it is what the lab's
                *true* results are worth, not what having memories is worth.

The proposer is a **scripted model**, not an LLM: it explores the recipe space
at random, avoids a candidate whose memory says the lab found it poor, and
returns to one the lab found good. So this benchmark proves the *plumbing*:
that feedback becomes memory, that retrieval and search put it before the
model, and that a rollback removes it (``--rollback``) — not that a real model
uses memory well. Point ``--llm`` at nothing yet: with a real model the same
loop runs through the agent (``make run`` + ``c2xc``); see docs/MEMORY.md.

It also measures exact memory search at 1,000 and 10,000 memories (1024-dim
vectors, cold load and warm search) and learn-job time.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.embedding import Embedder  # noqa: E402
from core.settings import MemorySettings, load_run_settings  # noqa: E402
from store import batches, feedback, products, runs  # noqa: E402
from store.db import Database, write_transaction  # noqa: E402
from store.memory_items import encode_vector, full_state, write_state  # noqa: E402
from store.memory_search import MemoryIndex  # noqa: E402
from store.migrations import migrate  # noqa: E402
from store.records import RunOutput  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402
from worker.memory.learn import Learner  # noqa: E402
from worker.memory.recall import MemoryRecall  # noqa: E402
from worker.run_context import RunContext  # noqa: E402

METALS = ["Cu", "Ag", "Zn", "Mo", "Ni", "Co", "Fe", "Bi"]
MODIFIERS = {"4-mercaptobenzoic acid": "OC(=O)c1ccc(S)cc1", "trifluoroacetic acid": "OC(=O)C(F)(F)F",
             "acetic acid": "CC(=O)O", "glycine": "NCC(=O)O"}
TASK = "Propose a dual-metal TiO2 recipe with a -COOH modifier for selective ethylene"


class Oracle:
    """The hidden lab: latent effects per metal and modifier; a recipe's C2H4 fraction."""

    def __init__(self, seed: int):
        rng = random.Random(seed * 7919)
        self.metal = {m: rng.gauss(0, 1.2) for m in METALS}
        self.modifier = {m: rng.gauss(0, 0.8) for m in MODIFIERS}

    def c2h4(self, m1: str, m2: str, modifier: str) -> float:
        return 1 / (1 + math.exp(-(self.metal[m1] + self.metal[m2] + self.modifier[modifier] - 0.5)))


def describe(recipe: dict) -> str:
    return f"{recipe['M1']}–{recipe['M2']} 1:1 with {recipe['small_molecule_modifier']}"


class ScriptedProposer:
    """Reads the memory it is shown like a careful chemist-bot would; otherwise explores."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def random_recipe(self) -> dict:
        m1, m2 = self.rng.sample(METALS, 2)
        modifier = self.rng.choice(list(MODIFIERS))
        return {"M1": m1, "M2": m2, "atomic_ratio": "1:1", "small_molecule_modifier": modifier,
                "modifier_smiles": MODIFIERS[modifier], "rationale": "scripted [C1]"}

    @staticmethod
    def stances(text: str | None) -> dict[str, str]:
        """recipe description -> prefer/avoid, from the lines of a memory block or search."""
        found = {}
        for line in (text or "").splitlines():
            hit = re.search(r"lab_result · (\w+) · Lab result: (.+?) — score", line)
            if hit:
                found[hit.group(2)] = hit.group(1)
        return found

    def propose(self, recall: MemoryRecall, block: str | None) -> dict:
        stances = self.stances(block)
        good = [d for d, s in stances.items() if s == "prefer"]
        if good and self.rng.random() < 0.7:
            return self.from_description(good[0])
        for _ in range(6):
            candidate = self.random_recipe()
            if recall.enabled:
                stances.update(self.stances(recall.search({"query": f"Lab result: {describe(candidate)}",
                                                           "top_k": 2}, node_id="n1", role="orchestrator")))
            if stances.get(describe(candidate)) != "avoid":
                return candidate
        return candidate

    @staticmethod
    def from_description(text: str) -> dict:
        metals, modifier = text.split(" 1:1 with ")
        m1, m2 = metals.split("–")
        return {"M1": m1, "M2": m2, "atomic_ratio": "1:1", "small_molecule_modifier": modifier,
                "modifier_smiles": MODIFIERS[modifier], "rationale": "scripted [C1]"}


def product_ids(conn) -> dict[str, str]:
    return {name: products.create_product(conn, name=name, status="active", extra={},
                                          now=time.time()).product_id for name in ("C2H4", "other")}


def run_arm(arm: str, seed: int, rounds: int, per_round: int, settings, workdir: Path) -> dict:
    db = Database(str(workdir / f"{arm}-{seed}.db"))
    conn = db.connection()
    migrate(conn)
    conn.execute("INSERT INTO workers (worker_id, pid, host, started_at, heartbeat_at, poll_interval_s)"
                 " VALUES ('bench', ?, 'bench', ?, ?, 1)", (os.getpid(), time.time(), time.time()))
    oracle, rng = Oracle(seed), random.Random(seed)
    proposer, index = ScriptedProposer(rng), MemoryIndex()
    learner = Learner(settings)
    embedder = Embedder(settings)
    ids = product_ids(conn)
    shuffler = random.Random(seed + 104_729)  # its own draws: the proposer's stay those of ``on``
    poor: set[str] = set()
    per_round_mean, repeats, learn_s = [], [], []
    for _ in range(rounds):
        outcomes, repeated, made = [], 0, []
        for _ in range(per_round):
            with write_transaction(conn):
                batches.insert_batch(conn, user_request=TASK, n_runs=1, recipes_per_run=1, temperature=0.7,
                                     dry_run=False, config_snapshot={"memory": {"enabled": arm != "off"}},
                                     extra={}, now=time.time())
            claimed = runs.claim_next_run(conn, "bench", time.time())
            ctx = RunContext(conn, claimed, settings, threading.Event(), worker_id="bench")
            recall = MemoryRecall(ctx, embedder, index, top_k=3, search_max_k=5, enabled=arm != "off")
            recipe = proposer.propose(recall, recall.block_for("n1", "orchestrator", TASK))
            runs.complete_run(conn, run_id=claimed.run_id, worker_id="bench", now=time.time(),
                              output=RunOutput({"recipes": [{**recipe, "rank": 1}], "overall_notes": "-"},
                                               {}, []))
            value = oracle.c2h4(recipe["M1"], recipe["M2"], recipe["small_molecule_modifier"])
            repeated += describe(recipe) in poor
            outcomes.append(value)
            if round(10 * value, 1) <= settings.memory.avoid_score:
                poor.add(describe(recipe))
            made.append(claimed.run_id)
        recorded = list(outcomes)
        if arm == "placebo":  # the same results, each recorded against another recipe of the round
            shuffler.shuffle(recorded)
        for run_id, value in zip(made, recorded):
            feedback.put_feedback(conn, run_id, score=round(10 * value, 1), pros="", cons="", other="",
                                  recipe_index=1, products=[(ids["C2H4"], value), (ids["other"], 1 - value)],
                                  extra={})
        from store import learn_jobs
        while (job := learn_jobs.claim_next_learn_job(conn, "bench", time.time())) is not None:
            started = time.perf_counter()
            learner.execute(conn, job, "bench")
            learn_s.append(time.perf_counter() - started)
        per_round_mean.append(statistics.fmean(outcomes))
        repeats.append(repeated / per_round)
    embedder.close()
    db.close()
    return {"mean_c2h4": per_round_mean, "repeat_poor": repeats, "learn_s": learn_s}


def search_latency(n: int, dim: int = 1024, probes: int = 50) -> dict:
    """Cold load and warm exact search over ``n`` active memories (random unit vectors)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(str(Path(tmp) / "search.db"))
        conn = db.connection()
        migrate(conn)
        rng = np.random.default_rng(n)
        now = time.time()
        with write_transaction(conn):
            for i in range(n):
                state = full_state({"kind": "lesson", "role": ["global", "tio2_expert"][i % 2],
                                    "polarity": "neutral", "title": f"lesson {i}", "content": f"lesson {i}",
                                    "updated_at": now, "embedder": f"bench@{dim}"})
                write_state(conn, f"mem_{i:08d}", state, encode_vector(rng.standard_normal(dim)), created_at=now)
        index = MemoryIndex()
        query = rng.standard_normal(dim)
        started = time.perf_counter()
        index.search(conn, query, embedder=f"bench@{dim}", dim=dim, k=3, roles=("tio2_expert", "global"))
        cold = time.perf_counter() - started
        warm = []
        for _ in range(probes):
            query = rng.standard_normal(dim)
            started = time.perf_counter()
            index.search(conn, query, embedder=f"bench@{dim}", dim=dim, k=3, roles=("tio2_expert", "global"))
            warm.append(time.perf_counter() - started)
        db.close()
    return {"n": n, "dim": dim, "cold_ms": round(cold * 1000, 2),
            "warm_median_ms": round(statistics.median(warm) * 1000, 3)}


def spread(values: list[float]) -> dict:
    """Median and quartiles over seeds: how much a seed's luck moves the figure."""
    ordered = sorted(values)
    quartiles = statistics.quantiles(ordered, n=4, method="inclusive") if len(ordered) > 1 else [ordered[0]] * 3
    return {"median": round(quartiles[1], 3), "q1": round(quartiles[0], 3), "q3": round(quartiles[2], 3),
            "seeds": len(ordered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--runs", type=int, default=4, help="runs per round and arm")
    parser.add_argument("--out", default="docs/memory_ab.json")
    args = parser.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-local")
    results: dict = {"arms": {}, "search": [], "args": vars(args)}
    with FakeOpenAI(embedding_dim=64) as fake, tempfile.TemporaryDirectory() as tmp:
        settings = replace(load_run_settings(), embedding_base_url=fake.base_url, embedding_dim=64,
                           embedding_model="fake-hash-64", memory=MemorySettings(lessons=False))
        for arm in ("off", "on", "placebo"):
            per_seed = [run_arm(arm, seed, args.rounds, args.runs, settings, Path(tmp))
                        for seed in range(args.seeds)]
            results["arms"][arm] = {
                "mean_c2h4_by_round": [round(statistics.fmean(s["mean_c2h4"][r] for s in per_seed), 3)
                                       for r in range(args.rounds)],
                "sd_over_seeds_by_round": [round(statistics.stdev(s["mean_c2h4"][r] for s in per_seed), 3)
                                           if len(per_seed) > 1 else 0.0 for r in range(args.rounds)],
                "repeat_poor_by_round": [round(statistics.fmean(s["repeat_poor"][r] for s in per_seed), 3)
                                         for r in range(args.rounds)],
                "last_half": spread([statistics.fmean(s["mean_c2h4"][args.rounds // 2:]) for s in per_seed]),
                "learn_job_median_ms": round(statistics.median(
                    [x for s in per_seed for x in s["learn_s"]] or [0]) * 1000, 1)}
            print(arm, json.dumps(results["arms"][arm]), flush=True)
    for n in (1000, 10000):
        results["search"].append(search_latency(n))
        print("search", json.dumps(results["search"][-1]), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
