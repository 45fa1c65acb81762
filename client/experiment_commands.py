"""``c2xc experiments …``: the lab's experiments from a terminal — list, add, set, import, export.

``add`` plans a run's recipe (``--run RUN --rank N``) or one entered by hand
(``--m1 Cu --m2 Mo --ratio 1:3 --smiles 'OC(=O)c1ccccc1'``); ``set`` moves one on
or records its result (``--product C2H4=3.1``, names as in the catalogue) and
sends the version it read as ``If-Match``, so a change someone made meanwhile is
never overwritten (the service refuses, exit 5). ``import FILE`` checks a CSV
lab notebook and stores every row or none (``--dry-run`` only checks);
``export`` streams every experiment as CSV.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from client import render
from client.export_command import stream_to
from client.groups import command_group
from client.http import EXIT_OK, Api, UsageError

STATUSES = ("planned", "in_lab", "measured", "failed")


def _recipe_text(e: dict) -> str:
    r = e.get("recipe")
    if not r:
        return "(recipe unknown)"
    return f"{r['M1']}:{r['M2']} {r['atomic_ratio']} + {r.get('modifier') or r['modifier_smiles']}"


def _result(e: dict) -> str:
    shares = ", ".join(f"{p['name']} {p['fraction']:.0%}" for p in e["products"])
    score = f"score {e['score']:g}" if e["score"] is not None else ""
    return "; ".join(filter(None, [shares, score]))


def _list(api: Api, args: argparse.Namespace) -> int:
    filters = {"status": args.status, "run_id": args.run, "metal": args.metal, "recipe_key": args.key,
               "plan_id": args.plan, "archived": "true" if args.archived else None}
    items = api.all_pages("/experiments", limit=args.limit, **{k: v for k, v in filters.items() if v})
    if args.json:
        render.as_json(items)
        return EXIT_OK
    render.table(None, ["experiment", "status", "recipe", "result", "from", "updated"], [
        [e["experiment_id"], e["status"], _recipe_text(e), _result(e),
         f"{e['source']['run_id']} #{e['source']['rank']}" if e["source"] else "", render.when(e["updated_at"])]
        for e in items])
    return EXIT_OK


def _product_ids(api: Api, pairs: list[str]) -> list[dict]:
    """``NAME=VALUE`` pairs → the API's products, names looked up in the catalogue without case."""
    catalogue = {p["name"].strip().lower(): p["product_id"] for p in api.all_pages("/products")}
    products = []
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name.strip().lower() not in catalogue:
            raise UsageError(f"--product {pair!r}: no product named {name.strip()!r} in the catalogue")
        try:
            products.append({"product_id": catalogue[name.strip().lower()], "value": float(value)})
        except ValueError:
            raise UsageError(f"--product {pair!r}: write NAME=VALUE with a number, e.g. C2H4=3.1") from None
    return products


def _show_one(e: dict, as_json: bool) -> int:
    if as_json:
        render.as_json(e)
    else:
        render.facts([("experiment", e["experiment_id"]), ("status", e["status"]), ("recipe", _recipe_text(e)),
                      ("key", (e.get("recipe") or {}).get("recipe_key")), ("result", _result(e) or None),
                      ("version", e["version"])])
    return EXIT_OK


def _add(api: Api, args: argparse.Namespace) -> int:
    body: dict = {"status": args.status, "notes": args.notes or ""}
    if args.run:
        if args.m1 or args.smiles:
            raise UsageError("give --run/--rank or the recipe (--m1 --m2 --ratio --smiles), not both")
        body.update(run_id=args.run, rank=args.rank)
    else:
        if not (args.m1 and args.m2 and args.ratio and args.smiles):
            raise UsageError("a recipe needs --m1, --m2, --ratio and --smiles (or --run and --rank)")
        body["recipe"] = {"M1": args.m1, "M2": args.m2, "atomic_ratio": args.ratio, "modifier_smiles": args.smiles,
                          **({"modifier": args.name} if args.name else {})}
    if args.product:
        body["products"] = _product_ids(api, args.product)
    if args.score is not None:
        body["score"] = args.score
    return _show_one(api.post("/experiments", body), args.json)


