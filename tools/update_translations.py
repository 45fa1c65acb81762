"""Refresh the web interface's message catalogues after changing an interface string.

    .venv/bin/python tools/update_translations.py

Extracts every string of ``api/web`` (templates, ``_l`` calls) into
``api/web/messages.pot``, merges it into each language's ``messages.po``
(new messages arrive untranslated and marked; translate them there), and
compiles ``messages.mo``. ``tests/test_web_i18n.py`` fails while any message
lacks a Chinese translation. ``make setup-run`` compiles the catalogues too.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "api" / "web" / "messages.pot"
TRANSLATIONS = REPO / "api" / "web" / "translations"


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=REPO, check=True)


def main() -> None:
    run("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
        "-o", str(TEMPLATE), ".")
    run("update", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "--no-fuzzy-matching")
    run("compile", "-d", str(TRANSLATIONS))


if __name__ == "__main__":
    main()
