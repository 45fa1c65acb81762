"""c2xc-worker (python -m worker): the worker process, its options and its signals.

SIGTERM or SIGINT asks the worker to stop: it claims nothing more, the
current run stops at its next interruption point and is recorded honestly
(``failed`` with ``worker_shutdown``), and the process exits 0. A second
signal exits at once (the run is then reconciled by the next worker start).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from dataclasses import replace

from core.errors import ConfigError, ServiceError
from core.settings import load_log_level, load_run_settings, load_worker_settings
from store.db import open_database
from worker import logs
from worker.loop import Worker
from worker.metrics_server import start_metrics_server

log = logging.getLogger("c2xc.worker")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="c2xc-worker", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true",
                        help="process at most one run, then exit 0 (also when the queue is empty)")
    parser.add_argument("--db", help="SQLite path or postgresql:// URL (default: $C2XC_DATABASE_URL, "
                        "else $C2XC_SQLITE_PATH or data/app.db)")
    parser.add_argument("--poll-interval", type=float,
                        help="seconds between polls of an empty queue (default: $C2XC_WORKER_POLL_S or 0.5)")
    return parser.parse_args(argv)


def install_signal_handlers(worker: Worker) -> None:
    def handle(signum, _frame):
        if worker.stop_event.is_set():
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            os._exit(128 + signum)
        log.info("%s: finishing the current step, then stopping", signal.Signals(signum).name)
        worker.stop_event.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        level = load_log_level()
        settings = load_worker_settings()
        run_settings = load_run_settings()
    except ConfigError as exc:
        print(f"c2xc-worker: configuration error: {exc.message}", file=sys.stderr)
        return 2
    logs.configure(level)
    if args.db:
        settings = replace(settings, database=args.db)
    if args.poll_interval is not None:
        if args.poll_interval <= 0:
            print("c2xc-worker: --poll-interval must be positive", file=sys.stderr)
            return 2
        settings = replace(settings, poll_interval_s=args.poll_interval,
                           max_idle_poll_s=max(args.poll_interval, settings.max_idle_poll_s))
    try:
        start_metrics_server()
    except ConfigError as exc:
        print(f"c2xc-worker: configuration error: {exc.message}", file=sys.stderr)
        return 2
    worker = Worker(open_database(settings.database), settings, run_settings)
    install_signal_handlers(worker)
    try:
        worker.start()
    except ServiceError as exc:
        print(f"c2xc-worker: cannot start: {exc.message}", file=sys.stderr)
        return 1
    try:
        if args.once:
            worker.run_once()
        else:
            worker.run_forever()
    finally:
        worker.shutdown()
    return 0
