"""The documents and scripted LLM conversation shared by the agent tests and the benchmark.

Aliases are deterministic: every search asks for top_k=1 and the documents
are distinct enough that the intended chunk wins, so C1..C4 are known.
"""
import json

PRINCIPLES_DOCS = {
    "cu_mo.md": "Copper molybdenum dual sites in TiO2 stabilise OCCO and favour ethylene.",
    "ag_her.md": "Silver dopants suppress hydrogen evolution on titania surfaces.",
}
MODULATION_DOCS = {
    "mba.md": "Mercaptobenzoic acid capping Zr6 clusters of Zr-BTB enriches CO2 near the sites.",
    "tfa.md": "Trifluoroacetic acid modifiers make the MOF interface hydrophobic.",
}
KB_DOIS = {"cu_mo.md": "10.1000/cumo.001", "mba.md": "10.1000/mba.002"}


def search(kb, query, mode=None):
    """A kb_search call; in the graph modes the agent gives its keywords (no extra LLM call)."""
    arguments = {"kb": kb, "query": query, "top_k": 1}
    if mode:
        arguments["mode"] = mode
    if mode != "naive":
        arguments["keywords"] = {"low_level": query.split()[:3], "high_level": [query]}
    return {"name": "kb_search", "arguments": arguments}


MODIFIER_SMILES = {
    "4-mercaptobenzoic acid": "OC(=O)c1ccc(S)cc1",
    "trifluoroacetic acid": "OC(=O)C(F)(F)F",
    "ethanol": "CCO",
}
BTB_LINKER = "OC(=O)c1ccc(cc1)-c1cc(cc(c1)-c1ccc(cc1)C(O)=O)-c1ccc(cc1)C(O)=O"


def recipe(m1, m2, ratio, modifier, rationale, smiles=None):
    return {"M1": m1, "M2": m2, "atomic_ratio": ratio, "small_molecule_modifier": modifier,
            "modifier_smiles": smiles or MODIFIER_SMILES[modifier], "rationale": rationale}


def final(*recipes, notes="Ranked by ethylene selectivity evidence [C1]."):
    return {"content": json.dumps({"recipes": list(recipes), "overall_notes": notes})}


THREE = final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo stabilises OCCO [C1]; MBA enriches CO2 [C2]."),
              recipe("Cu", "Ag", "3:1", "trifluoroacetic acid", "Ag suppresses HER [C3]; TFA [C4]."),
              recipe("Cu", "Zn", "2:1", "4-mercaptobenzoic acid", "By analogy with [C1] and [C2]."))
RESEARCH = [
    {"tool_calls": [search("kb_principles", "copper molybdenum ethylene OCCO"),
                    search("kb_modulation", "mercaptobenzoic acid Zr6 CO2")]},
    {"tool_calls": [{"name": "note", "arguments": {"op": "add_candidate", "recipe": "Cu-Mo 1:1 + MBA",
                                                                 "reason": "[C1] [C2]"}},
                    {"name": "delegate", "arguments": {"expert": "tio2_expert",
                                                       "task": "Second metal besides Cu?"}}]},
    {"tool_calls": [search("kb_principles", "silver hydrogen evolution titania")]},  # expert
    {"content": "Ag suppresses HER [C3]."},                                          # expert done
    {"tool_calls": [search("kb_modulation", "trifluoroacetic hydrophobic interface"),
                    {"name": "kb_get", "arguments": {"alias": "C1"}}]},
]


# Answers real models give that the program must catch: name -> (bad recipe, what the error says).
# After RESEARCH[:1] (C1, C2 retrieved) the repaired answer is ONE_RECIPE.
ONE_RECIPE = final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo [C1]."))
MISBEHAVIOURS = {
    "grouped citation with an unretrieved alias":
        (recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "raises *CO coverage [C1, C61]"),
         "[C61] was never retrieved"),
    "ranged citation with an unretrieved alias":
        (recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "see [C1–C3]"),
         "[C3] was never retrieved"),
    "linker under its systematic name":
        (recipe("Cu", "Mo", "1:1", "1,3,5-tris(4-carboxyphenyl)benzene", "Cu-Mo [C1].",
                smiles=BTB_LINKER), "BTB linker itself"),
    "linker under its trivial name":
        (recipe("Cu", "Mo", "1:1", "H3BTB", "Cu-Mo [C1].", smiles=BTB_LINKER), "BTB linker itself"),
    "linker given only as SMILES":
        (recipe("Cu", "Mo", "1:1", BTB_LINKER, "Cu-Mo [C1].", smiles=BTB_LINKER),
         "BTB linker itself"),
    "a sulfonic acid":
        (recipe("Cu", "Mo", "1:1", "benzenesulfonic acid", "Cu-Mo [C1].",
                smiles="OS(=O)(=O)c1ccccc1"), "sulfonic acid"),
    "a phosphonic acid":
        (recipe("Cu", "Mo", "1:1", "phenylphosphonic acid", "Cu-Mo [C1].",
                smiles="OP(=O)(O)c1ccccc1"), "phosphonic"),
    "a boronic acid":
        (recipe("Cu", "Mo", "1:1", "phenylboronic acid", "Cu-Mo [C1].", smiles="OB(O)c1ccccc1"),
         "boronic acid"),
    "a SMILES that does not parse":
        (recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo [C1].", smiles="OC(=O)c1ccc(S"),
         "does not parse"),
    "a name that contradicts its SMILES":
        (recipe("Cu", "Mo", "1:1", "acetic acid", "Cu-Mo [C1].", smiles="OC(=O)c1ccc(S)cc1"),
         "does not match modifier_smiles"),
    "the same metal twice":
        (recipe("Cu", "Cu", "1:1", "4-mercaptobenzoic acid", "Cu [C1]."), "two different metals"),
    "an element that is not a metal":
        (recipe("Cu", "Se", "1:1", "4-mercaptobenzoic acid", "Cu-Se [C1]."), "Se is not a metal"),
}


def full_conversation() -> list[dict]:
    """Research (7 chat calls including one expert) ending with three valid recipes."""
    return RESEARCH + [THREE]
