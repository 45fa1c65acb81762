import copy

import pytest

from worker.recipe_validation import carries_carboxylic_acid, validate_output

KNOWN = {"C1": "kb:kb_principles__chunk-a", "C2": "kb:kb_modulation__chunk-b"}
GOOD = {"recipes": [{"M1": "Cu", "M2": "Mo", "atomic_ratio": "1:1",
                     "small_molecule_modifier": "4-mercaptobenzoic acid",
                     "rationale": "Cu-Mo pairs favour *CO dimerisation [C1] [C2]."}],
        "overall_notes": "Only one candidate."}
CITATIONS = dict(KNOWN)


def _errors(mutate=None, citations=None, n=1):
    recipes = copy.deepcopy(GOOD)
    if mutate:
        mutate(recipes["recipes"][0])
    return validate_output(recipes, CITATIONS if citations is None else citations,
                           recipes_per_run=n, known_aliases=KNOWN)


def test_a_valid_answer_has_no_errors():
    assert _errors() == []


def test_wrong_number_of_recipes():
    assert any("exactly 2" in e for e in _errors(n=2))


@pytest.mark.parametrize("field, value, fragment", [
    ("M1", "C", "not a metal element"),
    ("M1", "Xx", "not a metal element"),
    ("M2", "Ti", "TiO2 host"),
    ("M2", "Cu", "two different metals"),
    ("atomic_ratio", "one to one", "not a ratio"),
    ("small_molecule_modifier", "ethanol", "carboxylic acid"),
    ("small_molecule_modifier", "benzenesulfonic acid", "carboxylic acid"),
    ("small_molecule_modifier", "H3BTB", "BTB linker is fixed"),
    ("rationale", "No evidence at all.", "cites no evidence"),
    ("rationale", "Unknown chunk [C9].", "[C9] was never retrieved"),
])
def test_each_rule_names_the_offending_field(field, value, fragment):
    errors = _errors(lambda r: r.__setitem__(field, value))
    assert any(fragment in e for e in errors), errors


def test_citation_mapping_must_match_the_evidence_registry():
    errors = _errors(citations={"C1": "kb:kb_principles__chunk-WRONG", "C2": KNOWN["C2"]})
    assert any("[C1] must map to" in e for e in errors)


def test_citations_naming_unretrieved_aliases_are_rejected():
    errors = _errors(citations={**KNOWN, "C7": "kb:x__y"})
    assert any("[C7] was never retrieved" in e for e in errors)


@pytest.mark.parametrize("name", ["acetic acid", "trifluoroacetic acid", "4-aminobenzoic acid",
                                  "HOOC-C6H4-NH2", "glycine", "terephthalic acid", "C6H5COOH"])
def test_carboxylic_acids_are_recognised(name):
    assert carries_carboxylic_acid(name)


@pytest.mark.parametrize("name", ["ethanol", "pyridine", "phosphoric acid", "thiophenol"])
def test_non_carboxylic_molecules_are_not(name):
    assert not carries_carboxylic_acid(name)
