"""Benchmark: knowledge-base open time, and time per query by retrieval mode.

Builds one KB with the real builder (``--docs`` paper-length documents from
``bench/agent_workload.py``'s generator, the fake server playing the
embedding and extraction models), then in one process:

* opens it ``--repeats`` times (what a worker paid per run before KBs were
  kept open across runs);
* queries it ``--queries`` times in ``naive`` and ``mix`` mode with the
  agent's keywords, and in ``mix`` with keywords extracted through an LLM
  call answered by the fake server after ``--llm-latency`` seconds (what a
  real endpoint adds is one round trip).

Usage: python -m bench.kb_retrieval [--docs 60] [--queries 20] [--llm-latency 0.8]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from bench.agent_workload import _SUBJECTS, _paper
from bench.common import machine, summary
from tests.fake_openai import FakeOpenAI
from tests.kb_fixtures import build_kb, fake_endpoint_settings
from worker.kb.adapter import KnowledgeBase
from worker.llm.embeddings import openai_embedder

QUERIES = ["copper molybdenum ethylene", "silver hydrogen evolution", "CO2 enrichment Zr6",
           "hydrophobic interface copper", "C-C coupling barrier", "charge separation dopant"]
KEYWORD_REPLY = json.dumps({"high_level_keywords": ["C-C coupling"],
                            "low_level_keywords": ["Copper", "TiO2"]})


def _kb(folder: str, settings) -> KnowledgeBase:
    return KnowledgeBase("kb_principles", folder, openai_embedder(settings),
                         settings.embedding_dim, settings.embedding_model)


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--llm-latency", type=float, default=0.8)
    args = parser.parse_args()
    rng = random.Random(11)
    documents = {f"d{i}.md": _paper(rng.choice(_SUBJECTS), rng) for i in range(args.docs)}
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(embedding_dim=64) as llm:
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        settings = fake_endpoint_settings(llm)
        built = time.perf_counter()
        folder = build_kb(Path(tmp) / "kb", documents, settings, fake=llm)
        build_s = time.perf_counter() - built
        opens = []
        for _ in range(args.repeats):
            kb = _kb(folder, settings)
            opens.append(_timed(lambda: kb.search("copper", 1, mode="naive")))
            kb.close()
        kb = _kb(folder, settings)
        kb.search("warm up", 1, mode="naive")
        keywords = {"high_level": ["C-C coupling"], "low_level": ["Copper", "TiO2"]}
        times = {"naive": [], "mix (agent keywords)": [], "mix (LLM keywords)": []}
        llm.default_turn = {"content": KEYWORD_REPLY, "delay": args.llm_latency}

        def extract(prompt: str) -> str:
            import openai
            client = openai.OpenAI(base_url=llm.base_url, api_key="sk-bench")
            return client.chat.completions.create(model="fake", messages=[
                {"role": "user", "content": prompt}]).choices[0].message.content
        for i in range(args.queries):
            query = QUERIES[i % len(QUERIES)]
            times["naive"].append(_timed(lambda: kb.search(query, 4, mode="naive")))
            times["mix (agent keywords)"].append(
                _timed(lambda: kb.search(query, 4, mode="mix", keywords=keywords)))
            times["mix (LLM keywords)"].append(
                _timed(lambda: kb.search(query, 4, mode="mix", extract_keywords=extract)))
        kb.close()
    print(json.dumps({"machine": machine(), "documents": args.docs, "build_s": round(build_s, 1),
                      "open_first_search_ms": summary(opens, 1),
                      "query_ms": {mode: summary(values, 1) for mode, values in times.items()},
                      "llm_latency_s": args.llm_latency}, indent=2))


if __name__ == "__main__":
    main()
