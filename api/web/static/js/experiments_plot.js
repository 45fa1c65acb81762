// The plot a chemist reads at a glance: one row per recipe, the objective product's share of
// each measured replicate as a dot, their spread as a bar, their mean as a tick; failed
// syntheses as crosses at the left. Drawn here as SVG (no library, no network), with a text
// summary for screen readers and the same numbers in a table.
import { chemPlain } from "./chem.js";
import { h, t } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const ROW = 26, LEFT = 270, RIGHT = 24, TOP = 30, WIDTH = 780, LABEL_GAP = 30;

function s(tag, attrs = {}, text = null) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  if (text !== null) element.textContent = text;
  return element;
}

export function recipeLabel(recipe) {
  if (!recipe) return t("experiment.unknown_recipe");
  const modifier = recipe.modifier || recipe.canonical_smiles;
  return `${recipe.M1}–${recipe.M2} ${recipe.atomic_ratio} · ${modifier}`;
}

/** A recipe as its key says it (metals in alphabetical order, reduced ratio): one label for all
 *  the ways its replicates were written (Mo:Cu 3:1 is Cu:Mo 1:3). */
function keyLabel(recipe, modifier) {
  const parts = /^([A-Z][a-z]?)(\d+)([A-Z][a-z]?)(\d+)\|/.exec(recipe.recipe_key);
  if (!parts) return recipeLabel(recipe);
  return `${parts[1]}–${parts[3]} ${parts[2]}:${parts[4]} · ${modifier || recipe.canonical_smiles}`;
}

/** Rows of the plot: one per recipe key, with the objective's share of each measured replicate. */
export function plotRows(experiments, objective) {
  const rows = new Map();
  for (const e of experiments) {
    if (!e.recipe || !["measured", "failed"].includes(e.status)) continue;
    const key = e.recipe.recipe_key;
    const row = rows.get(key) || { key, recipe: e.recipe, modifier: null, shares: [], failed: 0, missing: 0 };
    row.modifier = row.modifier || e.recipe.modifier;
    if (e.status === "failed") row.failed += 1;
    else {
      const product = e.products.find((p) => chemPlain(p.name).toLowerCase() === chemPlain(objective).toLowerCase());
      if (product && !e.fractions_all_zero) row.shares.push(product.fraction);
      else if (e.products.length) row.shares.push(0);
      else row.missing += 1;  // a score only: no share of any product
    }
    rows.set(key, row);
  }
  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  return [...rows.values()].map((r) => ({ ...r, label: keyLabel(r.recipe, r.modifier),
                                          mean: r.shares.length ? mean(r.shares) : null }))
    .sort((a, b) => (b.mean ?? -1) - (a.mean ?? -1) || a.label.localeCompare(b.label));
}

const pct = (v) => `${(v * 100).toFixed(1)} %`;

export function drawPlot(figure, rows, objective) {
  const height = TOP + rows.length * ROW + 10;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (share) => LEFT + share * plotWidth;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", class: "dot-plot",
                         "aria-label": t("plot.label", { product: chemPlain(objective), n: rows.length }) });
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s("line", { x1: x(tick), x2: x(tick), y1: TOP - 6, y2: height - 8, class: "grid-line" }),
               s("text", { x: x(tick), y: TOP - 12, "text-anchor": "middle", class: "axis" }, `${tick * 100} %`));
  }
  rows.forEach((row, i) => {
    const y = TOP + i * ROW + ROW / 2;
    const group = s("g", { class: "plot-row" });
    group.append(s("title", {}, `${row.label}: ${row.shares.map(pct).join(", ") || "—"}`
      + (row.failed ? ` · ${t("plot.failed_n", { n: row.failed })}` : "")));
    const label = row.label.length > 38 ? `${row.label.slice(0, 37)}…` : row.label;
    group.append(s("text", { x: LEFT - LABEL_GAP, y: y + 4, "text-anchor": "end", class: "row-label" }, label));
    if (row.shares.length > 1) {
      group.append(s("line", { x1: x(Math.min(...row.shares)), x2: x(Math.max(...row.shares)), y1: y, y2: y,
                               class: "spread" }));
    }
    for (const share of row.shares) group.append(s("circle", { cx: x(share), cy: y, r: 5, class: "dot" }));
    if (row.mean !== null) {
      group.append(s("line", { x1: x(row.mean), x2: x(row.mean), y1: y - 8, y2: y + 8, class: "mean" }));
    }
    for (let k = 0; k < row.failed; k += 1) {
      const cx = x(0) - 10 - k * 9;  // in the gap between the label and the axis
      group.append(s("path", { d: `M${cx - 4},${y - 4}L${cx + 4},${y + 4}M${cx - 4},${y + 4}L${cx + 4},${y - 4}`,
                               class: "failed-mark" }));
    }
    svg.append(group);
  });
  figure.replaceChildren(svg, h("figcaption", { class: "hint",
    text: t("plot.caption", { product: chemPlain(objective) }) }));
}

