"""The lab-memory loop through the real service: batch → oracle feedback → learning → next batch.

    .venv/bin/python -m bench.memory_loop [--rounds 5] [--runs 3] [--seeds 3]
    # with a real model (its key in OPENAI_API_KEY; KBs built with c2xc-kb for that embedding):
    .venv/bin/python -m bench.memory_loop --llm-base-url URL --llm-model NAME \\
        --embedding-model E --embedding-dim D --kb-principles DIR --kb-modulation DIR

Where ``bench/memory_ab.py`` drives the store and the learner directly, this
drives everything a chemist's loop touches, over HTTP: gunicorn and the
worker as processes, ``POST /batches``, the recipe agent with its knowledge
bases, ``PUT /runs/{id}/feedback`` with the numbers a seeded **lab oracle**
measures (any metal pair and modifier gets a deterministic hidden effect),
the worker's learn jobs, and the next batch's ``[M#]`` block. Three arms, each
on its own service and database:

* ``off``      — batches with ``memory: false``;
* ``on``       — memory on;
* ``rollback`` — memory on, but every learn delta is rolled back as soon as it
                 lands (``POST /memory/deltas/{id}/rollback``): what the loop
                 looks like when the lab's results are undone;
* ``placebo``  — memory on and learned like ``on`` (one lab result per recipe
                 made, the same count and format), but each round's outcomes
                 are shuffled among its recipes before they are sent as
                 feedback: memories shaped like the lab's, whose numbers belong
                 to another recipe.

Each arm runs for every seed (``--seeds``; seed s draws the oracle and the
script's choices); the report gives per round the mean over seeds and its
spread, and the last half's median and quartiles.

Without ``--llm-base-url`` the model is a **script** on a fake
OpenAI-compatible server (127.0.0.1): it searches once, then answers with a
recipe chosen by reading the memory block the agent sent it — returning
(7 times in 10) to the best result the lab reported unless that was poor,
never choosing a recipe the lab reported poor, otherwise exploring. That proves the plumbing end to end (what the worker learned is
in the next prompt, and undoing it takes it out); with a real model the same
loop measures the model.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.agent_script import MODULATION_DOCS, PRINCIPLES_DOCS  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402
from tests.kb_fixtures import build_kb, fake_endpoint_settings  # noqa: E402
from tests.processes import ServiceProcesses, wait_until  # noqa: E402

METALS = ["Cu", "Ag", "Zn", "Mo", "Ni", "Co", "Fe", "Bi"]
MODIFIERS = {"4-mercaptobenzoic acid": "OC(=O)c1ccc(S)cc1", "trifluoroacetic acid": "OC(=O)C(F)(F)F",
             "acetic acid": "CC(=O)O", "glycine": "NCC(=O)O"}
REQUEST = "Propose one dual-metal TiO2 recipe with a -COOH modifier for selective ethylene"


class Oracle:
    """A hidden lab: each metal and modifier has a seeded effect; the C2H4 fraction follows."""

    def __init__(self, seed: int):
        self.seed = seed

    def effect(self, name: str, spread: float) -> float:
        digest = hashlib.sha256(f"{self.seed}:{name.strip().lower()}".encode()).digest()
        return random.Random(digest).gauss(0, spread)

    def c2h4(self, recipe: dict) -> float:
        total = (self.effect(recipe["M1"], 1.5) + self.effect(recipe["M2"], 1.5)
                 + self.effect(recipe["small_molecule_modifier"], 1.0))
        return 1 / (1 + math.exp(-total))


def describe(recipe: dict) -> str:
    return f"{recipe['M1']}–{recipe['M2']} {recipe['atomic_ratio']} with {recipe['small_molecule_modifier']}"


class ScriptedChemist:
    """The fake model: one search, then a recipe chosen from the memory the agent showed it."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def __call__(self, body: dict) -> dict:
        messages = body["messages"]
        if "distil lessons" in (messages[0].get("content") or ""):
            return {"content": json.dumps({"lessons": []})}
        if not any(m["role"] == "tool" for m in messages):
            return {"tool_calls": [{"name": "kb_search", "arguments": {
                "kb": "kb_principles", "query": "copper molybdenum ethylene", "top_k": 1, "mode": "naive"}}]}
        memory = next((m["content"] for m in messages if (m.get("content") or "").startswith("Lab memory")), "")
        seen = {}  # recipe -> (score, stance, alias) for every lab result in the block
        for line in memory.splitlines():
            found = re.match(r"\[(M\d+)\] lab_result · (\w+) · Lab result: (.+?) — score ([\d.]+)/10", line)
            if found:
                seen[found.group(3)] = (float(found.group(4)), found.group(2), found.group(1))
        best = max(seen.items(), key=lambda kv: kv[1][0], default=None)
        if best and best[1][1] != "avoid" and self.rng.random() < 0.7:  # return to what worked best
            text, (_, _, alias) = best
            metals, modifier = text.split(" with ")
            pair, ratio = metals.split(" ")
            m1, m2 = pair.split("–")
            recipe = {"M1": m1, "M2": m2, "atomic_ratio": ratio, "small_molecule_modifier": modifier}
            why = f"The lab's best result so far [{alias}]; dual sites [C1]."
        else:
            for _ in range(10):
                m1, m2 = self.rng.sample(METALS, 2)
                recipe = {"M1": m1, "M2": m2, "atomic_ratio": "1:1",
                          "small_molecule_modifier": self.rng.choice(list(MODIFIERS))}
                if seen.get(describe(recipe), (0, ""))[1] != "avoid":
                    break
            why = "Explored: dual sites [C1]."
        recipe.update(modifier_smiles=MODIFIERS[recipe["small_molecule_modifier"]], rationale=why)
        return {"content": json.dumps({"recipes": [recipe], "overall_notes": "One recipe [C1]."})}


