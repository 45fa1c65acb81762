"""A realistic workload for the agent benchmarks: paper-length chunks, top_k=3 searches.

The end-to-end tests use one-sentence documents so aliases are easy to
predict; prompt sizes measured on those say nothing about real runs, where a
search returns several chunks of ~500 tokens that a naive agent resends on
every later call. These documents are ~450 tokens each (one chunk per
document at the default 512-token chunk size), written from a fixed seed so
every measurement sees the same text. The script has the shape of the
end-to-end RESEARCH conversation (searches, a note, one delegation, a re-read,
three recipes) and is valid for the agent before and after issue 15.
"""
from __future__ import annotations

import json
import random

_SUBJECTS = ["Copper-molybdenum dual sites", "Silver dopants", "Zinc-copper pairs",
             "Cobalt single atoms", "Nickel-copper alloys", "Mercaptobenzoic acid caps",
             "Trifluoroacetic acid modifiers", "Terephthalic acid linkers"]
_CLAUSES = [
    "stabilise the *OCCO dimer on the titania surface under visible light",
    "shift the d-band centre and weaken *CO binding by roughly 0.2 eV",
    "suppress the competing hydrogen evolution reaction at moderate potentials",
    "enrich CO2 near the Zr6 clusters of the ultrathin nanosheets",
    "raise the local pKa and slow proton delivery to the active sites",
    "promote charge separation between the dopant pair and the host lattice",
    "make the interface hydrophobic and keep water away from the copper sites",
    "increase the ethylene Faradaic efficiency from 21 to 38 percent in flow cells",
    "lower the activation barrier of C-C coupling in DFT calculations",
    "keep the dopants dispersed at the atomic scale after 20 hours of operation",
]


def _paper(topic: str, rng: random.Random) -> str:
    sentences = []
    while len(" ".join(sentences).split()) < 320:
        subject = rng.choice(_SUBJECTS) if sentences else topic
        sentences.append(f"{subject} {rng.choice(_CLAUSES)}, as shown by "
                         f"{rng.choice(['XPS', 'EXAFS', 'in situ DRIFTS', 'DFT', 'GC analysis'])} "
                         f"in sample {rng.randint(1, 40)}.")
    return " ".join(sentences)


def documents(seed: int = 7) -> tuple[dict[str, str], dict[str, str]]:
    rng = random.Random(seed)
    principles = {f"p{i}.md": _paper(topic, rng) for i, topic in enumerate(_SUBJECTS[:4])}
    modulation = {f"m{i}.md": _paper(topic, rng) for i, topic in enumerate(_SUBJECTS[4:])}
    return principles, modulation


def _search(kb: str, query: str, mode: str | None) -> dict:
    arguments = {"kb": kb, "query": query, "top_k": 3}
    if mode == "naive":
        arguments["mode"] = "naive"
    else:  # the default (mix): the agent gives its keywords
        arguments["keywords"] = {"low_level": query.split()[:3], "high_level": [query]}
    return {"name": "kb_search", "arguments": arguments}


def _recipe(m1, m2, ratio, name, smiles, rationale):
    return {"M1": m1, "M2": m2, "atomic_ratio": ratio, "small_molecule_modifier": name,
            "modifier_smiles": smiles, "rationale": rationale}


def conversation(mode: str | None = None) -> list[dict]:
    """7 chat calls: research, a note, one expert with its own search, a re-read, the answer.

    ``mode="naive"`` makes every search vector-only (as the release agent searched).
    """
    answer = {"recipes": [
        _recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "OC(=O)c1ccc(S)cc1",
                "Cu-Mo stabilises OCCO [C1]; the cap enriches CO2 [C4]."),
        _recipe("Cu", "Ag", "3:1", "trifluoroacetic acid", "OC(=O)C(F)(F)F",
                "Ag suppresses HER [C2]; a hydrophobic interface [C5]."),
        _recipe("Cu", "Zn", "2:1", "terephthalic acid", "OC(=O)c1ccc(cc1)C(=O)O",
                "By analogy with [C1] and [C3].")],
        "overall_notes": "Ranked by the strength of the ethylene evidence [C1]."}
    return [
        {"tool_calls": [_search("kb_principles", "copper molybdenum ethylene OCCO", mode),
                        _search("kb_modulation", "mercaptobenzoic acid Zr6 CO2", mode)]},
        {"tool_calls": [{"name": "note", "arguments": {"op": "add_candidate",
                                                       "recipe": "Cu-Mo 1:1 + MBA",
                                                       "reason": "[C1] [C4]"}},
                        {"name": "delegate", "arguments": {"expert": "tio2_expert",
                                                           "task": "Second metal besides Cu?"}}]},
        {"tool_calls": [_search("kb_principles", "silver hydrogen evolution titania", mode)]},
        {"content": "Ag suppresses HER [C2]; Zn-Cu pairs are a fallback [C3]."},
        {"tool_calls": [_search("kb_modulation", "trifluoroacetic hydrophobic interface", mode),
                        {"name": "kb_get", "arguments": {"alias": "C1"}}]},
        {"tool_calls": [{"name": "kb_list", "arguments": {}}]},
        {"content": json.dumps(answer)},
    ]


def long_conversation(rounds: int) -> list[dict]:
    """A long research session: ``rounds`` searches over both KBs, then three recipes.

    For the prompt-size curve (bench/prompt_curve.py): with the whole
    conversation resent, each call is bigger than the last; with bounded
    node context it levels off.
    """
    queries = [("kb_principles", "copper molybdenum ethylene OCCO"),
               ("kb_modulation", "mercaptobenzoic acid Zr6 CO2"),
               ("kb_principles", "silver hydrogen evolution titania"),
               ("kb_modulation", "trifluoroacetic hydrophobic interface"),
               ("kb_principles", "charge separation dopant pair"),
               ("kb_modulation", "terephthalic acid linkers CO2")]
    research = [{"tool_calls": [_search(*queries[i % len(queries)], None)]} for i in range(rounds)]
    return research + [conversation()[-1]]
