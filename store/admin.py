"""``c2xc-admin``: maintenance an operator asks for by name.

It lives in ``store`` because every command is a change to the database the
API and the worker share, made through the same functions they use (and the
same migrations), never by hand-written SQL against a live file. It reads
``C2XC_DATABASE_URL`` / ``C2XC_SQLITE_PATH`` like the service; ``--db`` points
it elsewhere. ``backup`` and ``vacuum`` are SQLite's; on PostgreSQL they say
what to use instead, and ``prune`` works on both.

Commands print one JSON object on success (easy to read, easy to script)
and a one-line error with exit code 1 when the database refuses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from core.errors import InvalidArgument, ServiceError
from core.settings import DEFAULT_SQLITE_PATH, load_database
from store import backup, dialect, products, retention
from store.db import DATABASE_ERRORS, Database, open_database
from store.migrations import migrate

DAY_S = 86400.0


def _seed_products(database: Database, _args: argparse.Namespace) -> dict:
    preset, added = products.add_standard_preset(database.connection(), time.time())
    return {"preset": preset.name, "preset_id": preset.preset_id,
            "products": [p.name for p in preset.products], "products_added": added}


ON_POSTGRES = {
    "backup": "on PostgreSQL, back up with the server's own tools: pg_dump -Fc (a consistent "
              "logical copy of a live database) or pg_basebackup with WAL archiving for "
              "point-in-time recovery; see docs/OPERATIONS.md",
    "copy-to": "it copies a SQLite database into PostgreSQL: give the SQLite file with --db",
    "vacuum": "on PostgreSQL, autovacuum reclaims the space prune frees; to shrink the files "
              "now, run VACUUM (FULL) in psql during a quiet period (it locks each table); "
              "see docs/OPERATIONS.md",
}


def _sqlite_only(database: Database, command: str) -> None:
    if dialect.name_of(database) == dialect.POSTGRES:
        raise InvalidArgument(f"{command} is for the SQLite file: {ON_POSTGRES[command]}")


def _backup(database: Database, args: argparse.Namespace) -> dict:
    _sqlite_only(database, "backup")
    return asdict(backup.backup(database.connection(), args.path, overwrite=args.overwrite))


def _prune(database: Database, args: argparse.Namespace) -> dict:
    if args.older_than_days <= 0:
        raise InvalidArgument("--older-than-days must be more than 0")
    cutoff = time.time() - args.older_than_days * DAY_S
    report = retention.prune_traces(database.connection(), finished_before=cutoff, outputs=args.outputs,
                                    feedback=args.feedback)
    result = asdict(report)
    durations = sorted(result.pop("transaction_ms")) or [0.0]
    result["transaction_ms_p99"] = round(durations[min(len(durations) - 1, int(len(durations) * 0.99))], 2)
    result["longest_transaction_ms"] = round(result["longest_transaction_ms"], 2)
    return result


def _vacuum(database: Database, _args: argparse.Namespace) -> dict:
    _sqlite_only(database, "vacuum")
    conn = database.connection()
    before = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect with this VACUUM; prunes then shrink it
    conn.execute("VACUUM")
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    after = conn.execute("PRAGMA page_count").fetchone()[0]
    return {"bytes_before": before * size, "bytes_after": after * size}


def _reembed_memories(database: Database, _args: argparse.Namespace) -> dict:
    from core.embedding import Embedder
    from core.settings import load_run_settings
    from store.memory_reembed import reembed

    embedder = Embedder(load_run_settings())
    try:
        return reembed(database.connection(), embedder)
    finally:
        embedder.close()


def _with_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the file to write (not an existing one, unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true")


def _with_age(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than-days", type=float, required=True,
                        help="delete the traces of runs that finished more than this many days ago")
    parser.add_argument("--outputs", action="store_true",
                        help="also delete their recipes and the evidence they cite (kept by default)")
    parser.add_argument("--feedback", action="store_true",
                        help="also delete the lab's feedback on them (kept by default)")


def _copy_to(database: Database, args: argparse.Namespace) -> dict:
    """The whole SQLite database into an empty PostgreSQL database (store/copy.py)."""
    from store.copy import copy_database

    _sqlite_only(database, "copy-to")
    report = copy_database(database.path, args.target)
    if not report.verified:
        bad = [t for t, r in report.tables.items() if not r.get("matches")]
        raise CopyNotVerified(f"the copy does not match the source in {', '.join(bad)}; the target "
                              "keeps it for inspection: drop and recreate it before copying again")
    return asdict(report)


class CopyNotVerified(ServiceError):
    code = "copy_not_verified"


def _with_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="postgresql://user:password@host:5432/database (new, empty)")


COMMANDS = {
    "copy-to": (
        _copy_to,
        "copy this SQLite database whole into a new, empty PostgreSQL database (same ids, cursors, "
        "times, vectors, deltas), in one transaction, then verify every table's rows and checksum; "
        "stop the worker first; safe to run again after a failure",
        _with_target,
    ),
    "seed-products": (
        _seed_products,
        "add the standard CO2-reduction preset (CO, CH4, C2H4, C2H6, H2, HCOOH, CH3OH, "
        "C2H5OH) and any of its products the catalogue lacks; safe to repeat",
        None,
    ),
    "backup": (
        _backup,
        "copy the live database consistently (SQLite online backup) while the service runs; "
        "restore: stop the service, put the copy in place of the database, start it",
        _with_path,
    ),
    "prune": (
        _prune,
        "delete the traces (events) of runs finished before the given age, in short "
        "transactions the service works between; recipes, evidence and feedback are kept",
        _with_age,
    ),
    "reembed-memories": (
        _reembed_memories,
        "embed again every active lab memory whose vector is missing or was made by another "
        "embedding model (after changing C2XC_EMBEDDING_MODEL/_DIM); safe to repeat",
        None,
    ),
    "vacuum": (
        _vacuum,
        "rebuild the file to its smallest size and let later prunes shrink it step by step; "
        "blocks every write while it runs: stop the service first",
        None,
    ),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="c2xc-admin", description="Maintenance of the C2XC service's database, asked for by name.")
    parser.add_argument("--db", help="SQLite file or postgresql:// URL (default: C2XC_DATABASE_URL, "
                                     f"else C2XC_SQLITE_PATH, else {DEFAULT_SQLITE_PATH})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_run, help_text, add_arguments) in COMMANDS.items():
        command = commands.add_parser(name, help=help_text, description=help_text)
        if add_arguments:
            add_arguments(command)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        database = open_database(args.db or load_database())
        migrate(database.connection())
        result = COMMANDS[args.command][0](database, args)
    except (ServiceError, *DATABASE_ERRORS) as error:
        print(f"c2xc-admin {args.command}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
