"""The program's check of a final answer: chemistry from the structure, citations that resolve."""
import copy

import pytest

from core.chemistry.names import NOT_PARSED, NameCheck, check_name
from worker.recipe_validation import check_answer

KNOWN = {"C1": "kb:kb_principles__chunk-a", "C2": "kb:kb_modulation__chunk-b"}
GOOD = {"recipes": [{"M1": "Cu", "M2": "Mo", "atomic_ratio": "1:1",
                     "small_molecule_modifier": "4-mercaptobenzoic acid",
                     "modifier_smiles": "OC(=O)c1ccc(S)cc1",
                     "rationale": "Cu-Mo pairs favour *CO dimerisation [C1] [C2]."}],
        "overall_notes": "Only one candidate."}
BTB = "OC(=O)c1ccc(cc1)-c1cc(cc(c1)-c1ccc(cc1)C(O)=O)-c1ccc(cc1)C(O)=O"


def _check(mutate=None, n=1, answer=None):
    answer = copy.deepcopy(answer or GOOD)
    if mutate:
        mutate(answer["recipes"][0])
    return check_answer(answer, recipes_per_run=n, known_aliases=KNOWN)


def _set(**fields):
    return lambda recipe: recipe.update(fields)


def test_a_valid_answer_is_stored_with_the_facts_that_were_checked():
    checked = _check()
    assert checked.errors == []
    recipe = checked.recipes_json["recipes"][0]
    assert recipe["rank"] == 1 and recipe["rationale"].endswith("[C1] [C2].")
    facts = recipe["modifier_structure"]
    assert (facts["formula"], facts["carboxylic_acid_groups"]) == ("C7H6O2S", 1)
    assert facts["inchikey"] == "LMJXSOYPAOSIPZ-UHFFFAOYSA-N" and facts["molecular_weight"] == 154.19
    assert facts["name_check"] == "verified"
    assert checked.citations == KNOWN


def test_wrong_number_of_recipes():
    assert any("exactly 2" in e for e in _check(n=2).errors)


@pytest.mark.parametrize("fields, fragment", [
    ({"M1": "C"}, "C is not a metal"),
    ({"M1": "Xx"}, "not an element symbol"),
    ({"M1": "Ar"}, "noble gas"),
    ({"M1": "U"}, "radioactive"),
    ({"M2": "Tc"}, "radioactive"),
    ({"M2": "Ti"}, "host"),
    ({"M2": "Cu"}, "two different metals"),
    ({"atomic_ratio": "one to one"}, "not a ratio"),
    ({"atomic_ratio": "0:1"}, "not a ratio"),
    ({"atomic_ratio": "-1:2"}, "not a ratio"),
    ({"small_molecule_modifier": "ethanol", "modifier_smiles": "CCO"}, "no carboxylic acid"),
    ({"small_molecule_modifier": "benzenesulfonic acid", "modifier_smiles": "OS(=O)(=O)c1ccccc1"},
     "sulfonic acid"),
    ({"small_molecule_modifier": "phenylphosphonic acid", "modifier_smiles": "OP(=O)(O)c1ccccc1"},
     "phosphonic"),
    ({"small_molecule_modifier": "phenylboronic acid", "modifier_smiles": "OB(O)c1ccccc1"},
     "boronic acid"),
    ({"modifier_smiles": "C1CC(=O"}, "does not parse"),
    ({"modifier_smiles": ""}, "modifier_smiles: required"),
    ({"small_molecule_modifier": "stearic acid", "modifier_smiles": "C" * 45 + "(=O)O"},
     "not a small molecule"),
    ({"rationale": "No evidence at all."}, "cites no evidence"),
    ({"rationale": "Unknown chunk [C9]."}, "[C9] was never retrieved"),
    ({"rationale": "Grouped [C1, C61]."}, "[C61] was never retrieved"),
    ({"rationale": "Ranged [C1–C3]."}, "[C3] was never retrieved"),
    ({"rationale": "Mixed [C1, Fig. 2]."}, "mixes an alias with other text"),
])
def test_each_rule_names_the_offending_field(fields, fragment):
    errors = _check(_set(**fields)).errors
    assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize("name, smiles", [
    ("1,3,5-tris(4-carboxyphenyl)benzene", BTB),                       # systematic name
    ("H3BTB", BTB),                                                    # trivial name
    ("BTB trianion", BTB.replace("C(O)=O", "C([O-])=O").replace("OC(=O)", "[O-]C(=O)")),
    ("a harmless-sounding name", BTB),
])
def test_the_btb_linker_is_refused_under_any_name_or_protonation_state(name, smiles):
    errors = _check(_set(small_molecule_modifier=name, modifier_smiles=smiles)).errors
    assert any("BTB linker itself" in e for e in errors), errors


