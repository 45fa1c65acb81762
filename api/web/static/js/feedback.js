// The Feedback tab: score, which recipe was made, the products measured (from the catalogue or
// a preset) with a live fraction preview, pros/cons/notes. Saving replaces the run's feedback;
// the fractions shown after saving are the ones the server computed and stored.
import { chemPlain } from "./chem.js";
import { api, clear, flattenFields, h, listAll, t } from "./common.js";

const form = document.getElementById("feedback-form");
const rows = () => [...document.querySelectorAll("#fb-products tbody tr")];
let catalogue = [];   // active products
let presets = [];     // active presets
let runId = null;

/** value / sum, or all 0 when the sum is 0 — the server's rule, for the preview only. */
function previewFractions(values) {
  const largest = Math.max(0, ...values);
  if (!(largest > 0)) return values.map(() => 0);
  const scaled = values.map((v) => v / largest);
  const total = scaled.reduce((a, b) => a + b, 0);
  return scaled.map((v) => v / total);
}

function productOptions(selected, archived) {
  const options = [h("option", { value: "", text: t("feedback.choose_product") })];
  for (const product of catalogue) {
    options.push(h("option", { value: product.product_id, selected: product.product_id === selected,
                               text: chemPlain(product.name) }));
  }
  if (archived) {
    options.push(h("option", { value: archived.product_id, selected: true, disabled: true,
                               text: t("feedback.archived_product", { name: chemPlain(archived.name) }) }));
  }
  return options;
}

function addRow(productId = "", value = "", archived = null) {
  const index = rows().length;
  const select = h("select", { class: "fb-product", aria: { label: t("feedback.product_n", { n: index + 1 }) } },
    productOptions(productId, archived));
  const amount = h("input", { type: "number", min: "0", step: "any", class: "fb-value", value,
                              aria: { label: t("feedback.amount_n", { n: index + 1 }) } });
  const row = h("tr", {},
    h("td", {}, select), h("td", {}, amount), h("td", { class: "fb-fraction mono", text: "—" }),
    h("td", {}, h("button", { type: "button", class: "ghost small", text: t("feedback.remove"),
                              onclick: () => { row.remove(); updatePreview(); } })),
    h("td", { class: "row-error field-error", hidden: true }));
  amount.addEventListener("input", () => updatePreview());
  select.addEventListener("change", () => updatePreview());

  document.querySelector("#fb-products tbody").append(row);
  updatePreview();
  return row;
}

function updatePreview(serverFractions = null) {
  const values = rows().map((row) => Number(row.querySelector(".fb-value").value) || 0);
  const parts = serverFractions || previewFractions(values);
  rows().forEach((row, i) => {
    row.querySelector(".fb-fraction").textContent = rows().length ? `${(parts[i] * 100).toFixed(1)} %` : "—";
  });
  const someEntered = rows().some((row) => row.querySelector(".fb-value").value !== "");
  document.getElementById("fb-zero-note").hidden = !(someEntered && values.every((v) => v === 0));
}

function fillFromPreset() {
  const preset = presets.find((p) => p.preset_id === document.getElementById("fb-preset").value);
  if (!preset) return;
  const have = new Set(rows().map((row) => row.querySelector(".fb-product").value));
  for (const product of preset.products) {
    if (product.status === "active" && !have.has(product.product_id)) addRow(product.product_id);
  }
}

function clearErrors() {
  for (const slot of form.querySelectorAll(".field-error, .row-error")) { slot.hidden = true; slot.textContent = ""; }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  document.getElementById("fb-error").hidden = true;
}

