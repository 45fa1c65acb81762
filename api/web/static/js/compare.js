// Compare runs: two to four runs' recipes side by side with their structures and the lab's
// results, to decide what to make next. Everything comes from the JSON API.
import { chemNodes } from "./chem.js";
import { api, clear, currentTheme, h, page, statusBadge, t } from "./common.js";

export const MAX_COMPARED = 4;

function structure(smiles, name) {
  return h("img", { class: "structure", width: 200, height: 150, loading: "lazy",
                    alt: t("recipe.structure_of", { name: name || smiles }),
                    src: `${page.api}/structures/svg?smiles=${encodeURIComponent(smiles)}&theme=${currentTheme()}` });
}

function plainCitations(text) {
  return chemNodes(String(text || "").replace(/\[([CM]\d+)\]/g, "[$1]"));
}

function recipeView(recipe, madeRank) {
  const made = madeRank === recipe.rank;
  return h("li", { class: `card compare-recipe${made ? " made" : ""}` },
    h("h3", {}, `#${recipe.rank} `, ...chemNodes(`${recipe.M1}–${recipe.M2}`), ` ${recipe.atomic_ratio}`,
      made ? h("span", { class: "tag made-tag", text: t("compare.made") }) : null),
    h("p", {}, ...chemNodes(recipe.small_molecule_modifier || "")),
    recipe.modifier_smiles ? structure(recipe.modifier_smiles, recipe.small_molecule_modifier) : null,
    h("p", { class: "muted small-text" }, ...plainCitations(recipe.rationale)));
}

function labView(feedback) {
  if (!feedback) return h("p", { class: "muted", text: t("compare.no_feedback") });
  return h("div", { class: "lab" },
    h("p", {}, h("strong", { text: t("compare.score", { score: feedback.score }) })),
    h("ul", { class: "plain" }, feedback.products.map((p) =>
      h("li", {}, ...chemNodes(p.name), `: ${(p.fraction * 100).toFixed(0)} %`))));
}

async function column(runId) {
  const [run, output, feedback] = await Promise.all([
    api(`/runs/${encodeURIComponent(runId)}`), api(`/runs/${encodeURIComponent(runId)}/output`),
    api(`/runs/${encodeURIComponent(runId)}/feedback`)]);
  if (!run.ok) return h("section", { class: "card" }, h("p", { class: "panel error", text: `${runId}: ${run.error.message}` }));
  const batch = await api(`/batches/${encodeURIComponent(run.data.batch_id)}`);
  const recipes = output.ok ? output.data.recipes_json.recipes : [];
  const made = feedback.ok ? feedback.data.recipe_index : null;
  return h("section", { class: "card compare-column", aria: { label: runId } },
    h("h2", {}, h("a", { href: `/runs/${encodeURIComponent(runId)}`, text: t("run.title", { n: run.data.run_index + 1 }) }),
      " ", statusBadge(run.data.status)),
    h("p", { class: "request-text clamp", text: batch.ok ? batch.data.user_request : "" }),
    h("p", { class: "mono muted", text: runId }),
    h("h3", { text: t("compare.lab") }), labView(feedback.ok ? feedback.data : null),
    h("h3", { text: t("compare.recipes") }),
    recipes.length ? h("ol", { class: "plain" }, recipes.map((r) => recipeView(r, made)))
      : h("p", { class: "muted", text: t("compare.no_recipes") }));
}

const ids = [...new Set((new URLSearchParams(location.search).get("runs") || "").split(",").map((s) => s.trim())
  .filter(Boolean))];
const state = document.getElementById("compare-state");
if (ids.length < 2 || ids.length > MAX_COMPARED) {
  state.hidden = false;
  state.textContent = t("compare.pick", { max: MAX_COMPARED });
} else {
  clear(document.getElementById("compare-grid")).append(...(await Promise.all(ids.map(column))));
  const plan = document.getElementById("compare-plan");  // the selected runs' recipes, ranked by the planner
  plan.href = `/plan?run_ids=${ids.map(encodeURIComponent).join(",")}`;
  plan.hidden = false;
}