def test_a_name_that_contradicts_its_structure_is_sent_back():
    errors = _check(_set(small_molecule_modifier="benzoic acid")).errors
    assert any("does not match modifier_smiles" in e for e in errors), errors


def test_a_trade_name_is_accepted_from_its_structure_and_marked_not_verified():
    checked = _check(_set(small_molecule_modifier="MercaptoCap-X"))
    assert checked.errors == []
    facts = checked.recipes_json["recipes"][0]["modifier_structure"]
    assert facts["name_check"] == NOT_PARSED and "not verified" in facts["name_check_note"]


def test_a_carboxylate_salt_counts_as_a_carboxylic_acid():
    checked = _check(_set(small_molecule_modifier="sodium acetate", modifier_smiles="CC(=O)[O-].[Na+]"))
    assert checked.errors == [] and checked.recipes_json["recipes"][0]["modifier_structure"][
        "name_check"] == "verified"


def test_name_checks_run_offline_through_opsin():
    assert check_name("glycine", "NCC(=O)O").verified
    assert check_name("terephthalic acid", "OC(=O)c1ccc(cc1)C(=O)O").verified
    assert check_name("acetic acid", "OC(=O)c1ccccc1").status == "mismatch"


def test_when_opsin_is_unavailable_names_are_reported_unverified_not_guessed():
    outage = lambda name, smiles: NameCheck("unavailable", None, "name not verified: no Java")
    checked = check_answer(copy.deepcopy(GOOD), recipes_per_run=1, known_aliases=KNOWN,
                           check_names=outage)
    assert checked.errors == []
    assert checked.recipes_json["recipes"][0]["modifier_structure"]["name_check"] == "unavailable"


def test_overall_notes_citations_are_checked_and_mapped_too():
    answer = copy.deepcopy(GOOD)
    answer["overall_notes"] = "Ranked by [C2] and 【C5】."
    assert any("overall_notes: [C5] was never retrieved" in e for e in _check(answer=answer).errors)


def test_a_metal_written_as_a_memory_alias_is_told_what_m_aliases_mean():
    """Issue 30 item 8: [M1] is a memory alias; a rationale writing the first metal as [M1] gets a
    repair that says so (and names the memories shown), not a bare 'never shown' loop."""
    from worker.agent.prompts import expert_repair_prompt, repair_prompt
    errors = _check(_set(rationale="[M1] and [M2] favour C-C coupling [C1].")).errors
    assert any("[M1] was never shown to you" in e and "not a metal" in e and "element symbol" in e
               for e in errors)
    for render in (repair_prompt, expert_repair_prompt):
        text = render(errors, ["C1", "C2"], ["M1"])
        assert "Chunks retrieved in this run: [C1], [C2]" in text
        assert "Lab memories shown to you in this run: [M1]" in text and "never [M1]" in text


@pytest.mark.parametrize("role", ["orchestrator", "tio2_expert", "mof_expert"])
def test_the_prompts_never_invite_writing_a_metal_as_m1(role):
    from core.prompts import template
    from worker.agent.prompts import role_prompt
    text = role_prompt(role, **_prompt_values(role))
    assert "M1M2" not in text and "metals M1 and M2" not in text and "metals, M1 and M2" not in text
    assert "never as [M1], which is a lab-memory alias" in text
    assert "never a metal" in template("memory_block")


def _prompt_values(role: str) -> dict:
    """Whatever placeholders the role's template has, filled with their own names."""
    import string

    from core.prompts import template
    return {name: name for _, name, _, _ in string.Formatter().parse(template(role)) if name and name != "domain"}
