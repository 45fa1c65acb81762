"""The planner (SPEC 14): a model of the lab's own results under the agent's cited recipes.

One idea per module, each tested alone (the shape BayBE gives its planner):

* :mod:`core.planner.features` — recipe → numbers (the metals' element data, the
  composition, the modifier's structure);
* :mod:`core.planner.surrogate` — numbers → a prediction with its uncertainty (a
  Gaussian process), named by ``model_id`` after the data it saw;
* :mod:`core.planner.acquisition` — prediction → how much a recipe is worth
  making next (expected improvement, best bet, most to learn);
* :mod:`core.planner.planning` — a batch: pending experiments counted as already
  chosen, measured recipes not picked again, metal pairs diversified.

Nothing here touches the database or HTTP: the API and the worker hand it
experiments and candidates, so the same code serves predictions, plans and the
benchmark (``bench/planner.py``).
"""
