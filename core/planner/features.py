"""Recipe → numbers a model can compare, the same however the recipe was written.

A recipe's key (:mod:`core.recipe_key`) fixes its metals in alphabetical order
with the ratio turned to them, so every feature here is a function of the key:
``Mo:Cu 3:1`` and ``Cu:Mo 1:3`` get one vector. Two featurisations are kept
because the model was chosen between them by measurement (docs/PLANNER.md):

* ``descriptors`` (the one shipped): for the two metals, the composition-weighted
  mean and the absolute difference of element data RDKit's periodic table holds
  (atomic number, period, group, weight, covalent radius, outer electrons) — so a
  metal never measured still sits near its neighbours in the table — plus the
  first metal's share, and the modifier's RDKit descriptors (weight, logP, TPSA,
  H-bond donors and acceptors, -COOH count, aromatic rings, fraction sp3);
* ``onehot``: a share per metal of a fixed list (unknown metals share one slot)
  and a 64-bit folded Morgan fingerprint of the modifier: no chemistry between
  elements, the usual baseline.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from core.recipe_key import RecipeKey

FEATURISATIONS = ("descriptors", "onehot", "combined")
ELEMENT_FIELDS = ("Z", "period", "group", "weight", "covalent_radius", "outer_electrons")
MODIFIER_FIELDS = ("mol_wt", "logp", "tpsa", "h_donors", "h_acceptors", "cooh", "aromatic_rings", "fraction_sp3")
ONEHOT_METALS = ("Cu", "Ag", "Au", "Zn", "Mo", "W", "Ni", "Co", "Fe", "Mn", "Cr", "V", "Bi", "Sn", "In", "Ga",
                 "Pd", "Pt", "Ru", "Rh", "Ir", "Ce", "La", "Ta", "Nb", "Zr", "Y", "Mg", "Ca", "Sr", "Ba", "Al")
FINGERPRINT_BITS = 64
_PERIOD_STARTS = (1, 3, 11, 19, 37, 55, 87, 119)


def _period_and_group(z: int) -> tuple[int, int]:
    """The periodic table's row and column (lanthanides and actinides in group 3)."""
    period = max(i + 1 for i, start in enumerate(_PERIOD_STARTS) if z >= start)
    offset = z - _PERIOD_STARTS[period - 1]
    if period == 1:
        return 1, 1 if z == 1 else 18
    if period in (2, 3):
        return period, offset + 1 if offset < 2 else offset + 11
    if period in (4, 5):
        return period, offset + 1
    if offset < 2:
        return period, offset + 1
    if offset < 17:            # La–Lu / Ac–Lr: the f-block sits in group 3
        return period, 3
    return period, offset - 13


@lru_cache(maxsize=256)
def element_vector(symbol: str) -> tuple[float, ...]:
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    z = table.GetAtomicNumber(symbol)
    period, group = _period_and_group(z)
    return (float(z), float(period), float(group), table.GetAtomicWeight(z), table.GetRcovalent(z),
            float(table.GetNOuterElecs(z)))


@lru_cache(maxsize=1024)
def modifier_vector(canonical_smiles: str) -> tuple[float, ...]:
    from rdkit import Chem
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

    from core.chemistry.structure import CARBOXYLIC_ACID_SMARTS

    mol = Chem.MolFromSmiles(canonical_smiles)
    acid = Chem.MolFromSmarts(CARBOXYLIC_ACID_SMARTS)
    return (Descriptors.MolWt(mol), Crippen.MolLogP(mol), rdMolDescriptors.CalcTPSA(mol),
            float(Lipinski.NumHDonors(mol)), float(Lipinski.NumHAcceptors(mol)),
            float(len(mol.GetSubstructMatches(acid))), float(rdMolDescriptors.CalcNumAromaticRings(mol)),
            rdMolDescriptors.CalcFractionCSP3(mol))


@lru_cache(maxsize=1024)
def fingerprint_vector(canonical_smiles: str) -> tuple[float, ...]:
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=FINGERPRINT_BITS)
    return tuple(float(b) for b in generator.GetFingerprintAsNumPy(Chem.MolFromSmiles(canonical_smiles)))


def _descriptors(key: RecipeKey) -> list[float]:
    a, b = np.array(element_vector(key.metal_a)), np.array(element_vector(key.metal_b))
    share = key.share_a
    mixed = share * a + (1 - share) * b
    return [*mixed, *np.abs(a - b), share, *modifier_vector(key.canonical_smiles)]


def _onehot(key: RecipeKey) -> list[float]:
    shares = np.zeros(len(ONEHOT_METALS) + 1)
    for metal, share in ((key.metal_a, key.share_a), (key.metal_b, 1 - key.share_a)):
        index = ONEHOT_METALS.index(metal) if metal in ONEHOT_METALS else len(ONEHOT_METALS)
        shares[index] += share
    return [*shares, *fingerprint_vector(key.canonical_smiles)]


def featurise(keys: list[RecipeKey], featurisation: str = "descriptors") -> np.ndarray:
    """One row per recipe key (unscaled; the surrogate standardises)."""
    if featurisation not in FEATURISATIONS:
        raise ValueError(f"unknown featurisation {featurisation!r}; one of {FEATURISATIONS}")
    build = {"descriptors": _descriptors, "onehot": _onehot,
             "combined": lambda key: [*_descriptors(key), *_onehot(key)]}[featurisation]
    return np.array([build(key) for key in keys], dtype=float).reshape(len(keys), -1)
