"""The worker's log: our own per-run lines at INFO, libraries' chatter only at DEBUG.

LightRAG, nano-vectordb and the HTTP clients log every query, load and
request at INFO, which buries the lines an operator reads (run claimed,
completed, failed with its code). Below ``C2XC_LOG_LEVEL=DEBUG`` they are
held to WARNING. LightRAG resets its own logger to INFO when it is first
imported, so :func:`quiet_libraries` is applied again right after that
import (``worker/kb/workspace.py``).
"""
from __future__ import annotations

import logging

CHATTY_LIBRARIES = ("lightrag", "nano-vectordb", "httpx", "httpx2", "httpcore", "openai",
                    "urllib3", "asyncio")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_library_level = logging.WARNING


def configure(level: str) -> None:
    global _library_level
    logging.basicConfig(level=level, format=FORMAT)
    _library_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    quiet_libraries()


def quiet_libraries() -> None:
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(_library_level)
