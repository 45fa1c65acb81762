"""A command with verbs (``c2xc memory list``, ``c2xc plan make``): one way to build them."""
from __future__ import annotations

import argparse
from typing import Callable


def command_group(commands, name: str, help_text: str, description: str, dest: str,
                  common: argparse.ArgumentParser) -> Callable[..., argparse.ArgumentParser]:
    """Add ``name`` to the top-level ``commands``; the returned ``verb(name, function, help)`` adds
    one of its verbs, each taking the ``common`` options (``--json``)."""
    group = commands.add_parser(name, help=help_text, description=description)
    verbs = group.add_subparsers(dest=dest, required=True, metavar="VERB")

    def verb(verb_name: str, function: Callable, verb_help: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(verb_name, parents=[common], help=verb_help, description=verb_help)
        sub.set_defaults(function=function)
        return sub
    return verb
