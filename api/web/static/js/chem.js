// Chemistry reads like chemistry: formulas in text shown with subscripts and charges as
// superscripts (CO2 → CO₂, C2H4 → C₂H₄, Zr6 → Zr₆, Cu2+ → Cu²⁺). Display only: the text
// itself is never changed (copying a rich formula gives back its digits), and a word is a
// formula only if every symbol in it is an element and it has a count or a charge, so
// "M1", "B3LYP", "CO2RR" or "TiO2-based"'s "-based" stay as written.
import { h } from "./common.js";

const ELEMENTS = new Set(("H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu " +
  "Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu " +
  "Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk " +
  "Cf Es Fm Md No Lr").split(" "));
const CANDIDATE = /(?<![A-Za-z0-9([［【])\(?[A-Z][A-Za-z0-9()]*(?:[+\-−](?![A-Za-z0-9]))?/g;
const PART = /([A-Z][a-z]?)|(\d+)|([()])/y;
const SUB = "₀₁₂₃₄₅₆₇₈₉";
const SUP = { 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹", "+": "⁺", "-": "⁻", "−": "⁻" };

/** [[kind, text], …] with kind "t" (text), "sub" or "sup"; null if the word is not a formula. */
function formula(word) {
  const charge = /(\d*)([+\-−])$/.exec(word);
  const body = charge ? word.slice(0, -charge[0].length) : word;
  const parts = [];
  let counted = Boolean(charge), depth = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < body.length) {
    const at = PART.lastIndex;
    const match = PART.exec(body);
    if (!match || match.index !== at) return null;
    if (match[1]) {
      if (!ELEMENTS.has(match[1])) return null;
      parts.push(["t", match[1]]);
    } else if (match[2]) {
      if (!parts.length || (parts[parts.length - 1][0] !== "t")) return null;
      parts.push(["sub", match[2]]);
      counted = true;
    } else {
      depth += match[3] === "(" ? 1 : -1;
      if (depth < 0) return null;
      parts.push(["t", match[3]]);
    }
  }
  if (!counted || depth !== 0 || !parts.length) return null;
  if (charge) parts.push(["sup", charge[1] + charge[2].replace("−", "-")]);
  return parts;
}

/** Text and <sub>/<sup> nodes for a string. */
export function chemNodes(text) {
  const nodes = [];
  let last = 0;
  for (const match of String(text ?? "").matchAll(CANDIDATE)) {
    const parts = formula(match[0]);
    if (!parts) continue;
    if (match.index > last) nodes.push(text.slice(last, match.index));
    for (const [kind, value] of parts) nodes.push(kind === "t" ? value : h(kind, { text: value }));
    last = match.index + match[0].length;
  }
  if (last < String(text ?? "").length) nodes.push(String(text).slice(last));
  return nodes;
}

/** The same with Unicode sub- and superscripts, where only plain text can go (a <select>). */
export function chemPlain(text) {
  return String(text ?? "").replace(CANDIDATE, (word) => {
    const parts = formula(word);
    if (!parts) return word;
    return parts.map(([kind, value]) => kind === "t" ? value
      : kind === "sub" ? [...value].map((d) => SUB[d]).join("") : [...value].map((c) => SUP[c] || c).join("")).join("");
  });
}
