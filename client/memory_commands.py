"""``c2xc memory …``, ``c2xc learn`` and ``c2xc rollback``: the lab memory from a terminal.

``memory list`` pages newest first, ``memory search`` ranks by similarity,
``memory show`` prints one memory with where it came from and who used it;
``learn RUN`` queues learning from a run's feedback again, ``rollback DELTA``
undoes one change exactly (the service refuses, exit 5, while a later change
touched the same memories, and names those changes).
"""
from __future__ import annotations

import argparse
from typing import Callable

from client import render
from client.groups import command_group
from client.http import EXIT_OK, Api

KINDS = ("lab_result", "lesson", "note")
ROLES = ("global", "orchestrator", "tio2_expert", "mof_expert")


def _rows(items: list[dict], scored: bool) -> None:
    columns = ["memory", "kind", "stance", "role", "status", "title"] + (["score"] if scored else [])
    render.table(None, columns, [
        [i["memory_id"], i["kind"], i["polarity"], i["role"], i["status"], i["title"]]
        + ([f"{i['score']:.3f}"] if scored else []) for i in items])


def _list(api: Api, args: argparse.Namespace) -> int:
    filters = {k: getattr(args, k) for k in ("status", "kind", "role") if getattr(args, k)}
    items = api.all_pages("/memories", limit=args.limit, **filters)
    render.as_json(items) if args.json else _rows(items, scored=False)
    return EXIT_OK


def _search(api: Api, args: argparse.Namespace) -> int:
    items = api.get("/memories", q=args.query, limit=args.limit)["items"]
    render.as_json(items) if args.json else _rows(items, scored=True)
    return EXIT_OK


def _show(api: Api, args: argparse.Namespace) -> int:
    item = api.get(f"/memories/{args.memory}")
    if args.json:
        render.as_json(item)
        return EXIT_OK
    origin = item["provenance"]
    render.facts([("memory", item["memory_id"]), ("kind", item["kind"]), ("stance", item["polarity"]),
                  ("shown to", item["role"]), ("status", item["status"]),
                  ("from run", origin["source_run_id"]),
                  ("feedback version", origin["feedback_version"]),
                  ("supported by", ", ".join(item["support_run_ids"]) or None),
                  ("contradicted by", ", ".join(item["contra_run_ids"]) or None),
                  ("shown to runs", len(origin["exposed_to_runs"])),
                  ("cited by runs", ", ".join(r["run_id"] for r in origin["cited_by_runs"]) or None)])
    render.out.print()
    render.out.print(item["title"], markup=False)
    render.out.print(item["content"], markup=False)
    if origin["deltas"]:
        render.out.print()
        render.table("changes (newest first)", ["delta", "source", "status", "when", "summary"], [
            [d["delta_id"], d["source"], d["status"], render.when(d["created_at"]), d["summary"]]
            for d in origin["deltas"]])
    return EXIT_OK


def _learn(api: Api, args: argparse.Namespace) -> int:
    subject = args.run  # a run (its feedback) or an experiment id
    path = f"/experiments/{subject}/learn" if subject.startswith("exp_") else f"/runs/{subject}/learn"
    job = api.post(path)
    what = (f"feedback v{job['feedback_version']} of {job['run_id']}" if job.get("feedback_version")
            else f"experiment {job['experiment_id']}")
    if args.json:
        render.as_json(job)
    elif job["status"] in ("queued", "running"):
        render.out.print(f"{job['job_id']} {job['status']} ({what})")
    else:  # this version is learned already: nothing was queued
        render.out.print(f"{what} is learned already ({job['job_id']}, delta {job['delta_id']}); "
                         "roll that back to learn it again")
    return EXIT_OK


def _rollback(api: Api, args: argparse.Namespace) -> int:
    result = api.post(f"/memory/deltas/{args.delta}/rollback")
    if args.json:
        render.as_json(result)
    else:
        render.out.print(f"{args.delta} rolled back: {len(result['restored'])} memor"
                         f"{'y' if len(result['restored']) == 1 else 'ies'} restored; "
                         f"left retrieval: {', '.join(result['leaves_retrieval']) or 'none'}")
    return EXIT_OK


def add_commands(commands, command: Callable) -> None:
    """``commands``: the top-level subparsers; ``command(name, function, help)`` adds one."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    verb = command_group(commands, "memory", "the lab memory: list, search, show",
                         "The lab memory the agent is shown.", "memory_command", common)

    listed = verb("list", _list, "memories, newest first")
    listed.add_argument("--status", choices=["active", "archived"])
    listed.add_argument("--kind", choices=KINDS)
    listed.add_argument("--role", choices=ROLES)
    listed.add_argument("--limit", type=int, default=50)
    search = verb("search", _search, "active memories most similar to a text, best first")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10, choices=range(1, 51), metavar="1-50")
    verb("show", _show, "one memory: its text, where it came from, every change, who cited it"
         ).add_argument("memory")
    command("learn", _learn, "learn again from a run's lab feedback or an experiment's result "
            "(queues a learn job)").add_argument("run", help="a run id, or an experiment id (exp_…)")
    command("rollback", _rollback, "undo one change to the memory exactly (a delta id)").add_argument("delta")
