"""The one way a request body becomes data: strict JSON, or a 400 that says what was wrong.

Python's ``json`` module accepts text that our store cannot keep or our code
cannot walk: nesting deep enough to exhaust the stack (a ``RecursionError``
while decoding, or later while validating or storing), lone UTF-16
surrogates (``"\\ud800"`` decodes to a ``str`` that cannot be encoded as
UTF-8, so the database write fails), ``NaN``/``Infinity`` literals and
numbers such as ``1e400`` that overflow to infinity, and duplicate keys
(the last one silently wins). Every body the API reads goes through
:func:`decode` (wired into the argument parser in ``api/blueprint.py``), so
each of these is a ``400 invalid_argument`` naming the problem, never a 500
and never a half-stored row.
"""
from __future__ import annotations

import json
import math
from typing import Any

from core.errors import InvalidArgument

MAX_DEPTH = 32  # our bodies are two or three levels deep; ``extra`` leaves room, not a stack


class BodyRejected(InvalidArgument):
    """A body that is not strict JSON; ``details.reason`` says which rule it broke."""

    def __init__(self, reason: str, message: str, **details: Any):
        super().__init__(f"the request body is not acceptable JSON: {message}",
                         {"reason": reason, **details})


def _too_deep() -> BodyRejected:
    return BodyRejected("too_deep", f"objects and arrays nest deeper than {MAX_DEPTH} levels",
                        max_depth=MAX_DEPTH)


def _refuse_constant(name: str) -> float:
    raise BodyRejected("non_finite_number", f"{name} is not a JSON number", literal=name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyRejected("non_finite_number", f"the number {text[:40]} is too large for a double",
                           literal=text[:40])
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BodyRejected("duplicate_key", f"the key {key[:40]!r} appears twice in one object",
                               key=key[:40].encode("utf-8", "replace").decode("utf-8"))
        result[key] = value
    return result


def _check_tree(value: Any) -> None:
    """Depth and storable text, walked without recursion (the input may be hostile)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            for key, child in node.items():
                _check_text(key)
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in node)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise BodyRejected("unpaired_surrogate",
                           f"a string holds an unpaired UTF-16 surrogate (\\u{ord(text[error.start]):04x}), "
                           "which is not text", position=error.start) from None


def decode(raw: bytes) -> Any:
    """The body as data, or :class:`BodyRejected`."""
    if not raw.strip():
        raise BodyRejected("empty", "the body is empty; send a JSON object (or no Content-Type)")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise BodyRejected("byte_order_mark", "the body starts with a byte order mark; send plain UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyRejected("invalid_utf8", f"byte {error.start} is not valid UTF-8",
                           position=error.start) from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                           object_pairs_hook=_unique_keys)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as error:
        raise BodyRejected("syntax", f"{error.msg} at line {error.lineno} column {error.colno}",
                           position=error.pos) from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits())
        raise BodyRejected("number", "a number has more digits than any field accepts") from None
    _check_tree(value)
    return value
