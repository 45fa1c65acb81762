"""``c2xc plan …``: which recipes to make next, from a terminal.

``plan make`` ranks a batch's or some runs' recipes (``--explore`` adds the
planner's own) and prints each pick with its predicted share ± sd, the 80 %
interval and why; ``plan show`` prints a stored plan; ``plan accept`` plans
its items in the lab (``--items 1,3``; default all).
"""
from __future__ import annotations

import argparse

from client import render
from client.groups import command_group
from client.http import EXIT_OK, Api, UsageError

GOALS = ("balanced", "best", "learn")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _print_plan(plan: dict) -> None:
    render.facts([("plan", plan["plan_id"]), ("status", plan["status"]), ("objective", plan["objective"]),
                  ("goal", plan["goal"]), ("measured results", plan["n_results"]),
                  ("best so far", _pct(plan["best_so_far"])), ("model", plan["model_id"]),
                  ("note", plan["reason"])])
    rows = []
    for item in plan["items"]:
        recipe, p = item["recipe"], item["prediction"]
        predicted = "—" if p is None else f"{_pct(p['mean'])} ± {p['sd'] * 100:.1f} ({_pct(p['low'])}–{_pct(p['high'])})"
        origin = f"{item['source']['run_id']} #{item['source']['rank']}" if item["source"] else "planner"
        rows.append([item["rank"], f"{recipe['M1']}:{recipe['M2']} {recipe['atomic_ratio']}",
                     recipe.get("modifier") or recipe["modifier_smiles"], predicted, item["why"], origin])
    render.table(None, ["#", "metals", "modifier", f"{plan['objective']} share (80 % interval)", "why", "from"],
                 rows)


def _make(api: Api, args: argparse.Namespace) -> int:
    body = {"size": args.size, "explore": args.explore, "goal": args.goal, "seed": args.seed,
            "replicates": args.replicates}
    if args.batch:
        body["batch_id"] = args.batch
    if args.runs:
        body["run_ids"] = [r.strip() for r in args.runs.split(",") if r.strip()]
    if args.objective:
        body["objective"] = args.objective
    if not (args.batch or args.runs or args.explore):
        raise UsageError("say what to rank: --batch B, --runs R1,R2, or --explore")
    plan = api.post("/plans", body)
    render.as_json(plan) if args.json else _print_plan(plan)
    return EXIT_OK


def _show(api: Api, args: argparse.Namespace) -> int:
    plan = api.get(f"/plans/{args.plan}")
    render.as_json(plan) if args.json else _print_plan(plan)
    return EXIT_OK


def _accept(api: Api, args: argparse.Namespace) -> int:
    body = {}
    if args.items:
        try:
            body["items"] = [int(i) for i in args.items.split(",")]
        except ValueError:
            raise UsageError("--items takes item numbers, e.g. 1,3") from None
    made = api.post(f"/plans/{args.plan}/accept", body)
    if args.json:
        render.as_json(made)
    else:
        for experiment in made:
            render.out.print(f"{experiment['experiment_id']} planned: {experiment['recipe']['recipe_key']}",
                             markup=False)
    return EXIT_OK


def add_commands(commands, common: argparse.ArgumentParser) -> None:
    verb = command_group(commands, "plan", "which recipes to make next: make, show, accept",
                         "Plans: the next experiments, ranked by the lab's own results.", "plan_command", common)

    make = verb("make", _make, "rank recipes and pick the next experiments")
    make.add_argument("--batch", help="rank this batch's recipes")
    make.add_argument("--runs", help="or these runs' recipes (comma-separated)")
    make.add_argument("--explore", action="store_true", help="also rank recipes the planner composes")
    make.add_argument("--size", type=int, default=3, help="how many (1-20)")
    make.add_argument("--goal", choices=GOALS, default="balanced",
                      help="balanced: expected improvement; best: best bet now; learn: most to learn")
    make.add_argument("--objective", help="the product to maximise (default the service's, C2H4)")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--replicates", action="store_true", help="allow recipes already measured or planned")
    verb("show", _show, "a plan as it was made").add_argument("plan")
    accept = verb("accept", _accept, "plan the items in the lab (planned experiments)")
    accept.add_argument("plan")
    accept.add_argument("--items", help="item numbers, e.g. 1,3 (default: all)")