def _set(api: Api, args: argparse.Namespace) -> int:
    current = api.get(f"/experiments/{args.experiment}")
    changes = {k: v for k, v in {"status": args.status, "score": args.score, "notes": args.notes,
                                 "conditions": args.conditions}.items() if v is not None}
    if args.product:
        changes["products"] = _product_ids(api, args.product)
    if args.archive or args.restore:
        changes["archived"] = bool(args.archive)
    if not changes:
        raise UsageError("nothing to change: give --status, --product, --score, --notes, --conditions or --archive")
    changed = api.request("PATCH", f"/experiments/{args.experiment}", json=changes,
                          headers={"If-Match": f'"{current["version"]}"'})
    return _show_one(changed, args.json)


def _import(api: Api, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    with open(path, "rb") as body:
        result = api.request("POST", "/experiments/import", params={"dry_run": str(args.dry_run).lower()},
                             data=body, headers={"Content-Type": "text/csv"})
    if args.json:
        render.as_json(result)
    else:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result["by_status"].items()))
        verb = "all good, nothing stored (dry run)" if result["dry_run"] else f"{result['stored']} stored"
        render.out.print(f"{path}: {result['rows']} rows ({counts}); {verb}", markup=False)
    return EXIT_OK


def _export(api: Api, args: argparse.Namespace) -> int:
    return stream_to(api, "/export/experiments.csv", {"bom": "true"} if args.excel else {}, args.output)


def add_commands(commands, common: argparse.ArgumentParser) -> None:
    """``commands``: the top-level subparsers; ``common``: the options every verb takes."""
    verb = command_group(commands, "experiments", "the lab's experiments: list, add, set, import, export",
                         "Recipes the lab plans, makes and measures.", "experiments_command", common)

    listed = verb("list", _list, "experiments, newest first")
    listed.add_argument("--status", choices=STATUSES)
    listed.add_argument("--run", help="experiments of this run's recipes")
    listed.add_argument("--metal", help="either metal, e.g. Cu")
    listed.add_argument("--key", help="one recipe key: its replicates")
    listed.add_argument("--plan", help="experiments a plan created")
    listed.add_argument("--archived", action="store_true", help="the archived ones")
    listed.add_argument("--limit", type=int, default=50)
    for name, function, text in (("add", _add, "plan (or record) an experiment"),
                                 ("set", _set, "move an experiment on, record its result or notes")):
        sub = verb(name, function, text)
        if name == "set":
            sub.add_argument("experiment")
        else:
            sub.add_argument("--run", help="a completed run's recipe: the run (with --rank)")
            sub.add_argument("--rank", type=int, default=1)
            for flag in ("--m1", "--m2", "--ratio", "--smiles", "--name"):
                sub.add_argument(flag)
        sub.add_argument("--status", choices=STATUSES, default="planned" if name == "add" else None)
        sub.add_argument("--product", action="append", metavar="NAME=VALUE", help="a measured amount (repeat)")
        sub.add_argument("--score", type=float)
        sub.add_argument("--notes")
        if name == "set":
            sub.add_argument("--conditions")
            sub.add_argument("--archive", action="store_true")
            sub.add_argument("--restore", action="store_true")
    imported = verb("import", _import, "import a CSV lab notebook: every row or none")
    imported.add_argument("file")
    imported.add_argument("--dry-run", action="store_true", help="check every row, store nothing")
    exported = verb("export", _export, "every experiment as CSV")
    exported.add_argument("-o", "--output", help="write to this file (default: standard output)")
    exported.add_argument("--excel", action="store_true", help="a UTF-8 byte-order mark for Excel")
