"""Product fractions of a lab result: value_i / sum(values), or all 0 when the sum is 0.

Values are measured amounts (e.g. µmol of CO, CH4, C2H4): finite and at
least 0. Dividing by the largest value first keeps the arithmetic finite
for any finite input — 1e308 + 1e308 would overflow to infinity and turn
every fraction into NaN — and keeps tiny values (1e-300) from vanishing
against each other. The result always sums to 1 (within rounding) or is all
zeros, and says which.
"""
from __future__ import annotations

import math

MAX_FLOAT = 1.7976931348623157e308


def fractions(values: list[float]) -> tuple[list[float], bool]:
    """(fraction per value, all_zero). ValueError for a negative or non-finite value."""
    for value in values:
        if not isinstance(value, (int, float)) or isinstance(value, bool) \
                or not math.isfinite(value) or value < 0:
            raise ValueError(f"{value!r} is not a finite number ≥ 0")
    largest = max(values, default=0.0)
    if largest == 0:
        return [0.0] * len(values), True
    scaled = [value / largest for value in values]
    total = math.fsum(scaled)
    return [min(1.0, part / total) for part in scaled], False


def value_sum(values: list[float]) -> float:
    """The plain sum, capped at the largest float (stored for display, never divided by)."""
    try:
        total = math.fsum(values)
    except OverflowError:
        return MAX_FLOAT
    return total if math.isfinite(total) else MAX_FLOAT
