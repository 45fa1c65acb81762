"""What a modifier's structure is, and whether it may cap the Zr6 sites of Zr-BTB.

A modifier must (SPEC section 8): parse; carry at least one carboxylic acid
group, counted on the acid or its carboxylate; not be the BTB linker in any
protonation state (same InChIKey skeleton, i.e. the first block, of the
largest neutralised fragment); and be a small molecule: at most
``MAX_HEAVY_ATOMS`` heavy atoms and ``MAX_MOLECULAR_WEIGHT`` g/mol (the BTB
linker itself has 33 heavy atoms and 438 g/mol; common modifiers have 5-20).
The facts returned are what the chemist sees beside the recipe.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

MAX_HEAVY_ATOMS = 40
MAX_MOLECULAR_WEIGHT = 600.0
# H3BTB, benzene-1,3,5-tribenzoic acid: the fixed linker of the MOF.
BTB_LINKER_SMILES = "OC(=O)c1ccc(cc1)-c1cc(cc(c1)-c1ccc(cc1)C(O)=O)-c1ccc(cc1)C(O)=O"
# R-C(=O)OH or R-C(=O)O- where R is carbon or hydrogen (not carbamic or carbonic acid).
CARBOXYLIC_ACID_SMARTS = "[CX3;$([CX3][#6]),$([CX3;H1])](=O)[OX2H1,OX1-]"
# Acids a model confuses with carboxylic ones, named in the repair message.
OTHER_ACIDS = {
    "a sulfonic acid": "[SX4](=O)(=O)[OX2H1,OX1-]",
    "a phosphonic or phosphoric acid": "[PX4](=O)[OX2H1,OX1-]",
    "a boronic acid": "[BX3]([OX2H1,OX1-])[OX2H1,OX1-]",
    "a sulfinic acid": "[SX3](=O)[OX2H1,OX1-]",
}


@dataclass(frozen=True)
class ModifierFacts:
    canonical_smiles: str
    formula: str
    molecular_weight: float
    inchikey: str
    carboxylic_acid_groups: int
    heavy_atoms: int

    def as_dict(self) -> dict[str, Any]:
        # every field is a str, int or float: no deep copy needed (asdict's was a fifth of a
        # CSV row's check time, twice per row of an import)
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ModifierReport:
    facts: ModifierFacts | None
    problems: list[str]
    skeleton: str | None  # InChIKey first block of the largest neutral fragment


def _mol(smiles: str):
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # parse errors are reported to the agent, not to the log
    if not isinstance(smiles, str) or not smiles.strip() or len(smiles) > 500:
        return None
    return Chem.MolFromSmiles(smiles.strip())


def neutral_parent(mol):
    """The largest fragment, with charges neutralised (carboxylate -> acid, salts dropped)."""
    from rdkit.Chem.MolStandardize import rdMolStandardize

    largest = rdMolStandardize.LargestFragmentChooser().choose(mol)
    return rdMolStandardize.Uncharger().uncharge(largest)


def skeleton_key(mol) -> str:
    from rdkit import Chem

    return Chem.MolToInchiKey(neutral_parent(mol)).split("-")[0]


@lru_cache(maxsize=1)
def _patterns():
    from rdkit import Chem

    return (Chem.MolFromSmarts(CARBOXYLIC_ACID_SMARTS),
            {label: Chem.MolFromSmarts(smarts) for label, smarts in OTHER_ACIDS.items()})


@lru_cache(maxsize=1)
def btb_skeleton() -> str:
    return skeleton_key(_mol(BTB_LINKER_SMILES))


def _facts(mol, cooh: int) -> ModifierFacts:
    from rdkit import Chem
    from rdkit.Chem import Descriptors, rdMolDescriptors

    return ModifierFacts(canonical_smiles=Chem.MolToSmiles(mol),
                         formula=rdMolDescriptors.CalcMolFormula(mol),
                         molecular_weight=round(Descriptors.MolWt(mol), 2),
                         inchikey=Chem.MolToInchiKey(mol), carboxylic_acid_groups=cooh,
                         heavy_atoms=mol.GetNumHeavyAtoms())


@lru_cache(maxsize=4096)
def analyse_modifier(smiles: str) -> ModifierReport:
    """Facts and every problem with ``smiles`` as a -COOH modifier for Zr-BTB."""
    mol = _mol(smiles)
    if mol is None:
        return ModifierReport(None, [f"modifier_smiles {smiles!r} does not parse as SMILES"], None)
    carboxylic, others = _patterns()
    cooh = len(mol.GetSubstructMatches(carboxylic))
    facts = _facts(mol, cooh)
    skeleton = skeleton_key(mol)
    problems = []
    if skeleton == btb_skeleton():
        problems.append("is the BTB linker itself, which is fixed; choose a different molecule "
                        "to cap the Zr6 sites")
    elif cooh == 0:
        kinds = [label for label, pattern in others.items() if mol.HasSubstructMatch(pattern)]
        found = f"it is {' and '.join(kinds)}, " if kinds else ""
        problems.append(f"has no carboxylic acid (-COOH) group: {found}the structure needs "
                        "a C(=O)OH group")
    if facts.heavy_atoms > MAX_HEAVY_ATOMS or facts.molecular_weight > MAX_MOLECULAR_WEIGHT:
        problems.append(f"is not a small molecule ({facts.heavy_atoms} heavy atoms, "
                        f"{facts.molecular_weight} g/mol; at most {MAX_HEAVY_ATOMS} heavy atoms "
                        f"and {MAX_MOLECULAR_WEIGHT:.0f} g/mol)")
    return ModifierReport(facts, problems, skeleton)


@lru_cache(maxsize=4096)
def skeleton_of(smiles: str) -> str | None:
    mol = _mol(smiles)
    return skeleton_key(mol) if mol is not None else None


def same_compound(smiles_a: str, smiles_b: str) -> bool:
    """Same skeleton once salts and charges are set aside (stereo not compared)."""
    a = skeleton_of(smiles_a)
    return a is not None and a == skeleton_of(smiles_b)


# element -> RGB for drawings on a dark surface: each at least 4.5:1 against #161d24
DARK_PALETTE = {-1: (0.9, 0.9, 0.9), 1: (0.9, 0.9, 0.9), 6: (0.9, 0.9, 0.9), 7: (0.55, 0.68, 1.0),
                8: (1.0, 0.5, 0.5), 9: (0.55, 0.9, 0.55), 15: (1.0, 0.65, 0.3), 16: (0.95, 0.85, 0.35),
                17: (0.55, 0.9, 0.55), 35: (0.85, 0.55, 0.45), 53: (0.8, 0.55, 0.95)}


@lru_cache(maxsize=512)
def structure_svg(smiles: str, width: int = 240, height: int = 180, dark: bool = False) -> str | None:
    """A 2D drawing of the molecule as SVG, or None when the SMILES does not parse."""
    from rdkit.Chem import rdDepictor
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = _mol(smiles)
    if mol is None:
        return None
    rdDepictor.Compute2DCoords(mol)
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    options = drawer.drawOptions()
    options.clearBackground = False
    options.fixedBondLength = 26  # one scale for every molecule: small ones are not blown up
    options.padding = 0.08

    if dark:
        # RDKit's dark mode, then heteroatom colours light enough to read on the page's dark
        # surface (its pure blue N and red O are below 3:1 contrast there)
        rdMolDraw2D.SetDarkMode(options)
        options.setBackgroundColour((0, 0, 0, 0))
        options.updateAtomPalette(DARK_PALETTE)
    drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
