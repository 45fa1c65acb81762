"""What a measured or failed experiment says, as a ``lab_result`` memory: numbers, no LLM.

A chemist reading it — or a model shown it — needs what the lab needs to
compare results (SPEC 12, round 2): the recipe, whether it worked, the
products with the amounts recorded *and* their shares of the measured
products (activity is half the goal, selectivity the other half), the
total, the score with the verdict it gives, the conditions, and the
chemist's words. Each part has its own bound so nothing is cut mid-sentence
by one limit over the whole. A ``[C3]`` typed by a chemist is neutralised: it
would mean another run's chunk in a later prompt.
"""
from __future__ import annotations

from typing import Any

from core.aliases import neutralise_aliases
from store.experiment_rows import Experiment
from worker.agent.context import snippet

TITLE_CHARS, CONTENT_CHARS = 200, 4000
WORDS_CHARS, CONDITIONS_CHARS = 600, 800


def polarity_of(score: float, prefer: float, avoid: float) -> str:
    return "prefer" if score >= prefer else "avoid" if score <= avoid else "neutral"


def describe_recipe(recipe: dict[str, Any]) -> str:
    modifier = recipe.get("modifier") or recipe.get("small_molecule_modifier") or "a modifier"
    return f"{recipe.get('M1')}–{recipe.get('M2')} {recipe.get('atomic_ratio')} with {modifier}"


def verdict(experiment: Experiment, prefer: float, avoid: float) -> str:
    """A failed synthesis is a result to avoid; a score decides otherwise; no score says nothing."""
    if experiment.status == "failed":
        return "avoid"
    return "neutral" if experiment.score is None else polarity_of(experiment.score, prefer, avoid)


def _origin(experiment: Experiment, run_id: str | None) -> str:
    source = experiment.source or {}
    if source.get("run_id"):
        return f"recipe {source.get('rank')} of run {source['run_id']}"
    if run_id:
        return f"a recipe of run {run_id} (which one was not recorded)"
    return "entered or imported by the lab"


def _products_line(experiment: Experiment) -> str | None:
    if not experiment.products:
        return None
    parts = ", ".join(f"{p.name} {p.value:g} ({p.fraction:.0%})" for p in experiment.products)
    zero = " — every amount is zero, so no shares" if experiment.fractions_all_zero else ""
    return (f"Products (amount as recorded, then its share of the measured products): {parts}; "
            f"total {experiment.value_sum or 0:g}{zero}.")


def lab_result(experiment: Experiment, run_id: str | None, words: dict[str, str],
               prefer: float, avoid: float) -> dict[str, Any]:
    """The memory's fields. ``words``: the chemist's text (pros, cons, other of a feedback)."""
    recipe = experiment.recipe
    polarity = verdict(experiment, prefer, avoid)
    made = describe_recipe(recipe) if recipe else "a recipe (which one was not recorded)"
    if experiment.status == "failed":
        outcome_line = f"The synthesis or measurement failed ({polarity}): the recipe counts as infeasible."
        headline = "failed"
    elif experiment.score is None:
        outcome_line = "No score was recorded (neutral)."
        headline = "measured"
    else:
        outcome_line = f"Score {experiment.score:g}/10 ({polarity})."
        headline = f"score {experiment.score:g}/10"
    lines = [f"The lab {'tried' if experiment.status == 'failed' else 'made'} {made}.", outcome_line]
    products = _products_line(experiment)
    if products:
        lines.append(products)
    if recipe and recipe.get("canonical_smiles"):
        lines.append(f"Modifier SMILES {recipe['canonical_smiles']}.")
    if experiment.conditions.strip():
        lines.append(f"Conditions: {snippet(neutralise_aliases(experiment.conditions), CONDITIONS_CHARS)}")
    texts = [*((label, words.get(key, "")) for label, key in
               (("Pros", "pros"), ("Cons", "cons"), ("Other", "other"))), ("Notes", experiment.notes)]
    for label, text in texts:
        if text and text.strip():  # a [C3] typed by the chemist must not become a later run's citation
            lines.append(f"{label}: {snippet(neutralise_aliases(text), WORDS_CHARS)}")
    lines.append(f"Source: experiment {experiment.experiment_id}, {_origin(experiment, run_id)}.")
    structured = None
    if recipe:
        source = experiment.source or {}
        structured = {"rank": source.get("rank"), "M1": recipe["M1"], "M2": recipe["M2"],
                      "atomic_ratio": recipe["atomic_ratio"], "modifier": recipe.get("modifier"),
                      "modifier_smiles": recipe.get("canonical_smiles"),
                      "recipe_key": recipe.get("recipe_key")}
    return {"title": snippet(f"Lab result: {made} — {headline}", TITLE_CHARS),
            "content": "\n".join(lines)[:CONTENT_CHARS], "polarity": polarity, "recipe": structured,
            "outcome": {"status": experiment.status, "score": experiment.score,
                        "fractions": {p.name: p.fraction for p in experiment.products},
                        "amounts": {p.name: p.value for p in experiment.products},
                        "total": experiment.value_sum,
                        "product_ids": [p.product_id for p in experiment.products],
                        "fractions_all_zero": experiment.fractions_all_zero}}
