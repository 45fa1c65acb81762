// The Experiments page: the plot of what the lab measured, every experiment with its status and
// result (record one in a dialog, as on the Feedback tab), CSV import with its row-by-row report
// before anything is stored, and the export. Changes go through the JSON API with If-Match, so
// an edit made meanwhile elsewhere is never overwritten silently.
import { chemNodes, chemPlain } from "./chem.js";
import { ago, api, clear, flattenFields, h, listAll, page, t, toast } from "./common.js";
import { describePlot, drawCalibration, drawPlot, plotRows, plotTableRows, recipeLabel } from "./experiments_plot.js";

const state = { products: [], items: [], cursor: null, editing: null, checkedFile: null };
const NEXT = { planned: ["in_lab", "measured", "failed"], in_lab: ["measured", "failed"], measured: [], failed: [] };

function objective() {
  return document.getElementById("objective").value || "C2H4";
}

function statusBadge(status) {
  return h("span", { class: `badge experiment-${status}`, text: t(`experiment.status.${status}`) });
}

function resultCell(e) {
  const cell = h("td", {});
  if (e.products.length) {
    cell.append(...e.products.flatMap((p, i) => [i ? ", " : "", h("span", {}, ...chemNodes(p.name)),
                                                 ` ${(p.fraction * 100).toFixed(1)} %`]));
  }
  if (e.score !== null) cell.append(e.products.length ? " · " : "", t("experiment.score", { score: e.score }));
  if (!e.products.length && e.score === null) cell.append("—");
  if (e.notes) cell.append(h("div", { class: "hint", text: e.notes }));
  return cell;
}

function sourceCell(e) {
  if (e.feedback_run_id) {
    return h("td", {}, h("a", { href: `/runs/${encodeURIComponent(e.feedback_run_id)}#feedback`,
                                text: t("experiment.from_feedback") }));
  }
  if (e.source) {
    return h("td", {}, h("a", { href: `/runs/${encodeURIComponent(e.source.run_id)}`,
                                text: t("experiment.from_run", { rank: e.source.rank }) }));
  }
  return h("td", { text: e.extra?.imported ? t("experiment.imported") : t("experiment.by_hand") });
}

function actionsCell(e) {
  const cell = h("td", { class: "actions-cell" });
  if (e.status === "planned") {
    cell.append(h("button", { type: "button", class: "ghost small", text: t("experiment.start"),
                              onclick: () => patch(e, { status: "in_lab" }) }));
  }
  cell.append(h("button", { type: "button", class: "ghost small",
                            text: e.status === "measured" || e.status === "failed" ? t("experiment.edit")
                              : t("experiment.record"), onclick: () => openDialog(e) }));
  cell.append(h("button", { type: "button", class: "ghost small",
                            text: e.archived ? t("experiment.restore") : t("experiment.archive"),
                            onclick: () => patch(e, { archived: !e.archived }) }));
  return cell;
}

function shareOf(e) {
  const p = e.products.find((x) => chemPlain(x.name).toLowerCase() === chemPlain(objective()).toLowerCase());
  return p ? p.fraction : -1;
}

function sorted(items) {
  const by = document.getElementById("sort").value;
  const copy = [...items];
  if (by === "share") copy.sort((a, b) => shareOf(b) - shareOf(a));
  if (by === "recipe") copy.sort((a, b) => recipeLabel(a.recipe).localeCompare(recipeLabel(b.recipe)));
  if (by === "status") copy.sort((a, b) => a.status.localeCompare(b.status));
  return copy;
}

function renderTable() {
  const body = clear(document.querySelector("#experiment-table tbody"));
  for (const e of sorted(state.items)) {
    body.append(h("tr", { dataset: { id: e.experiment_id } },
      h("th", { scope: "row" }, h("span", { text: recipeLabel(e.recipe) }),
        e.recipe ? h("div", { class: "hint mono", text: e.recipe.recipe_key }) : null),
      h("td", {}, statusBadge(e.status)), resultCell(e), sourceCell(e),
      h("td", { text: ago(e.updated_at) }), actionsCell(e)));
  }
  document.getElementById("experiments-empty").hidden = state.items.length > 0;
  document.getElementById("experiments-more").hidden = !state.cursor;
}

function listQuery() {
  const params = new URLSearchParams({ limit: "50" });
  const status = document.getElementById("filter-status").value;
  const metal = document.getElementById("filter-metal").value.trim();
  if (status) params.set("status", status);
  if (metal) params.set("metal", metal);
  if (document.getElementById("filter-archived").checked) params.set("archived", "true");
  return params;
}

async function loadList(more = false) {
  const params = listQuery();
  if (more && state.cursor) params.set("cursor", state.cursor);
  const reply = await api(`/experiments?${params}`);
  if (!reply.ok) { toast(reply.error.message, "error"); return; }
  state.items = more ? [...state.items, ...reply.data.items] : reply.data.items;
  state.cursor = reply.data.next_cursor;
  renderTable();
}

