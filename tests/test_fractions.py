"""The fraction rules of lab feedback: values over their sum, or all 0 when the sum is 0."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fractions import fractions, value_sum


def test_fractions_are_each_value_over_the_sum():
    assert fractions([1.0, 3.0]) == ([0.25, 0.75], False)


def test_a_single_product_is_the_whole():
    assert fractions([42.0]) == ([1.0], False)


def test_values_summing_to_zero_give_all_zeros_and_say_so():
    assert fractions([0.0, 0.0, 0.0]) == ([0.0, 0.0, 0.0], True)
    assert fractions([]) == ([], True)


def test_very_large_values_do_not_overflow():
    parts, all_zero = fractions([1e308, 1e308, 1e308])
    assert not all_zero and all(math.isclose(p, 1 / 3) for p in parts)
    assert value_sum([1e308, 1e308]) == 1.7976931348623157e308


def test_very_small_values_keep_their_proportions():
    parts, _ = fractions([1e-300, 3e-300, 5e-324])
    assert math.isclose(parts[0], 0.25, rel_tol=1e-9) and math.isclose(parts[1], 0.75, rel_tol=1e-9)
    assert 0 <= parts[2] < 1e-15


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), float("-inf"), True, "1"])
def test_negative_and_non_finite_values_are_refused(bad):
    with pytest.raises(ValueError):
        fractions([1.0, bad])


finite_amounts = st.floats(min_value=0, max_value=1.7976931348623157e308, allow_nan=False,
                           allow_infinity=False)


@settings(max_examples=500)
@given(st.lists(finite_amounts, max_size=12))
def test_fractions_always_sum_to_one_or_are_all_zero(values):
    parts, all_zero = fractions(values)
    assert len(parts) == len(values) and all(0 <= p <= 1 for p in parts)
    if all_zero:
        assert parts == [0.0] * len(values) and not any(values)
    else:
        assert math.isclose(math.fsum(parts), 1.0, rel_tol=1e-9)
