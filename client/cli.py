"""``c2xc``: submit, watch, read and cancel runs from a terminal.

Exit codes: 0 done (for ``submit --wait`` and ``watch``: every run completed),
1 a run did not complete (failed or canceled), 2 usage error, 3 not found,
4 service unreachable, 5 refused by the service (the error's code and message
are printed in one line: 401, 409, 422, 503, …).
"""
from __future__ import annotations

import argparse
import sys
import time

from client import experiment_commands, export_command, memory_commands, plan_commands, render
from client.http import (
    EXIT_OK,
    EXIT_RUN_NOT_COMPLETED,
    EXIT_USAGE,
    TERMINAL,
    Api,
    ClientError,
)


def _submit(api: Api, args: argparse.Namespace) -> int:
    created = api.create_batch({"user_request": args.request, "n_runs": args.runs,
                                "recipes_per_run": args.recipes, "dry_run": args.dry_run})
    batch_id = created["batch"]["batch_id"]
    if not args.wait:
        if args.json:
            render.as_json(created)
        else:
            render.out.print(f"batch {batch_id}: {len(created['runs'])} run(s) queued")
            for run in created["runs"]:
                render.out.print(f"  {run['run_id']}")
        return EXIT_OK
    final = _follow_batch(api, batch_id, quiet=args.json)
    if args.json:
        render.as_json({"batch": api.get(f"/batches/{batch_id}"), "runs": final})
    return EXIT_OK if all(run["status"] == "completed" for run in final) else EXIT_RUN_NOT_COMPLETED


def _follow_batch(api: Api, batch_id: str, quiet: bool) -> list[dict]:
    """Poll the batch's runs until all end, showing done/running/queued and each run's last step."""
    steps: dict[str, tuple[str | None, str]] = {}  # run_id -> (cursor, last step)

    def last_step(run: dict) -> str:
        cursor, step = steps.get(run["run_id"], (None, ""))
        if run["status"] == "queued":
            return ""
        page = api.get(f"/runs/{run['run_id']}/events", limit=200, cursor=cursor, include_payload="true")
        if page["items"]:
            step = render.event_line(page["items"][-1]).split("  ", 1)[1]
            cursor = page["items"][-1]["cursor"]
        steps[run["run_id"]] = (cursor, step)
        return step

    def snapshot() -> list[dict]:
        return api.all_pages("/runs", batch_id=batch_id)

    if quiet or not render.out.is_terminal:
        seen: dict[str, str] = {}
        while True:
            current = snapshot()
            for run in current:
                if seen.get(run["run_id"]) != run["status"] and not quiet:
                    print(f"{run['run_id']} {run['status']}", flush=True)
                seen[run["run_id"]] = run["status"]
            if all(run["status"] in TERMINAL for run in current):
                return current
            time.sleep(1)
    from rich.live import Live
    from rich.table import Table

    def view(current: list[dict]) -> Table:
        counts = {s: sum(r["status"] == s for r in current) for s in ("completed", "running", "queued")}
        ended = sum(r["status"] in TERMINAL for r in current)
        grid = Table(title=f"batch {batch_id}: {ended}/{len(current)} done · {counts['running']} running · "
                           f"{counts['queued']} queued", title_justify="left")
        for column in ("run", "status", "current step"):
            grid.add_column(column, overflow="fold")
        for run in current:
            grid.add_row(run["run_id"], render.status(run["status"]), last_step(run))
        return grid

    with Live(view(current := snapshot()), console=render.out, refresh_per_second=4) as live:
        while not all(run["status"] in TERMINAL for run in current):
            time.sleep(1)
            current = snapshot()
            live.update(view(current))
    return current


def _recent_runs(api: Api, limit: int, status: str | None) -> list[dict]:
    """Newest batches first, their runs in order, until ``limit`` runs (the API lists runs oldest first)."""
    found, cursor = [], None
    while len(found) < limit:
        page = api.get("/batches", limit=20, cursor=cursor)
        for batch in page["items"]:
            found += [r for r in api.all_pages("/runs", batch_id=batch["batch_id"])
                      if status is None or r["status"] == status]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    return found[:limit]


def _runs(api: Api, args: argparse.Namespace) -> int:
    if args.batch or args.status in ("queued", "running"):  # queue order is what matters here
        items = api.all_pages("/runs", limit=args.limit, status=args.status, batch_id=args.batch)
    else:
        items = _recent_runs(api, args.limit, args.status)
    if args.json:
        render.as_json(items)
        return EXIT_OK
    render.table(None, ["run", "#", "status", "dry", "created", "took", "error"],
                 [[r["run_id"], r["run_index"] + 1, render.status(r["status"]),
                   "yes" if r["dry_run"] else "", render.when(r["created_at"]), render.took(r),
                   (r.get("error") or {}).get("code", "")] for r in items])
    return EXIT_OK


def _output_or_none(api: Api, run_id: str) -> dict | None:
    try:
        return api.get(f"/runs/{run_id}/output")
    except ClientError as error:
        if error.code == "conflict":  # the run has no output (yet, or ever)
            return None
        raise


def _show(api: Api, args: argparse.Namespace) -> int:
    run = api.get(f"/runs/{args.run}")
    output = _output_or_none(api, args.run)
    if args.json:
        render.as_json({"run": run, "output": output})
        return EXIT_OK
    render.run_facts(run)
    if output:
        render.out.print()
        render.recipes(output)
    return EXIT_OK


