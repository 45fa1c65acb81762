"""``c2xc-admin``: maintenance an operator asks for by name.

It lives in ``store`` because every command is a change to the database the
API and the worker share, made through the same functions they use (and the
same migrations), never by hand-written SQL against a live file. It reads
``C2XC_SQLITE_PATH`` like the service; ``--db`` points it elsewhere.

Commands print one JSON object on success (easy to read, easy to script)
and a one-line error with exit code 1 when the database refuses.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time

from core.errors import ServiceError
from core.settings import DEFAULT_SQLITE_PATH, load_sqlite_path
from store import products
from store.db import Database
from store.migrations import migrate


def _seed_products(database: Database, _args: argparse.Namespace) -> dict:
    preset, added = products.add_standard_preset(database.connection(), time.time())
    return {"preset": preset.name, "preset_id": preset.preset_id,
            "products": [p.name for p in preset.products], "products_added": added}


COMMANDS = {
    "seed-products": (
        _seed_products,
        "add the standard CO2-reduction preset (CO, CH4, C2H4, C2H6, H2, HCOOH, CH3OH, "
        "C2H5OH) and any of its products the catalogue lacks; safe to repeat",
    ),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="c2xc-admin", description="Maintenance of the C2XC service's database, asked for by name.")
    parser.add_argument("--db", help=f"SQLite file (default: C2XC_SQLITE_PATH, else {DEFAULT_SQLITE_PATH})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_run, help_text) in COMMANDS.items():
        commands.add_parser(name, help=help_text, description=help_text)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        database = Database(args.db or load_sqlite_path())
        migrate(database.connection())
        result = COMMANDS[args.command][0](database, args)
    except (ServiceError, sqlite3.Error) as error:

        print(f"c2xc-admin {args.command}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