function showErrors(error) {
  const fields = flattenFields(error.details?.fields);
  let placed = 0;
  for (const [key, messages] of Object.entries(fields)) {
    const row = key.match(/^products\[(\d+)\]/);
    const slot = row ? rows()[Number(row[1])]?.querySelector(".row-error")
      : document.getElementById(`fb-${key}-error`);
    if (!slot) continue;
    slot.textContent = messages.join(" ");
    slot.hidden = false;
    placed += 1;
    const input = row ? rows()[Number(row[1])].querySelector(key.endsWith("value") ? ".fb-value" : ".fb-product")
      : document.getElementById(`fb-${key}`);
    input?.setAttribute("aria-invalid", "true");
  }
  const panel = clear(document.getElementById("fb-error"));
  panel.append(h("strong", { text: `${error.code}: ` }), error.message || "");
  panel.hidden = placed > 0 && error.code === "invalid_argument";
}

/** "#1 Cu–Mo 1:1 · 4-mercaptobenzoic acid": what was made, not only its rank. */
function recipeLabel(recipe, rank) {
  const what = recipe ? ` ${recipe.M1}–${recipe.M2} ${recipe.atomic_ratio} · ${recipe.small_molecule_modifier}` : "";
  return t("feedback.recipe_n", { n: rank }) + what;
}

function fill(feedback, recipes) {
  const recipe = clear(document.getElementById("fb-recipe_index"));
  recipe.append(h("option", { value: "", text: t("feedback.no_recipe") }));
  for (let rank = 1; rank <= recipes.length; rank += 1) {
    recipe.append(h("option", { value: String(rank), text: recipeLabel(recipes[rank - 1], rank),
                                selected: feedback?.recipe_index === rank }));
  }
  document.getElementById("fb-score").value = feedback ? feedback.score : "";
  for (const name of ["pros", "cons", "other"]) document.getElementById(`fb-${name}`).value = feedback?.[name] || "";
  clear(document.querySelector("#fb-products tbody"));
  for (const item of feedback?.products || []) {
    addRow(item.product_id, item.value, item.status === "active" ? null : item);
  }
  if (feedback) updatePreview(feedback.products.map((p) => p.fraction));
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const button = document.getElementById("fb-save");
  button.disabled = true;
  const recipe = document.getElementById("fb-recipe_index").value;
  const scoreText = document.getElementById("fb-score").value;
  const body = {
    score: scoreText === "" ? null : Number(scoreText),
    recipe_index: recipe ? Number(recipe) : null,
    pros: document.getElementById("fb-pros").value, cons: document.getElementById("fb-cons").value,
    other: document.getElementById("fb-other").value,
    products: rows().map((row) => ({ product_id: row.querySelector(".fb-product").value,
                                     value: Number(row.querySelector(".fb-value").value || "0") })),
  };
  try {
    const reply = await api(`/runs/${encodeURIComponent(runId)}/feedback`, { method: "PUT", body });
    if (!reply.ok) return showErrors(reply.error);
    document.getElementById("fb-saved").textContent = t("feedback.saved");
    updatePreview(reply.data.products.map((p) => p.fraction));
  } finally {
    button.disabled = false;
  }
}

/** Show the tab for this run: the form once it completed, a note before. */
export async function loadFeedback(id, run, output) {
  runId = id;
  const state = document.getElementById("feedback-state");
  if (run.status !== "completed") {
    state.textContent = t("feedback.not_completed");
    state.hidden = false;
    form.hidden = true;
    return;
  }
  const [products, presetList, existing] = await Promise.all([
    listAll("/products?status=active"), listAll("/product_presets?status=active"),
    api(`/runs/${encodeURIComponent(id)}/feedback`)]);
  catalogue = products.items;
  presets = presetList.items;
  const presetSelect = clear(document.getElementById("fb-preset"));
  presetSelect.append(h("option", { value: "", text: t("feedback.choose_preset") }),
    ...presets.map((p) => h("option", { value: p.preset_id, text: chemPlain(p.name) })));
  state.hidden = true;
  form.hidden = false;
  fill(existing.ok ? existing.data : null, output?.recipes_json?.recipes || []);
}

form.addEventListener("submit", save);
document.getElementById("fb-add-product").addEventListener("click", () => addRow().querySelector("select").focus());
document.getElementById("fb-fill").addEventListener("click", fillFromPreset);