async function loadPlot() {
  const [measured, failed] = await Promise.all([listAll("/experiments?status=measured"),
                                                listAll("/experiments?status=failed")]);
  const rows = plotRows([...measured.items, ...failed.items], objective());
  const figure = document.getElementById("plot");
  document.getElementById("plot-empty").hidden = rows.length > 0;
  figure.hidden = rows.length === 0;
  if (rows.length) drawPlot(figure, rows, objective());
  document.getElementById("plot-summary").textContent = describePlot(rows, objective());
  clear(document.querySelector("#plot-table tbody")).append(...plotTableRows(rows));
}

async function loadCalibration() {
  const reply = await api(`/predictions/calibration?objective=${encodeURIComponent(objective())}`);
  const figure = document.getElementById("calibration");
  const empty = document.getElementById("calibration-empty");
  const summary = document.getElementById("calibration-summary");
  const usable = reply.ok && reply.data.items.length > 0;
  figure.hidden = !usable;
  summary.hidden = !usable;
  empty.hidden = usable;
  if (!usable) {
    empty.textContent = reply.ok ? t("prediction.none_short") : reply.error.message;
    empty.title = reply.ok ? reply.data.reason || "" : "";
    return;
  }
  drawCalibration(figure, reply.data);
  const inside = reply.data.items.filter((i) => i.low <= i.measured && i.measured <= i.high).length;
  summary.textContent = t("calibration.summary", { inside, n: reply.data.items.length,
                                                   share: `${Math.round(reply.data.coverage80 * 100)} %`, level: "80 %" });
}

async function patch(e, changes) {
  const reply = await api(`/experiments/${encodeURIComponent(e.experiment_id)}`,
                          { method: "PATCH", body: changes, headers: { "If-Match": `"${e.version}"` } });
  if (!reply.ok) {
    toast(reply.status === 412 ? t("experiment.changed_elsewhere") : reply.error.message, "error");
    await loadList();
    return null;
  }
  toast(t("experiment.saved"));
  await Promise.all([loadList(), loadPlot(), loadCalibration()]);
  return reply.data;
}

// --- the result dialog ------------------------------------------------------------------------

function productRow(productId = "", value = "") {
  const select = h("select", { class: "rp-product", aria: { label: t("feedback.choose_product") } },
    h("option", { value: "", text: t("feedback.choose_product") }),
    state.products.filter((p) => p.status === "active").map((p) =>
      h("option", { value: p.product_id, selected: p.product_id === productId, text: chemPlain(p.name) })));
  const amount = h("input", { type: "number", min: "0", step: "any", class: "rp-value", value,
                              aria: { label: t("experiment.amount") } });
  const row = h("tr", {}, h("td", {}, select), h("td", {}, amount), h("td", { class: "rp-share mono", text: "—" }),
    h("td", {}, h("button", { type: "button", class: "ghost small", text: t("feedback.remove"),
                              onclick: () => { row.remove(); preview(); } })));
  amount.addEventListener("input", preview);
  document.querySelector("#result-products tbody").append(row);
  preview();
}

function preview() {
  const rows = [...document.querySelectorAll("#result-products tbody tr")];
  const values = rows.map((r) => Number(r.querySelector(".rp-value").value) || 0);
  const total = values.reduce((a, b) => a + b, 0);
  rows.forEach((r, i) => {
    r.querySelector(".rp-share").textContent = total > 0 ? `${(values[i] / total * 100).toFixed(1)} %` : "—";
  });
}

function openDialog(e) {
  state.editing = e;
  const fromFeedback = Boolean(e.feedback_run_id);
  document.getElementById("result-recipe").textContent = recipeLabel(e.recipe);
  const status = document.getElementById("result-status");
  for (const option of status.options) {
    option.disabled = !(option.value === e.status || NEXT[e.status].includes(option.value));
  }
  status.value = e.status === "planned" || e.status === "in_lab" ? "measured" : e.status;
  status.disabled = fromFeedback;
  document.getElementById("result-score").value = e.score ?? "";
  document.getElementById("result-score").disabled = fromFeedback;
  document.getElementById("result-conditions").value = e.conditions;
  document.getElementById("result-notes").value = e.notes;
  clear(document.querySelector("#result-products tbody"));
  for (const p of e.products) productRow(p.product_id, p.value);
  if (!e.products.length && !fromFeedback) productRow();
  document.getElementById("result-products").hidden = fromFeedback;
  document.getElementById("result-add-product").hidden = fromFeedback;
  const error = document.getElementById("result-error");
  error.hidden = !fromFeedback;
  clear(error).append(fromFeedback ? t("experiment.feedback_owned") : "");
  error.className = fromFeedback ? "panel note" : "panel error";
  document.getElementById("result-dialog").showModal();
}

