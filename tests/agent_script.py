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


def search(kb, query):
    return {"name": "kb_search", "arguments": {"kb": kb, "query": query, "top_k": 1}}


def recipe(m1, m2, ratio, modifier, rationale):
    return {"M1": m1, "M2": m2, "atomic_ratio": ratio, "small_molecule_modifier": modifier,
            "rationale": rationale}


def final(*recipes, notes="Ranked by ethylene selectivity evidence [C1]."):
    return {"content": json.dumps({"recipes": list(recipes), "overall_notes": notes})}


THREE = final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo stabilises OCCO [C1]; MBA enriches CO2 [C2]."),
              recipe("Cu", "Ag", "3:1", "trifluoroacetic acid", "Ag suppresses HER [C3]; TFA [C4]."),
              recipe("Cu", "Zn", "2:1", "4-mercaptobenzoic acid", "By analogy with [C1] and [C2]."))
RESEARCH = [
    {"tool_calls": [search("kb_principles", "copper molybdenum ethylene OCCO"),
                    search("kb_modulation", "mercaptobenzoic acid Zr6 CO2")]},
    {"tool_calls": [{"name": "note_add_candidate", "arguments": {"recipe": "Cu-Mo 1:1 + MBA",
                                                                 "reason": "[C1] [C2]"}},
                    {"name": "delegate", "arguments": {"expert": "tio2_expert",
                                                       "task": "Second metal besides Cu?"}}]},
    {"tool_calls": [search("kb_principles", "silver hydrogen evolution titania")]},  # expert
    {"content": "Ag suppresses HER [C3]."},                                          # expert done
    {"tool_calls": [search("kb_modulation", "trifluoroacetic hydrophobic interface"),
                    {"name": "kb_get", "arguments": {"alias": "C1"}}]},
]




def full_conversation() -> list[dict]:
    """Research (7 chat calls including one expert) ending with three valid recipes."""
    return RESEARCH + [THREE]