export function describePlot(rows, objective) {
  if (!rows.length) return "";
  const best = rows[0];
  return t("plot.summary", { n: rows.length, product: chemPlain(objective), best: best.label,
                              mean: best.mean === null ? "—" : pct(best.mean) });
}

export function plotTableRows(rows) {
  return rows.map((row) => h("tr", {},
    h("th", { scope: "row", text: row.label }),
    h("td", { text: String(row.shares.length) }),
    h("td", { text: row.mean === null ? "—" : pct(row.mean) }),
    h("td", { text: row.shares.length ? `${pct(Math.min(...row.shares))} – ${pct(Math.max(...row.shares))}` : "—" }),
    h("td", { text: String(row.failed) })));
}

/** Predicted (leave one out) against measured, with each prediction's 80 % interval. */
export function drawCalibration(figure, data) {
  const size = 340, pad = 56, span = size - 2 * pad;
  const x = (v) => pad + v * span, y = (v) => size - pad - v * span;
  const svg = s("svg", { viewBox: `0 0 ${size} ${size}`, role: "img", class: "dot-plot calibration-plot",
                         "aria-label": t("calibration.label", { product: chemPlain(data.objective) }) });
  for (const tick of [0, 0.5, 1]) {
    svg.append(s("line", { x1: x(tick), x2: x(tick), y1: y(0), y2: y(1), class: "grid-line" }),
               s("line", { x1: x(0), x2: x(1), y1: y(tick), y2: y(tick), class: "grid-line" }),
               s("text", { x: x(tick), y: size - pad + 16, "text-anchor": "middle", class: "axis" }, `${tick * 100} %`),
               s("text", { x: pad - 6, y: y(tick) + 4, "text-anchor": "end", class: "axis" }, `${tick * 100} %`));
  }
  svg.append(s("line", { x1: x(0), y1: y(0), x2: x(1), y2: y(1), class: "diagonal" }));
  for (const item of data.items) {
    const group = s("g", {});
    group.append(s("title", {}, `${item.recipe_key}: ${pct(item.measured)} → ${pct(item.mean)} (${pct(item.low)}–${pct(item.high)})`));
    group.append(s("line", { x1: x(item.measured), x2: x(item.measured), y1: y(item.low), y2: y(item.high), class: "interval" }));
    group.append(item.failed
      ? s("path", { d: `M${x(item.measured) - 4},${y(item.mean) - 4}l8,8m0,-8l-8,8`, class: "failed-mark" })
      : s("circle", { cx: x(item.measured), cy: y(item.mean), r: 3.5, class: "dot" }));
    svg.append(group);
  }
  svg.append(s("text", { x: size / 2, y: size - 6, "text-anchor": "middle", class: "axis" }, t("calibration.measured")),
             s("text", { x: 12, y: size / 2 - 10, "text-anchor": "middle", class: "axis",
                         transform: `rotate(-90 12 ${size / 2 - 10})` }, t("calibration.predicted")));
  figure.replaceChildren(svg);
}