async function saveDialog(event) {
  event.preventDefault();
  const e = state.editing;
  const changes = { conditions: document.getElementById("result-conditions").value,
                    notes: document.getElementById("result-notes").value };
  if (!e.feedback_run_id) {
    const status = document.getElementById("result-status").value;
    if (status !== e.status) changes.status = status;
    const products = [...document.querySelectorAll("#result-products tbody tr")]
      .map((r) => ({ product_id: r.querySelector(".rp-product").value, value: r.querySelector(".rp-value").value }))
      .filter((p) => p.product_id && p.value !== "").map((p) => ({ ...p, value: Number(p.value) }));
    const score = document.getElementById("result-score").value;
    if (status === "measured") {
      changes.products = products;
      changes.score = score === "" ? null : Number(score);
    }
  }
  const reply = await api(`/experiments/${encodeURIComponent(e.experiment_id)}`,
                          { method: "PATCH", body: changes, headers: { "If-Match": `"${e.version}"` } });
  const error = document.getElementById("result-error");
  if (!reply.ok) {
    error.className = "panel error";
    error.hidden = false;
    const fields = flattenFields(reply.error.details?.fields);
    clear(error).append(reply.status === 412 ? t("experiment.changed_elsewhere") : reply.error.message,
      ...Object.entries(fields).map(([k, v]) => h("div", { class: "hint", text: `${k}: ${v.join(" ")}` })));
    return;
  }
  document.getElementById("result-dialog").close();
  toast(t("experiment.saved"));
  await Promise.all([loadList(), loadPlot()]);
}

// --- import -----------------------------------------------------------------------------------

async function sendFile(file, dryRun) {
  const response = await fetch(`${page.api}/experiments/import?dry_run=${dryRun}`, {
    method: "POST", body: file, headers: { "Content-Type": "text/csv", "X-C2XC-Request": "1", Accept: "application/json" } });
  const data = await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, data };
}

function report(reply) {
  const box = clear(document.getElementById("import-report"));
  const go = document.getElementById("import-go");
  if (reply.ok) {
    const counts = Object.entries(reply.data.by_status).map(([s, n]) => `${n} ${t(`experiment.status.${s}`)}`).join(", ");
    box.append(h("div", { class: "panel note" },
      h("p", { text: reply.data.dry_run ? t("import.all_good", { rows: reply.data.rows, counts })
        : t("import.stored", { rows: reply.data.stored }) }),
      reply.data.ignored_columns.length ? h("p", { class: "hint",
        text: t("import.ignored", { columns: reply.data.ignored_columns.join(", ") }) }) : null));
    go.hidden = !reply.data.dry_run;
    return;
  }
  go.hidden = true;
  const error = reply.data?.error || { message: t("error.unreachable"), details: {} };
  const rows = error.details?.rows || [];
  box.append(h("div", { class: "panel error", role: "alert" }, h("p", { text: error.message }),
    rows.length ? h("div", { class: "table-wrap" }, h("table", { class: "compact" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("import.line") }),
                                h("th", { scope: "col", text: t("import.problems") }))),
      h("tbody", {}, rows.map((r) => h("tr", {}, h("td", { class: "mono", text: String(r.line) }),
                                             h("td", {}, r.problems.map((p) => h("div", { text: p })))))))) : null));
}

async function checkFile(event) {
  event.preventDefault();
  const file = document.getElementById("import-file").files[0];
  if (!file) { toast(t("import.choose"), "error"); return; }
  state.checkedFile = file;
  report(await sendFile(file, true));
}

async function importFile() {
  if (!state.checkedFile) return;
  const reply = await sendFile(state.checkedFile, false);
  report(reply);
  if (reply.ok) await Promise.all([loadList(), loadPlot()]);
}

async function start() {
  const products = await listAll("/products");
  state.products = products.items;
  const select = document.getElementById("objective");
  const names = state.products.map((p) => p.name);
  for (const name of names.length ? names : ["C2H4"]) {
    select.append(h("option", { value: name, selected: chemPlain(name) === "C2H4", text: chemPlain(name) }));
  }
  select.addEventListener("change", () => { loadPlot(); loadCalibration(); renderTable(); });
  document.getElementById("filters").addEventListener("submit", (e) => { e.preventDefault(); loadList(); });
  document.getElementById("sort").addEventListener("change", renderTable);
  document.getElementById("experiments-more").addEventListener("click", () => loadList(true));
  document.getElementById("result-form").addEventListener("submit", saveDialog);
  document.getElementById("result-cancel").addEventListener("click", () => document.getElementById("result-dialog").close());
  document.getElementById("result-add-product").addEventListener("click", () => productRow());
  document.getElementById("import-form").addEventListener("submit", checkFile);
  document.getElementById("import-go").addEventListener("click", importFile);
  await Promise.all([loadList(), loadPlot(), loadCalibration()]);
}

start();
