"""Benchmark: prompt tokens per LLM call against step number on a long run (issue 17).

One normal run of ``--rounds`` search rounds (paper-length chunks, top_k=3,
both KBs) then a final answer, in the real worker against the fake model;
the prompt of every call is counted with Qwen's BPE (tool schemas +
messages). Prints the curve as JSON; ``--plot PNG`` draws it, with
``--compare BEFORE.json`` (the same benchmark run on an earlier commit) as a
second line.

Usage: python -m bench.prompt_curve [--rounds 30] [--plot docs/prompt-curve.png --compare before.json]
"""
from __future__ import annotations

import argparse
import json

from bench.agent_bench import per_call, run_workload
from bench.agent_workload import long_conversation


def measure(rounds: int) -> dict:
    with run_workload(long_conversation(rounds), 1, 0.0,
                      {"C2XC_AGENT_MAX_STEPS": "200", "C2XC_AGENT_MAX_LLM_CALLS": "200",
                       "C2XC_AGENT_MAX_TOOL_CALLS": "400"}) as done:
        status = done.conn.execute("SELECT status FROM runs").fetchone()[0]
        calls = per_call(done.conn, done.run_ids[0])
    return {"rounds": rounds, "status": status, "calls": [c["total"] for c in calls]}


def plot(curves: dict[str, list[int]], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 3.6), dpi=120)
    for label, values in curves.items():
        axes.plot(range(1, len(values) + 1), values, marker=".", label=label)
    axes.set_xlabel("LLM call of the run")
    axes.set_ylabel("prompt tokens (Qwen BPE)")
    axes.set_title("Prompt size per call on a long run")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--plot")
    parser.add_argument("--compare", help="JSON printed by this benchmark on another commit")
    parser.add_argument("--label", default="bounded node context (issue 17)")
    args = parser.parse_args()
    result = measure(args.rounds)
    print(json.dumps(result))
    if args.plot:
        curves = {}
        if args.compare:
            with open(args.compare) as handle:
                curves["whole conversation resent (before)"] = json.load(handle)["calls"]
        curves[args.label] = result["calls"]
        plot(curves, args.plot)


if __name__ == "__main__":
    main()
