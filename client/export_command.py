"""``c2xc export``: every recipe with the lab's results, as the spreadsheet-ready CSV (or JSON lines).

Streams the service's ``/export/recipes.csv`` to a file or to standard output
without holding it in memory; ``--batch`` narrows it to one batch,
``--excel`` adds the byte-order mark Excel needs to read non-ASCII text.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from client import render
from client.http import EXIT_OK, Api, UsageError, raise_for_error


def _export(api: Api, args: argparse.Namespace) -> int:
    params = {"format": args.format}
    if args.batch:
        params["batch_id"] = args.batch
    if args.excel:
        if args.format != "csv":
            raise UsageError("--excel is for CSV (the byte-order mark is a spreadsheet's need)")
        params["bom"] = "true"
    return stream_to(api, "/export/recipes.csv", params, args.output)


def stream_to(api: Api, path: str, params: dict, output: str | None) -> int:
    """Stream a download to ``output`` (or standard output) without holding it in memory."""
    reply = api.stream_get(path, params)
    raise_for_error(reply)
    target = open(output, "wb") if output else sys.stdout.buffer
    written = 0
    try:
        for chunk in reply.iter_content(64 * 1024):
            target.write(chunk)
            written += len(chunk)
    finally:
        if output:
            target.close()
    if output:
        render.out.print(f"{Path(output)}: {written:,} bytes", markup=False)
    return EXIT_OK


def add_command(command) -> None:
    export = command("export", _export, "every recipe with the lab's results, as CSV (for a spreadsheet)")
    export.add_argument("--batch", help="only this batch's runs (batch_…)")
    export.add_argument("-o", "--output", help="write to this file (default: standard output)")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--excel", action="store_true",
                        help="start the CSV with a UTF-8 byte-order mark, so Excel reads 乙烯 and Å right")
