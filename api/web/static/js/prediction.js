// A model's prediction as a chemist should read it: the mean with its spread and 80 % interval,
// drawn as a small bar (the interval) with a tick (the mean) on a 0–100 % scale — never a bare
// number. Used on recipe cards and in plans.
import { chemPlain } from "./chem.js";
import { h, t } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const pct = (v) => `${Math.round(v * 1000) / 10} %`;

function intervalBar(p) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 100 10");
  svg.setAttribute("class", "interval-bar");
  svg.setAttribute("aria-hidden", "true");
  const add = (tag, attrs) => {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  };
  add("rect", { x: 0, y: 4, width: 100, height: 2, class: "track" });
  add("rect", { x: p.low * 100, y: 2, width: Math.max(0.8, (p.high - p.low) * 100), height: 6, class: "range" });
  add("rect", { x: Math.max(0, p.mean * 100 - 0.6), y: 0, width: 1.2, height: 10, class: "mean" });
  return svg;
}

/** One line: "Predicted C₂H₄ share 42 % ± 8 (80 %: 31–53 %), from 26 results", with its bar. */
export function predictionNode(prediction, reason = null) {
  if (!prediction) {  // the service's reason (English) stays one hover away
    return h("p", { class: "prediction hint", title: reason || "", text: t("prediction.none_short") });
  }
  const text = t("prediction.line", {
    product: chemPlain(prediction.objective), mean: pct(prediction.mean), sd: pct(prediction.sd),
    low: pct(prediction.low), high: pct(prediction.high), n: prediction.n_results, level: "80 %" });
  return h("div", { class: "prediction", title: prediction.model_id },
    h("span", { text }), intervalBar(prediction));
}