def _output(api: Api, args: argparse.Namespace) -> int:
    output = api.get(f"/runs/{args.run}/output")
    if args.json:
        render.as_json(output)
    else:
        render.recipes(output)
    return EXIT_OK


def _watch(api: Api, args: argparse.Namespace) -> int:
    types = [t for t in (args.types or "").split(",") if t] or None
    for event in api.stream(args.run, types):
        if args.details:
            event = api.get(f"/runs/{args.run}/events/{event['event_id']}")
        if args.json:
            print(render.json.dumps(event, ensure_ascii=False), flush=True)  # one JSON object per line
        else:
            render.out.print(render.event_line(event), markup=False)
    final = api.get(f"/runs/{args.run}")
    if not args.json:
        render.out.print(f"run {final['run_id']} {render.status(final['status'])}")
    return EXIT_OK if final["status"] == "completed" else EXIT_RUN_NOT_COMPLETED


def _evidence(api: Api, args: argparse.Namespace) -> int:
    item = api.get(f"/runs/{args.run}/evidence/{args.alias}")
    if args.json:
        render.as_json(item)
        return EXIT_OK
    render.facts([("alias", item["alias"]), ("source", item["source"]), ("knowledge base", item["kb_namespace"]),
                  ("chunk", item["ref"])])
    render.out.print()
    render.out.print(item.get("content") or "", markup=False)
    return EXIT_OK


def _cancel(api: Api, args: argparse.Namespace) -> int:
    kind = "batches" if args.target.startswith("batch_") else "runs"
    answer = api.post(f"/{kind}/{args.target}/cancel", {"reason": args.reason} if args.reason else {})
    if args.json:
        render.as_json(answer)
    else:
        render.out.print(f"{args.target}: {answer.get('status', 'requested')}")
    return EXIT_OK


def _worker(api: Api, args: argparse.Namespace) -> int:
    state = api.get("/system/worker")
    if args.json:
        render.as_json(state)
        return EXIT_OK
    worker, queue = state["worker"], state["queue"]
    render.facts([("worker", "running" if worker.get("running") else "not running"),
                  ("worker id", worker.get("worker_id")), ("pid", worker.get("pid")), ("host", worker.get("host")),
                  ("heartbeat", f"{worker['heartbeat_age_s']:.1f} s ago" if worker.get("heartbeat_age_s")
                   is not None else None),
                  ("current run", worker.get("current_run_id")), ("live workers", worker.get("live_workers")),
                  ("runs", ", ".join(f"{k} {v}" for k, v in sorted(queue["runs_by_status"].items())) or "none")])
    return EXIT_OK


def _within(low: int, high: int):
    """An argparse type: a whole number in low..high, the range the service accepts."""
    def checked(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high}")
        return value
    return checked


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="c2xc", description="Submit, watch, read and cancel C2XC recipe runs.",
                                  epilog="The service's address: --url or C2XC_URL (default "
                                         "http://127.0.0.1:8000); its token, if it has one: C2XC_API_TOKEN.")
    top.add_argument("--url", help="the service (default: C2XC_URL, else http://127.0.0.1:8000)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, function, help_text):
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(function=function)
        return sub

    submit = command("submit", _submit, "create a batch of runs (safe to retry: one batch per command)")
    submit.add_argument("request", help="what the agent should look for, in English or Chinese")
    submit.add_argument("--runs", type=_within(1, 5), default=1, help="independent runs (1-5)")
    submit.add_argument("--recipes", type=_within(1, 3), default=1, help="recipes per run (1-3)")
    submit.add_argument("--dry-run", action="store_true", help="no LLM or knowledge base: placeholder recipes")
    submit.add_argument("--wait", action="store_true", help="follow the runs until all end; exit 0 if all completed")
    runs = command("runs", _runs, "list runs: newest batches first; queued and running ones in queue order")
    runs.add_argument("--status", choices=["queued", "running", "completed", "failed", "canceled"])
    runs.add_argument("--batch", help="only this batch's runs")
    runs.add_argument("--limit", type=_within(1, 10_000), default=50)
    command("show", _show, "a run: status, times, error, recipes with their citations").add_argument("run")
    watch = command("watch", _watch, "follow a run's trace live, one line per event, until it ends")
    watch.add_argument("run")
    watch.add_argument("--types", help="only these event types, comma-separated (e.g. kb_query,recap_info)")
    watch.add_argument("--details", action="store_true",
                       help="fetch each event's payload and summarise it (one request per event)")
    evidence = command("evidence", _evidence, "the chunk a citation alias (C1, C2, …) stands for")
    evidence.add_argument("run")
    evidence.add_argument("alias")
    cancel = command("cancel", _cancel, "cancel a run or a whole batch (by its id)")
    cancel.add_argument("target", help="run_… or batch_…")
    cancel.add_argument("--reason")
    command("output", _output, "a run's final output (recipes, citations)").add_argument("run")
    command("worker", _worker, "is the worker alive, how long is the queue")
    export_command.add_command(command)
    memory_commands.add_commands(commands, command)
    experiment_commands.add_commands(commands, common)
    plan_commands.add_commands(commands, common)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code not in (0, None) else EXIT_OK
    try:
        return args.function(Api(args.url), args)
    except ClientError as error:
        name = " ".join(filter(None, [args.command, getattr(args, "memory_command", None),
                                      getattr(args, "experiments_command", None),
                                      getattr(args, "plan_command", None)]))
        print(f"c2xc {name}: {error.line()}", file=sys.stderr)  # one line, never wrapped
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
