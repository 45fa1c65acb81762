"""What people see: tables and progress with rich on a terminal, plain lines when piped.

Scripts should use ``--json``; this module never decides data, only shows it.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any, Iterable

from rich.console import Console
from rich.table import Table

out = Console(highlight=False, soft_wrap=not sys.stdout.isatty())
IDS = {"run", "batch", "memory", "delta", "job"}
KEEP_WHOLE = {"run", "batch", "created", "alias", "source", "status", "#", "M1", "M2", "ratio", "took"}
STATUS_STYLE = {"completed": "green", "failed": "red", "canceled": "yellow", "running": "cyan",
                "queued": "bright_black"}


def when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S") if epoch else "—"


def took(run: dict) -> str:
    if run.get("started_at") and run.get("finished_at"):
        return f"{run['finished_at'] - run['started_at']:.1f} s"
    return "—"


def status(value: str) -> str:
    style = STATUS_STYLE.get(value)
    return f"[{style}]{value}[/{style}]" if style and out.is_terminal else value


def as_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """A rich table on a terminal; tab-separated lines (header first) when piped."""
    columns, rows = list(columns), [["" if v is None else str(v) for v in row] for row in rows]
    if not out.is_terminal:
        if title:
            print(f"# {title}")
        print("\t".join(columns))
        for row in rows:
            print("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in row))
        return
    grid = Table(title=title, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):  # ids and times whole; long text folds
        # an id is never cut, however narrow the terminal: it is what a reader pastes into the
        # next command; the other columns give way
        widest = max([len(column)] + [len(row[index]) for row in rows]) if column in IDS else None
        grid.add_column(column, overflow="fold", no_wrap=column in KEEP_WHOLE, min_width=widest)
    for row in rows:
        grid.add_row(*row)
    out.print(grid)


def facts(pairs: Iterable[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in pairs) if pairs else 0
    for key, value in pairs:
        out.print(f"{key:<{width}}  {'—' if value in (None, '') else value}")


def run_facts(run: dict) -> None:
    error = run.get("error") or {}
    pairs = [("run", run["run_id"]), ("batch", run["batch_id"]), ("status", status(run["status"])),
             ("dry run", "yes" if run["dry_run"] else "no"), ("created", when(run["created_at"])),
             ("started", when(run["started_at"])), ("finished", when(run["finished_at"])),
             ("took", took(run))]
    if error:
        pairs.append(("error", f"{error.get('code')}: {error.get('message')}"))
    if run.get("cancel_requested"):
        pairs.append(("cancel", f"requested {when(run.get('cancel_requested_at'))}"
                                f"{': ' + run['cancel_reason'] if run.get('cancel_reason') else ''}"))
    if run.get("trace_pruned_at"):
        pairs.append(("trace", f"deleted by retention {when(run['trace_pruned_at'])}"))
    facts(pairs)


def recipes(output: dict) -> None:
    body = output.get("recipes_json") or {}
    rows = []
    for rank, recipe in enumerate(body.get("recipes", []), start=1):
        structure = recipe.get("modifier_structure") or {}
        rows.append([recipe.get("rank", rank), recipe.get("M1"), recipe.get("M2"), recipe.get("atomic_ratio"),
                     recipe.get("small_molecule_modifier"),
                     structure.get("canonical_smiles") or recipe.get("modifier_smiles"),
                     structure.get("name_check", ""), recipe.get("rationale")])
    table("Recipes", ["#", "M1", "M2", "ratio", "modifier", "SMILES", "name check", "rationale"], rows)
    if body.get("overall_notes"):
        out.print(f"\nNotes: {body['overall_notes']}")
    citations = output.get("citations") or {}
    if citations:
        table("Citations", ["alias", "source"],
              [[alias, ref] for alias, ref in sorted(citations.items(), key=lambda kv: _alias_order(kv[0]))])


def _alias_order(alias: str) -> tuple[int, str]:
    digits = "".join(ch for ch in alias if ch.isdigit())
    return (int(digits) if digits else 0, alias)


def event_line(event: dict) -> str:
    """One line per event: time, type, and the most telling part of its payload."""
    if "payload" not in event:  # a live stream sends what happened, not the whole payload
        return f"{when(event['created_at'])}  {event['event_type']:<18} {event.get('payload_bytes', 0):>7} B"
    payload = event.get("payload") or {}
    summary = ""
    kind = event["event_type"]
    if kind == "recap_info":
        summary = " ".join(str(payload.get(k)) for k in ("node_id", "state", "action") if payload.get(k))
    elif kind == "kb_query":
        summary = f"{payload.get('kb', '')} {payload.get('query', '')!r} → {len(payload.get('results') or [])} chunks"
    elif kind in ("llm_request", "llm_response"):
        summary = payload.get("purpose") or payload.get("model") or ""
    elif kind in ("run_failed", "run_canceled"):
        summary = payload.get("error_code") or payload.get("reason") or ""
    return f"{when(event['created_at'])}  {kind:<18} {summary}".rstrip()
