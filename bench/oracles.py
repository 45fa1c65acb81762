"""Lab oracles for the planner benchmark: a recipe in, the lab's outcome (0..1, higher is better) out.

* :class:`PlateOracle` — real measured data: the binary compositions of an
  Olympus OER plate (``../shared/data/olympus/``, or any folder of plates in the
  same format, ``--data``). A plate row of two metals at fractions a:b becomes
  the recipe ``M1:M2 a:b`` with one fixed modifier (the plates have none). The
  measured overpotential (lower is better) becomes
  ``(worst - overpotential) / (worst - best)`` over the plate's binary rows, so 1
  is the plate's best binary catalyst and 0 its worst. One measurement per
  composition: a replicate returns the same value.
* :class:`SyntheticOracle` — the seeded response surface of ``bench/memory_ab.py``
  (latent effects per metal and modifier through a logistic), over 8 metals × 3
  ratios × 4 modifiers, with a small seeded measurement noise (sd 0.02).
"""
from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from bench.memory_ab import METALS, MODIFIERS, Oracle
from core.recipe_key import RecipeKey, recipe_key

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "olympus"
PLATE_MODIFIER = ("acetic acid", "CC(=O)O")


@dataclass(frozen=True)
class Option:
    key: RecipeKey
    recipe: dict


class PlateOracle:
    def __init__(self, folder: Path):
        self.name = folder.name
        config = json.loads((folder / "config.json").read_text())
        metals = [p["name"].split("_")[0].capitalize() for p in config["parameters"]]
        rows = []
        with open(folder / "data.csv") as handle:
            for line in csv.reader(handle):
                *loads, overpotential = (float(v) for v in line)
                present = [(m, f) for m, f in zip(metals, loads) if f > 0]
                if len(present) == 2:
                    rows.append((present, overpotential))
        worst, best = max(r[1] for r in rows), min(r[1] for r in rows)
        self.options, self.values = [], {}
        for (first, second), overpotential in rows:
            ratio = f"{first[1]:g}:{second[1]:g}"
            recipe = {"M1": first[0], "M2": second[0], "atomic_ratio": ratio, "modifier": PLATE_MODIFIER[0],
                      "modifier_smiles": PLATE_MODIFIER[1]}
            key = recipe_key(first[0], second[0], ratio, PLATE_MODIFIER[1])
            if str(key) not in self.values:
                self.options.append(Option(key, recipe))
            self.values[str(key)] = (worst - overpotential) / (worst - best)

    def measure(self, key: RecipeKey, rng: random.Random) -> float:
        return self.values[str(key)]


class SyntheticOracle:
    RATIOS = ("1:3", "1:1", "3:1")

    def __init__(self, seed: int):
        self.name = f"synthetic-{seed}"
        self.hidden = Oracle(seed)
        self.options, self.values = [], {}
        for m1, m2 in combinations(METALS, 2):
            for ratio in self.RATIOS:
                for name, smiles in MODIFIERS.items():
                    key = recipe_key(m1, m2, ratio, smiles)
                    self.options.append(Option(key, {"M1": m1, "M2": m2, "atomic_ratio": ratio, "modifier": name,
                                                     "modifier_smiles": smiles}))
                    self.values[str(key)] = self.hidden.c2h4(m1, m2, name)

    def measure(self, key: RecipeKey, rng: random.Random) -> float:
        return min(1.0, max(0.0, self.values[str(key)] + rng.gauss(0, 0.02)))


def plates(folder: Path = SHARED) -> list[PlateOracle]:
    return [PlateOracle(p) for p in sorted(folder.iterdir()) if (p / "data.csv").is_file()]


def example_notebook(seed: int = 1, rows: int = 24) -> str:
    """A small lab notebook from the synthetic oracle, labelled synthetic in every row's notes:
    ``docs/examples/synthetic-lab-results.csv`` (``python -m bench.oracles > that file``)."""
    import io

    oracle, rng = SyntheticOracle(seed), random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["M1", "M2", "atomic_ratio", "modifier", "modifier_smiles", "status", "conditions", "notes",
                     "product:C2H4", "product:CO", "product:H2"])
    note = f"SYNTHETIC example (bench/oracles.py seed {seed}) - not a real measurement"
    for index, option in enumerate(rng.sample(oracle.options, rows)):
        r = option.recipe
        recipe = [r["M1"], r["M2"], r["atomic_ratio"], r["modifier"], r["modifier_smiles"]]
        if index % 11 == 10:
            writer.writerow([*recipe, "failed", "", f"{note}: the synthesis failed", "", "", ""])
            continue
        share = oracle.measure(option.key, rng)
        total = round(rng.uniform(8, 30), 2)  # all products, µmol per g per h
        c2h4, co = round(total * share, 3), round(total * (1 - share) * rng.uniform(0.3, 0.7), 3)
        writer.writerow([*recipe, "measured", "300 W Xe lamp, 4 h", note, c2h4, co, round(total - c2h4 - co, 3)])
    return out.getvalue()


if __name__ == "__main__":
    print(example_notebook(), end="")
