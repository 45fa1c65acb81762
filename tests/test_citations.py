"""Citations cannot dangle: every alias in any bracket form is read, checked and stored normalised."""
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from worker.citations import read_citations, stored_aliases
from worker.recipe_validation import check_answer

KNOWN = {f"C{n}": f"kb:kb_principles__chunk-{n}" for n in range(1, 9)}
RECIPE = {"M1": "Cu", "M2": "Mo", "atomic_ratio": "1:1",
          "small_molecule_modifier": "glycine", "modifier_smiles": "NCC(=O)O"}


def test_every_bracket_form_is_read_and_normalised():
    read = read_citations("a [C3, C7] b [C3][c7] c [C3–C5] d 【C2】 e ［c9］ f [C1 to C2]", "x")
    assert read.text == "a [C3][C7] b [C3][C7] c [C3][C4][C5] d [C2] e [C9] f [C1][C2]"
    assert read.aliases == ["C3", "C7", "C4", "C5", "C2", "C9", "C1"] and read.problems == []


def test_bracketed_chemistry_is_not_mistaken_for_a_citation():
    read = read_citations("the [Zr6O4(OH)4] node and [Cu(NH3)4]2+ ions", "x")
    assert read.aliases == [] and read.problems == [] and read.text.startswith("the [Zr6O4(OH)4]")


def test_the_reported_example_of_a_dangling_group_is_caught():
    answer = {"recipes": [{**RECIPE, "rationale": "... raises *CO coverage [C5, C61]"}],
              "overall_notes": "one [C5]"}
    checked = check_answer(answer, recipes_per_run=1, known_aliases=KNOWN)
    assert checked.errors == ["recipes[0].rationale: [C61] was never retrieved in this run"]


_ALIAS = st.integers(1, 70).map(lambda n: f"C{n}")
_CASE = st.sampled_from([str, str.lower])
_OPEN_CLOSE = st.sampled_from([("[", "]"), ("［", "］"), ("【", "】"), ("〔", "〕")])


@st.composite
def citation_group(draw):
    opening, closing = draw(_OPEN_CLOSE)
    kind = draw(st.sampled_from(["single", "list", "range", "mixed"]))
    case = draw(_CASE)
    if kind == "single":
        inner = case(draw(_ALIAS))
    elif kind == "list":
        separator = draw(st.sampled_from([", ", ",", "; ", "，", " and ", " "]))
        inner = separator.join(case(a) for a in draw(st.lists(_ALIAS, min_size=2, max_size=4)))
    elif kind == "range":
        first = draw(st.integers(1, 60))
        dash = draw(st.sampled_from(["-", "–", "—", " – ", "~", " to "]))
        inner = f"{case('C' + str(first))}{dash}{case('C' + str(first + draw(st.integers(0, 6))))}"
    else:
        inner = f"{draw(_ALIAS)}, {draw(st.sampled_from(['Fig. 2', 'see text', 'products']))}"
    return f"{opening}{inner}{closing}"


_PROSE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="[]［］【】〔〕"),
                 max_size=30)
rationales = st.lists(st.one_of(_PROSE, citation_group()), min_size=1, max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(rationale=rationales, notes=rationales)
def test_no_stored_output_can_contain_an_alias_missing_from_citations(rationale, notes):
    answer = {"recipes": [{**RECIPE, "rationale": rationale}], "overall_notes": notes}
    checked = check_answer(answer, recipes_per_run=1, known_aliases=KNOWN)
    if checked.errors:
        return  # the answer goes back for repair; nothing is stored
    stored = [checked.recipes_json["recipes"][0]["rationale"], checked.recipes_json["overall_notes"]]
    for text in stored:
        # whatever a reader of the stored text takes for a citation resolves
        assert set(stored_aliases(text)) <= set(checked.citations)
        assert set(read_citations(text, "stored").aliases) <= set(checked.citations)
        for group in re.findall(r"[\[［【〔]([^\]］】〕]*)[\]］】〕]", text):
            for alias in re.findall(r"(?<![A-Za-z0-9])[Cc](\d+)(?![A-Za-z0-9])", group):
                assert f"C{alias}" in checked.citations
    assert set(checked.citations) <= set(KNOWN)
    assert all(checked.citations[a] == KNOWN[a] for a in checked.citations)
