"""Names in the lab's catalogue (products, presets): how they are shown, and when two are one.

"C2H4", "c2h4 ", "Ｃ２Ｈ４" (full width), "C2H4" followed by a no-break space,
or with a zero-width space inside, are one product to a chemist and must be
one column in the export. Python's ``strip()``, SQLite's ``trim()`` and
``lower()`` each see only part of that (SQLite's only ASCII), so the
comparison key is computed here, once, and stored:

* :func:`name_key` — Unicode NFKC (compatibility forms: full width, ligatures,
  no-break spaces), invisible characters removed (format characters such as
  zero-width spaces and joiners, soft hyphens, other default-ignorable code
  points), full case folding ("Äthylen" = "äthylen", "Straße" = "STRASSE"),
  NFKC again, every run of Unicode white space collapsed to one space and
  trimmed;
* :func:`display_name` — what is stored and shown: the name as written, with
  invisible characters removed and white space trimmed and collapsed.

A name whose display form is empty is blank.
"""
from __future__ import annotations

import unicodedata

# Default-ignorable code points that are not format characters (category Cf):
# combining grapheme joiner, Hangul fillers, variation selectors, Mongolian FVS.
_IGNORABLE_RANGES = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
                     (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF))


def _invisible(ch: str) -> bool:
    if unicodedata.category(ch) == "Cf":
        return True
    code = ord(ch)
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def _visible(text: str) -> str:
    return "".join(ch for ch in text if not _invisible(ch))


def display_name(text: str) -> str:
    return " ".join(_visible(unicodedata.normalize("NFC", text)).split())


def name_key(text: str) -> str:
    folded = _visible(unicodedata.normalize("NFKC", text)).casefold()
    return " ".join(_visible(unicodedata.normalize("NFKC", folded)).split())
