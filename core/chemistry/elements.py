"""Which elements may be the two dopant metals of TiO2, and what an atomic ratio is.

Element data, not name matching: ``M1``/``M2`` are element symbols checked
against the periodic table. Refused: non-metals and metalloids (they cannot
form the dual-metal sites), noble gases, radioactive elements (no stable
isotope: a lab cannot use them), and titanium (the host, not a dopant).
"""
from __future__ import annotations

import math
import re

PERIODIC_TABLE = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu "
    "Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np "
    "Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
).split()
NOBLE_GASES = frozenset("He Ne Ar Kr Xe Rn Og".split())
NON_METALS = frozenset("H B C N O F Si P S Cl Ge As Se Br Sb Te I At".split())
# No stable isotope: technetium, promethium, and everything from polonium on.
RADIOACTIVE = frozenset(["Tc", "Pm", *PERIODIC_TABLE[PERIODIC_TABLE.index("Po"):]])
HOST_METAL = "Ti"
DOPANT_METALS = frozenset(e for e in PERIODIC_TABLE
                          if e not in NOBLE_GASES | NON_METALS | RADIOACTIVE | {HOST_METAL})

_NUMBER = r"\d+(?:\.\d+)?"
_RATIO = re.compile(rf"^\s*({_NUMBER})\s*[:：]\s*({_NUMBER})\s*$")


def dopant_problem(symbol: object) -> str | None:
    """Why ``symbol`` cannot be a dopant metal, or None if it can."""
    if not isinstance(symbol, str) or symbol.strip() not in PERIODIC_TABLE:
        return f"{symbol!r} is not an element symbol (write e.g. 'Cu', 'Mo')"
    element = symbol.strip()
    if element in NOBLE_GASES:
        return f"{element} is a noble gas, not a metal"
    if element in RADIOACTIVE:
        return f"{element} is radioactive (no stable isotope); choose a stable metal"
    if element in NON_METALS:
        return f"{element} is not a metal"
    if element == HOST_METAL:
        return "Ti is the host (TiO2), not a dopant"
    return None


def parse_ratio(text: object) -> tuple[float, float] | None:
    """``"2:1"`` -> (2.0, 1.0); None unless both parts are positive, finite numbers."""
    match = _RATIO.match(text) if isinstance(text, str) else None
    if not match:
        return None
    parts = (float(match.group(1)), float(match.group(2)))
    return parts if all(p > 0 and math.isfinite(p) for p in parts) else None


def ratio_parts(text: object) -> tuple[str, str] | None:
    """The two numbers of a ratio as written (``" 0.25 : 0.75"`` -> ("0.25", "0.75")), or None."""
    match = _RATIO.match(text) if isinstance(text, str) else None
    return (match.group(1), match.group(2)) if match else None


def normalise_ratio(text: str) -> str:
    first, second = _RATIO.match(text).groups()
    return f"{first}:{second}"
