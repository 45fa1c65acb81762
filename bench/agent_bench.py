"""Benchmark: the recipe agent against a fake LLM with realistic latency.

Runs the real worker process (``python -m worker``) on a temporary database
and real LightRAG knowledge bases; the fake OpenAI-compatible server answers
each chat call after ``--llm-latency`` seconds with the scripted 7-call
conversation of ``bench/agent_workload.py`` (paper-length chunks, top_k=3).

Reports, per run: LLM calls and tokens per recipe; wall time split into LLM
wait, knowledge-base time (LightRAG + embedding calls) and our own overhead
(everything else: trace writes, prompts, validation, scheduling); and the
worker's peak RSS. Usage: python -m bench.agent_bench [--runs 8] [--llm-latency 0.5]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.agent_workload import conversation, documents
from store import batches, events, runs
from store.db import Database, write_transaction
from store.migrations import migrate
from tests.fake_openai import FakeOpenAI
from tests.kb_fixtures import build_kb, fake_endpoint_settings
from worker.kb.tokenizer import count_tokens

REPO = Path(__file__).resolve().parents[1]


def _queue(db: Database, n: int) -> list[str]:
    conn = db.connection()
    run_ids = []
    for _ in range(n):
        with write_transaction(conn):
            _, created = batches.insert_batch(
                conn, user_request="Dual-metal TiO2 for C2H4", n_runs=1, recipes_per_run=3,
                temperature=0.7, dry_run=False, config_snapshot={}, extra={}, now=time.time())
        run_ids += [run_id for run_id, _ in created]
    return run_ids


def _measure(conn, run_id: str) -> dict:
    run = runs.get_run(conn, run_id)
    trace = events.list_events(conn, run_id, limit=100_000, cursor=None, include_payload=True)[0]
    responses = [e.payload for e in trace if e.event_type == "llm_response"]
    llm_s = sum(p["latency_ms"] for p in responses) / 1000
    kb_s = sum(e.payload["latency_ms"] for e in trace if e.event_type == "kb_query") / 1000
    wall = run.finished_at - run.started_at
    tokens = sum(p.get("usage", {}).get("total_tokens", 0) for p in responses)
    # tools first, as chat templates (Qwen's among them) render them into the system turn
    sent = [json.dumps(e.payload["tools"], ensure_ascii=False)
            + json.dumps(e.payload["messages"], ensure_ascii=False)
            for e in trace if e.event_type == "llm_request"]
    sent_chars = sum(len(text) for text in sent)
    sent_tokens = sum(count_tokens(text) for text in sent)
    uncached = _uncached_tokens(sent)
    recipes = 3
    return {"status": run.status, "wall_s": wall, "llm_s": llm_s, "kb_s": kb_s,
            "overhead_s": wall - llm_s - kb_s, "llm_calls": len(responses),
            "llm_calls_per_recipe": len(responses) / recipes, "tokens_per_recipe": tokens / recipes,
            "prompt_chars_per_recipe": sent_chars / recipes,
            "prompt_tokens_per_recipe": sent_tokens / recipes,
            "uncached_prompt_tokens_per_recipe": uncached / recipes}


def _uncached_tokens(prompts: list[str]) -> int:
    """Tokens a provider's prefix cache cannot serve: each prompt past its longest common
    prefix with an earlier prompt of the run (vLLM and DashScope cache by token prefix)."""
    from worker.kb.tokenizer import qwen_encoding

    seen: list[list[int]] = []
    total = 0
    for text in prompts:
        tokens = qwen_encoding().encode_ordinary(text)
        shared = 0
        for earlier in seen:
            n = 0
            for a, b in zip(tokens, earlier):
                if a != b:
                    break
                n += 1
            shared = max(shared, n)
        total += len(tokens) - shared
        seen.append(tokens)
    return total


def per_call(conn, run_id: str) -> list[dict]:
    """Prompt tokens of each LLM call of a run, split into system prompt, tool schemas, the rest."""
    trace = events.list_events(conn, run_id, limit=100_000, cursor=None, include_payload=True,
                               event_types=["llm_request"])[0]
    rows = []
    for step, e in enumerate(e for e in trace if e.event_type == "llm_request"):
        messages = e.payload["messages"]
        system = sum(count_tokens(m["content"] or "") for m in messages if m["role"] == "system")
        tools = count_tokens(json.dumps(e.payload["tools"], ensure_ascii=False))
        total = count_tokens(json.dumps(messages, ensure_ascii=False)) + tools
        rows.append({"call": step + 1, "purpose": e.payload.get("purpose") or "agent",
                     "system": system, "tools": tools, "rest": total - system - tools,
                     "total": total})
    return rows


def run_workload(script: list[dict], n_runs: int, llm_latency: float, extra_env=None):
    """Run ``n_runs`` normal runs of ``script`` in a real worker; (measures, the database, run ids).

    The caller reads the database inside the ``with`` block it gets back.
    """
    return _Workload(script, n_runs, llm_latency, extra_env or {})


class _Workload:
    def __init__(self, script, n_runs, llm_latency, extra_env):
        self.script, self.n_runs, self.latency, self.extra_env = script, n_runs, llm_latency, extra_env

    def __enter__(self):
        self._tmp = tempfile.TemporaryDirectory()
        self._llm = FakeOpenAI(embedding_dim=64).__enter__()
        tmp, llm = Path(self._tmp.name), self._llm
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        kb_settings = fake_endpoint_settings(llm)
        principles_docs, modulation_docs = documents()
        principles = build_kb(tmp / "p", principles_docs, kb_settings, fake=llm)
        modulation = build_kb(tmp / "m", modulation_docs, kb_settings, fake=llm)
        db = Database(str(tmp / "bench.db"))
        migrate(db.connection())
        llm.script = [{**turn, "delay": self.latency} for _ in range(self.n_runs) for turn in self.script]
        run_ids = _queue(db, self.n_runs)
        env = {**os.environ, "C2XC_SQLITE_PATH": db.path, "OPENAI_BASE_URL": llm.base_url,
               "C2XC_LLM_MODEL": "fake-qwen", "C2XC_EMBEDDING_MODEL": "fake-hash-64",
               "C2XC_EMBEDDING_DIM": "64", "LIGHTRAG_KB_PRINCIPLES_DIR": principles,
               "LIGHTRAG_KB_MODULATION_DIR": modulation, "C2XC_WORKER_POLL_S": "0.05",
               "C2XC_LOG_LEVEL": "WARNING", **self.extra_env}
        worker = subprocess.Popen([sys.executable, "-m", "worker"], cwd=REPO, env=env)
        conn = db.connection()
        deadline = time.monotonic() + 60 + self.n_runs * 10 * (1 + self.latency) * len(self.script) / 7
        while any(runs.get_run(conn, r).status in ("queued", "running") for r in run_ids):
            if time.monotonic() > deadline:
                worker.kill()
                raise SystemExit("benchmark timed out")
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        self.peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        self.conn, self.run_ids = conn, run_ids
        return self

    def __exit__(self, *exc):
        self._llm.__exit__(*exc)
        self._tmp.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--llm-latency", type=float, default=0.5)
    parser.add_argument("--mode", choices=["mix", "naive"], default="mix",
                        help="retrieval mode of the scripted searches (default mix, as the agent)")
    parser.add_argument("--per-call", action="store_true",
                        help="also print the prompt tokens of each call of the first run")
    args = parser.parse_args()
    with run_workload(conversation(args.mode), args.runs, args.llm_latency) as done:
        results = [_measure(done.conn, r) for r in done.run_ids]
        calls = per_call(done.conn, done.run_ids[0]) if args.per_call else None
        peak_rss_mb = done.peak_rss_mb
    failed = [r for r in results if r["status"] != "completed"]

    def stat(key):
        values = [r[key] for r in results]
        return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
                "max": round(max(values), 4)}

    share = [r["overhead_s"] / r["wall_s"] for r in results]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "runs": args.runs, "failed_runs": len(failed), "llm_latency_s": args.llm_latency,
        "llm_calls_per_recipe": stat("llm_calls_per_recipe"),
        "tokens_per_recipe_as_reported_by_fake": stat("tokens_per_recipe"),
        "prompt_chars_per_recipe": stat("prompt_chars_per_recipe"),
        "prompt_tokens_per_recipe_qwen_bpe": stat("prompt_tokens_per_recipe"),
        "uncached_prompt_tokens_per_recipe": stat("uncached_prompt_tokens_per_recipe"),
        "wall_s": stat("wall_s"), "llm_wait_s": stat("llm_s"), "kb_s": stat("kb_s"),
        "overhead_s": stat("overhead_s"),
        "overhead_share_of_wall": {"median": round(statistics.median(share), 4),
                                   "min": round(min(share), 4), "max": round(max(share), 4)},
        "worker_peak_rss_mb": round(peak_rss_mb, 1),
    }
    if calls:
        report["prompt_tokens_per_call_of_first_run"] = calls

    print(json.dumps(report, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