def service_env(args, fake: FakeOpenAI | None, kbs: tuple[str, str]) -> dict[str, str]:
    env = {"LIGHTRAG_KB_PRINCIPLES_DIR": kbs[0], "LIGHTRAG_KB_MODULATION_DIR": kbs[1],
           "C2XC_AGENT_MAX_REPAIRS": "1", "C2XC_LOG_LEVEL": "WARNING"}
    if fake is not None:
        env.update({"OPENAI_API_KEY": "sk-bench-loop", "OPENAI_BASE_URL": fake.base_url,
                    "C2XC_LLM_MODEL": "scripted-chemist", "C2XC_EMBEDDING_MODEL": "fake-hash-64",
                    "C2XC_EMBEDDING_DIM": "64", "C2XC_MEMORY_LESSONS": "0"})
    else:
        env.update({"OPENAI_API_KEY": os.environ["OPENAI_API_KEY"], "OPENAI_BASE_URL": args.llm_base_url,
                    "C2XC_LLM_MODEL": args.llm_model, "C2XC_EMBEDDING_MODEL": args.embedding_model,
                    "C2XC_EMBEDDING_DIM": str(args.embedding_dim)})
    return env


def run_arm(arm: str, seed: int, args, env: dict[str, str], workdir: Path) -> dict:
    svc = ServiceProcesses(workdir, env)
    oracle, poor = Oracle(seed), set()
    shuffler = random.Random(seed + 104_729)  # its own draws: the script's stay those of ``on``
    rounds = []
    try:
        svc.start_api()
        svc.start_worker()
        products = {name: svc.post("/products", json={"name": name}).json()["product_id"]
                    for name in ("C2H4", "other")}
        for _ in range(args.rounds):
            created = svc.post("/batches", json={"user_request": REQUEST, "n_runs": args.runs,
                                                  "recipes_per_run": 1, "memory": arm != "off"}).json()
            svc.wait_batch_finished(created["batch"]["batch_id"], timeout=600)
            outcomes, repeated, shown, cited, measured = [], 0, 0, 0, []
            for ref in created["runs"]:
                run_id = ref["run_id"]
                output = svc.get(f"/runs/{run_id}/output")
                if output.status_code != 200:
                    continue
                recipe = output.json()["recipes_json"]["recipes"][0]
                value = oracle.c2h4(recipe)
                outcomes.append(value)
                repeated += describe(recipe) in poor
                memory = svc.get(f"/runs/{run_id}/memory").json()
                shown, cited = shown + len(memory["exposures"]), cited + len(memory["cited"])
                if round(10 * value, 1) <= 3:
                    poor.add(describe(recipe))
                measured.append(run_id)
            recorded = list(outcomes)
            if arm == "placebo":  # the same results, each sent as another recipe's of the round
                shuffler.shuffle(recorded)
            for run_id, value in zip(measured, recorded):
                requests.put(f"{svc.base_url}/runs/{run_id}/feedback", timeout=30, json={
                    "score": round(10 * value, 1), "recipe_index": 1, "products": [
                        {"product_id": products["C2H4"], "value": value},
                        {"product_id": products["other"], "value": 1 - value}]}).raise_for_status()
            for run_id in measured:
                def learned(run_id=run_id):
                    jobs = svc.get(f"/runs/{run_id}/memory").json()["learn_jobs"]
                    return bool(jobs) and jobs[0]["status"] not in ("queued", "running") and jobs[0]
                job = wait_until(learned, 120, message=f"learning from {run_id}")
                if arm == "rollback" and job.get("delta_id"):
                    svc.post(f"/memory/deltas/{job['delta_id']}/rollback").raise_for_status()
            rounds.append({"mean_c2h4": round(statistics.fmean(outcomes), 3) if outcomes else None,
                           "completed_runs": len(outcomes), "repeat_poor": repeated,
                           "memories_shown": shown, "memories_cited": cited})
            print(arm, seed, json.dumps(rounds[-1]), flush=True)
    finally:
        svc.stop_all()
    return {"rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="runs per batch (1-5)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--arms", default="off,on,placebo,rollback")
    parser.add_argument("--llm-base-url")
    parser.add_argument("--llm-model")
    parser.add_argument("--embedding-model")
    parser.add_argument("--embedding-dim", type=int)
    parser.add_argument("--kb-principles")
    parser.add_argument("--kb-modulation")
    parser.add_argument("--out", default="docs/memory_loop.json")
    args = parser.parse_args()
    results = {"args": vars(args), "arms": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.llm_base_url:
            kbs, fake = (args.kb_principles, args.kb_modulation), None
            for arm in args.arms.split(","):
                results["arms"][arm] = summary([run_arm(arm, seed, args, service_env(args, None, kbs),
                                                        workdir(root, arm, seed))
                                                for seed in range(args.seeds)])
        else:
            with FakeOpenAI(embedding_dim=64) as fake:
                settings = fake_endpoint_settings(fake)
                os.environ.setdefault("OPENAI_API_KEY", "sk-bench-loop")
                kbs = (build_kb(root / "principles", PRINCIPLES_DOCS, settings, fake=fake),
                       build_kb(root / "modulation", MODULATION_DOCS, settings, fake=fake))
                for arm in args.arms.split(","):
                    per_seed = []
                    for seed in range(args.seeds):
                        fake.respond = ScriptedChemist(seed)  # every arm starts from the same draws
                        per_seed.append(run_arm(arm, seed, args, service_env(args, fake, kbs),
                                                workdir(root, arm, seed)))
                    results["arms"][arm] = summary(per_seed)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


def workdir(root: Path, arm: str, seed: int) -> Path:
    path = root / f"{arm}-{seed}"
    path.mkdir()
    return path


def summary(per_seed: list[dict]) -> dict:
    """Per round: mean over seeds and its spread; the last half: median and quartiles over seeds."""
    from bench.memory_ab import spread
    rounds = len(per_seed[0]["rounds"])

    def values(r: int, key: str) -> list[float]:
        return [s["rounds"][r][key] for s in per_seed if s["rounds"][r][key] is not None]
    return {
        "mean_c2h4_by_round": [round(statistics.fmean(values(r, "mean_c2h4")), 3) for r in range(rounds)],
        "sd_over_seeds_by_round": [round(statistics.stdev(values(r, "mean_c2h4")), 3)
                                   if len(values(r, "mean_c2h4")) > 1 else 0.0 for r in range(rounds)],
        "repeat_poor_by_round": [sum(values(r, "repeat_poor")) for r in range(rounds)],
        "shown_by_round": [sum(values(r, "memories_shown")) for r in range(rounds)],
        "cited_by_round": [sum(values(r, "memories_cited")) for r in range(rounds)],
        "last_half": spread([statistics.fmean(x for x in (r["mean_c2h4"] for r in s["rounds"][rounds // 2:])
                                              if x is not None) for s in per_seed]),
        "per_seed": per_seed}


if __name__ == "__main__":
    main()
