"""The recipe key (SPEC 14): one recipe, one key, however it is written; different recipes stay apart."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.recipe_key import MAX_RATIO_PART, RecipeKeyError, key_or_none, recipe_key, reduced_ratio

BENZOIC = "OC(=O)c1ccccc1"
METALS = ["Cu", "Mo", "Ni", "Fe", "Co", "Zn", "Ag", "Bi", "Ce", "La"]
parts = st.integers(min_value=1, max_value=60)
metal_pairs = st.lists(st.sampled_from(METALS), min_size=2, max_size=2, unique=True)


@given(metal_pairs, parts, parts)
def test_the_pair_is_unordered_and_the_ratio_turns_with_it(pair, a, b):
    first, second = pair
    assert recipe_key(first, second, f"{a}:{b}", BENZOIC) == recipe_key(second, first, f"{b}:{a}", BENZOIC)


@given(metal_pairs, parts, parts)
def test_a_ratio_and_its_reverse_are_different_compositions_unless_equal(pair, a, b):
    one = recipe_key(pair[0], pair[1], f"{a}:{b}", BENZOIC)
    other = recipe_key(pair[0], pair[1], f"{b}:{a}", BENZOIC)
    assert (one == other) == (a == b)


@given(parts, parts, st.integers(min_value=2, max_value=12))
def test_multiples_reduce_to_the_same_key(a, b, factor):
    assert recipe_key("Cu", "Mo", f"{a}:{b}", BENZOIC) == recipe_key("Cu", "Mo", f"{a * factor}:{b * factor}", BENZOIC)


@given(parts, parts, st.sampled_from([" {a} : {b} ", "{a}.0:{b}", "{a}：{b}", "{a}:{b}.00", "\t{a}:{b}\n"]))
def test_white_space_decimal_forms_and_a_full_width_colon_are_the_same_ratio(a, b, form):
    assert reduced_ratio(form.format(a=a, b=b)) == reduced_ratio(f"{a}:{b}")


@given(parts, parts)
def test_decimal_shares_reduce_like_whole_numbers(a, b):
    total = Decimal(a + b)
    shares = f"{Decimal(a) / total:.30f}:{Decimal(b) / total:.30f}"
    assert reduced_ratio(shares) == reduced_ratio(f"{a}:{b}")


@settings(max_examples=30)
@given(st.sampled_from([
    ("OC(=O)c1ccccc1", "c1ccccc1C(O)=O", "O=C(O)c1ccccc1", "C1=CC=CC=C1C(=O)O"),    # benzoic acid
    ("OC(=O)CC(O)(CC(O)=O)C(O)=O", "C(C(=O)O)C(CC(=O)O)(C(=O)O)O"),                   # citric acid
    ("Oc1ccc(cc1)C(O)=O", "OC(=O)c1ccc(O)cc1"),                                       # 4-hydroxybenzoic
]), st.data())
def test_smiles_written_different_ways_are_one_modifier(spellings, data):
    one, other = data.draw(st.sampled_from(spellings)), data.draw(st.sampled_from(spellings))
    assert recipe_key("Cu", "Mo", "1:1", one) == recipe_key("Cu", "Mo", "1:1", other)


def test_examples_from_the_spec():
    key = recipe_key("Cu", "Mo", "1:3", BENZOIC)
    assert str(key) == "Cu1Mo3|O=C(O)c1ccccc1" and key.metal_pair == "Cu-Mo" and key.share_a == 0.25
    assert recipe_key("Mo", "Cu", "3:1", BENZOIC) == key
    assert recipe_key("Mo", "Cu", "1:3", BENZOIC) != key           # a different composition
    assert recipe_key("Cu", "Mo", "3:1", BENZOIC) != key
    assert recipe_key("Cu", "Mo", "2:2", BENZOIC) == recipe_key("Cu", "Mo", "1 : 1.0", BENZOIC)
    assert recipe_key("Cu", "Mo", "0.25:0.75", BENZOIC) == key
    assert reduced_ratio("0.33:0.67") == (33, 67)                   # a decimal is taken as written
    assert recipe_key("Cu", "Mo", "1:3", "OC(=O)CC(=O)O") != key    # another modifier


def test_the_tolerance_only_absorbs_noise_below_one_part_in_a_thousand():
    assert reduced_ratio("1:2.9999999") == (1, 3)
    assert reduced_ratio("3:97") == (3, 97)
    a, b = reduced_ratio("0.0001:999")
    assert a >= 1 and b <= MAX_RATIO_PART


@pytest.mark.parametrize("m1, m2, ratio, smiles, says", [
    ("Cu", "Cu", "1:1", BENZOIC, "two different metals"),
    ("Xx", "Mo", "1:1", BENZOIC, "not an element"),
    ("Cu", "Ar", "1:1", BENZOIC, "noble gas"),
    ("Cu", "Mo", "0:1", BENZOIC, "positive"),
    ("Cu", "Mo", "1-1", BENZOIC, "not a ratio"),
    ("Cu", "Mo", "1:1", "C(=O", "does not parse"),
    (None, "Mo", "1:1", BENZOIC, "M1"),
])
def test_a_recipe_without_a_key_says_why(m1, m2, ratio, smiles, says):
    with pytest.raises(RecipeKeyError, match=says):
        recipe_key(m1, m2, ratio, smiles)
    assert key_or_none({"M1": m1, "M2": m2, "atomic_ratio": ratio, "modifier_smiles": smiles}) is None
