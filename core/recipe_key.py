"""The recipe key: when two recipes are the same recipe (SPEC 14), in one definition.

Replicates, duplicate detection, pending experiments in a plan, memory matching
and the export all ask "is this the recipe we already have?"; they must get one
answer, so they all call :func:`recipe_key`.

* **Metals** are an unordered pair: ``Cu:Mo 1:3`` and ``Mo:Cu 3:1`` name the same
  composition, written in alphabetical order of the symbols with the ratio turned
  to match. ``Cu:Mo 1:3`` and ``Cu:Mo 3:1`` stay different compositions.
* **The ratio** is read as two exact decimals (``1``, ``1.0``, ``0.25``, full-width
  colon and spaces allowed) and reduced to the smallest whole numbers with the
  same proportion: ``2:2`` → ``1:1``, ``0.25:0.75`` → ``1:3``, ``1.5:1`` → ``3:2``.
  *Tolerance*: the proportion is kept exactly, except that it is rounded to the
  nearest ratio whose parts are at most ``MAX_RATIO_PART`` (1000) — far below any
  weighing precision, and enough to absorb float noise such as ``1:2.9999999``.
  A decimal is taken as written: ``0.33:0.67`` is ``33:67``, not ``1:2`` (write
  ``1:2`` for one to two).
* **The modifier** is its canonical SMILES (RDKit), so ``OC(=O)c1ccccc1`` and
  ``c1ccccc1C(O)=O`` are one modifier. Names are never compared.

The key reads ``Cu1Mo3|O=C(O)c1ccccc1``: metals with their reduced parts in
formula style (SPEC 7), then the modifier. It is a plain string so the store can
index it and a client can filter by it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache

from core.chemistry.elements import dopant_problem, ratio_parts

MAX_RATIO_PART = 1000
_KEY = re.compile(r"^([A-Z][a-z]?)(\d+)([A-Z][a-z]?)(\d+)\|(.+)$")


class RecipeKeyError(ValueError):
    """The recipe has no key: a metal, the ratio or the modifier is not usable. The message says which."""


@dataclass(frozen=True)
class RecipeKey:
    metal_a: str          # alphabetically first symbol
    metal_b: str
    part_a: int           # the reduced ratio, oriented to (metal_a, metal_b)
    part_b: int
    canonical_smiles: str

    @property
    def metal_pair(self) -> str:
        """``Cu-Mo``: the composition's metals without the ratio (plots and filters group by it)."""
        return f"{self.metal_a}-{self.metal_b}"

    @property
    def ratio(self) -> str:
        return f"{self.part_a}:{self.part_b}"

    @property
    def share_a(self) -> float:
        """The first metal's share of the two (0..1): the composition as one number for a model."""
        return self.part_a / (self.part_a + self.part_b)

    def __str__(self) -> str:
        return f"{self.metal_a}{self.part_a}{self.metal_b}{self.part_b}|{self.canonical_smiles}"

    @classmethod
    def parse(cls, text: str) -> "RecipeKey":
        """A stored key back as a RecipeKey (RecipeKeyError for text that is not one)."""
        match = _KEY.match(text) if isinstance(text, str) else None
        if not match:
            raise RecipeKeyError(f"{text!r} is not a recipe key like 'Cu1Mo3|O=C(O)c1ccccc1'")
        a, part_a, b, part_b, smiles = match.groups()
        return cls(a, b, int(part_a), int(part_b), smiles)


def reduced_ratio(text: object) -> tuple[int, int]:
    """``"0.25 : 0.75"`` → ``(1, 3)``; RecipeKeyError unless it is a ratio of two positive numbers."""
    parts = ratio_parts(text)
    if parts is None:
        raise RecipeKeyError(f"atomic_ratio {text!r} is not a ratio of two positive numbers like '1:3'")
    try:
        first, second = (Fraction(Decimal(part)) for part in parts)
    except (InvalidOperation, ValueError) as error:  # pragma: no cover - the pattern admits decimals only
        raise RecipeKeyError(f"atomic_ratio {text!r} is not a ratio of two numbers") from error
    if first <= 0 or second <= 0:
        raise RecipeKeyError(f"atomic_ratio {text!r}: both parts must be positive")
    proportion = first / second
    if proportion.numerator > MAX_RATIO_PART or proportion.denominator > MAX_RATIO_PART:
        proportion = _nearest_small_ratio(proportion)
    return proportion.numerator, proportion.denominator


def _nearest_small_ratio(proportion: Fraction) -> Fraction:
    """The ratio with both parts ≤ MAX_RATIO_PART closest to ``proportion`` (by the first metal's share)."""
    share = proportion / (1 + proportion)  # in (0, 1): both parts bounded together
    best = share.limit_denominator(MAX_RATIO_PART)
    best = min(max(best, Fraction(1, MAX_RATIO_PART)), Fraction(MAX_RATIO_PART - 1, MAX_RATIO_PART))
    return best / (1 - best)


def canonical_modifier(smiles: object) -> str:
    """RDKit's canonical SMILES of the modifier; RecipeKeyError when it does not parse."""
    if not isinstance(smiles, str):
        raise RecipeKeyError(f"modifier_smiles {smiles!r} does not parse as SMILES")
    return _canonical(smiles)


@lru_cache(maxsize=4096)
def _canonical(smiles: str) -> str:
    from core.chemistry.structure import _mol
    from rdkit import Chem

    mol = _mol(smiles)
    if mol is None:
        raise RecipeKeyError(f"modifier_smiles {smiles!r} does not parse as SMILES")
    return Chem.MolToSmiles(mol)


def recipe_key(m1: object, m2: object, atomic_ratio: object, modifier_smiles: object) -> RecipeKey:
    """The key of a recipe (see the module docstring); RecipeKeyError says what is unusable."""
    for field, symbol in (("M1", m1), ("M2", m2)):
        problem = dopant_problem(symbol)
        if problem:
            raise RecipeKeyError(f"{field}: {problem}")
    first, second = m1.strip(), m2.strip()  # type: ignore[union-attr]  # checked above
    if first == second:
        raise RecipeKeyError("M1 and M2 must be two different metals")
    part_1, part_2 = reduced_ratio(atomic_ratio)
    if second < first:
        first, second, part_1, part_2 = second, first, part_2, part_1
    return RecipeKey(first, second, part_1, part_2, canonical_modifier(modifier_smiles))


def key_or_none(recipe: dict | None) -> RecipeKey | None:
    """The key of a stored recipe dict (``M1``, ``M2``, ``atomic_ratio``, ``modifier_smiles``), or None."""
    if not recipe:
        return None
    try:
        return recipe_key(recipe.get("M1"), recipe.get("M2"), recipe.get("atomic_ratio"),
                          recipe.get("modifier_smiles"))
    except RecipeKeyError:
        return None
