// Runs (home page): create a batch, and watch batches and their runs without reloading.
// Statuses are refreshed by conditional polling (ETag): an unchanged list costs a 304.
import {
  TERMINAL, ago, api, clear, confirmLlmCall, every, formatTime, h, newKey, page, showRequestError,
  statusBadge, t, toast,
} from "./common.js";

const PAGE_SIZE = 20;
const POLL_MS = 2000;
const HIDDEN_KEY = "c2xc.hidden-batches";

const form = document.getElementById("batch-form");
const list = document.getElementById("batch-list");
const statusFilter = document.getElementById("status-filter");
const showHidden = document.getElementById("show-hidden");
const search = document.getElementById("search");
const loadMore = document.getElementById("load-more");
const formError = document.getElementById("form-error");

const state = { batches: new Map(), order: [], runs: new Map(), runTags: new Map(),
                listTag: null, cursor: null };
let formKey = newKey(); // one Idempotency-Key per filled-in form: a double click creates one batch

function hidden() {
  try { return new Set(JSON.parse(localStorage.getItem(HIDDEN_KEY) || "[]")); } catch (e) { return new Set(); }
}

function setHidden(batchId, hide) {
  const ids = hidden();
  if (hide) ids.add(batchId); else ids.delete(batchId);
  try { localStorage.setItem(HIDDEN_KEY, JSON.stringify([...ids])); } catch (e) { /* not remembered */ }
  render();
}

const COMPARE_KEY = "c2xc.compare";
const MAX_COMPARED = 4;

function compared() {
  try { return JSON.parse(sessionStorage.getItem(COMPARE_KEY) || "[]"); } catch (e) { return []; }
}

function toggleCompared(runId, on) {
  const ids = compared().filter((id) => id !== runId);
  if (on) ids.push(runId);
  try { sessionStorage.setItem(COMPARE_KEY, JSON.stringify(ids.slice(-MAX_COMPARED))); } catch (e) { /* kept in the page */ }
  renderCompareBar();
  render();
}

function renderCompareBar() {
  const ids = compared();
  const bar = document.getElementById("compare-bar");
  bar.hidden = ids.length === 0;
  const go = document.getElementById("compare-go");
  go.textContent = t("compare.go", { n: ids.length });
  go.setAttribute("aria-disabled", String(ids.length < 2));
  go.href = ids.length >= 2 ? `/compare?runs=${ids.map(encodeURIComponent).join(",")}` : "#";
}

function runChip(run) {
  const picked = compared().includes(run.run_id);
  return h("li", { class: "run-chip-wrap" }, h("a", { class: `run-chip status-${run.status}`, href: `/runs/${run.run_id}` },
    h("span", { text: t("run.number", { n: run.run_index + 1 }) }), " ", statusBadge(run.status),
    run.cancel_requested && !TERMINAL.has(run.status) ? h("span", { class: "tag", text: t("run.cancel_requested") }) : null),
    run.status === "completed" ? h("label", { class: "compare-pick" },
      h("input", { type: "checkbox", checked: picked, onchange: (e) => toggleCompared(run.run_id, e.target.checked),
                   aria: { label: t("compare.pick_run", { n: run.run_index + 1 }) } }), t("compare.box")) : null);
}

async function cancelBatch(batch) {
  if (!window.confirm(t("batch.cancel_confirm", { n: batch.n_runs }))) return;
  const reply = await api(`/batches/${encodeURIComponent(batch.batch_id)}/cancel`,
                          { method: "POST", body: { reason: t("batch.cancel_reason_ui") } });
  if (!reply.ok) { toast(reply.error.message, "error"); return; }
  toast(t("batch.cancel_done"));
  state.runTags.delete(batch.batch_id);
  await refreshRuns(batch);
  await loadFirstPage(true);
}

function batchCard(batch) {
  const isHidden = hidden().has(batch.batch_id);
  const runs = state.runs.get(batch.batch_id) || [];
  const cancelable = !TERMINAL.has(batch.status) && !runs.every((r) => r.cancel_requested || TERMINAL.has(r.status));
  return h("li", { class: `card batch${isHidden ? " is-hidden" : ""}`, dataset: { batchId: batch.batch_id } },
    h("div", { class: "batch-head" },
      statusBadge(batch.status),
      h("span", { class: "tag", text: batch.dry_run ? t("mode.dry_run") : t("mode.normal") }),
      h("time", { datetime: new Date(batch.created_at * 1000).toISOString(), title: formatTime(batch.created_at),
                  text: ago(batch.created_at) }),
      h("span", { class: "muted", text: t("batch.shape", { runs: batch.n_runs, recipes: batch.recipes_per_run }) }),
      h("button", { type: "button", class: "ghost small", onclick: () => setHidden(batch.batch_id, !isHidden),
                    text: isHidden ? t("batch.unhide") : t("batch.hide") }),
      cancelable ? h("button", { type: "button", class: "danger small", onclick: () => cancelBatch(batch),
                                 text: t("batch.cancel") }) : null,
      TERMINAL.has(batch.status) || batch.status === "running"
        ? h("a", { class: "small", download: "", text: t("batch.export"),
                   href: `${page.api}/export/recipes.csv?bom=true&batch_id=${encodeURIComponent(batch.batch_id)}` })
        : null,
      !batch.dry_run && (batch.run_counts?.completed || 0) > 0
        ? h("a", { class: "small", text: t("plan.from_batch"),
                   href: `/plan?batch_id=${encodeURIComponent(batch.batch_id)}` })
        : null),
    h("p", { class: "request-text clamp", text: batch.user_request }),
    h("ol", { class: "run-chips", aria: { label: t("batch.runs") } }, runs.map(runChip)));
}

const cards = new Map(); // batch id -> {signature, element}: unchanged cards are kept as they are

function render() {
  const hide = hidden();
  const visible = state.order.map((id) => state.batches.get(id))
    .filter((batch) => showHidden.checked || !hide.has(batch.batch_id));
  const wanted = visible.map((batch) => {
    const signature = JSON.stringify([batch, state.runs.get(batch.batch_id), hide.has(batch.batch_id), compared()]);
    const known = cards.get(batch.batch_id);
    if (known && known.signature === signature) return known.element;
    const element = batchCard(batch);
    const hadFocus = known && known.element.contains(document.activeElement);
    if (known) known.element.replaceWith(element);
    cards.set(batch.batch_id, { signature, element });
    if (hadFocus) element.querySelector("button")?.focus();
    return element;
  });
  for (const [id, card] of cards) {
    if (!wanted.includes(card.element)) { card.element.remove(); cards.delete(id); }
  }
  wanted.forEach((element, index) => {
    if (list.children[index] !== element) list.insertBefore(element, list.children[index] || null);
  });
  document.getElementById("empty-list").hidden = visible.length > 0;
  loadMore.hidden = !state.cursor;
}


async function refreshRuns(batch) {
  const reply = await api(`/runs?batch_id=${encodeURIComponent(batch.batch_id)}&limit=5`,
                          { etag: state.runTags.get(batch.batch_id) });
  if (!reply.ok || reply.notModified) return false;
  state.runs.set(batch.batch_id, reply.data.items);
  state.runTags.set(batch.batch_id, reply.etag);
  return true;
}

function listQuery(cursor) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (statusFilter.value) params.set("status", statusFilter.value);
  if (search.value.trim()) params.set("q", search.value.trim());
  if (cursor) params.set("cursor", cursor);
  return `/batches?${params}`;
}

async function loadFirstPage(force = false) {
  const reply = await api(listQuery(), { etag: force ? null : state.listTag });
  if (!reply.ok) {
    if (reply.status === 0) toast(t("error.unreachable"), "error");
    return;
  }
  let changed = false;
  if (!reply.notModified) {
    state.listTag = reply.etag;
    const firstIds = reply.data.items.map((b) => b.batch_id);
    for (const batch of reply.data.items) state.batches.set(batch.batch_id, batch);
    if (force) {
      state.order = firstIds;
      state.cursor = reply.data.next_cursor;
    } else {
      state.order = [...firstIds, ...state.order.filter((id) => !firstIds.includes(id))];
    }
    changed = true;
  }
  const open = state.order.map((id) => state.batches.get(id))
    .filter((b) => !TERMINAL.has(b.status) || !state.runs.has(b.batch_id) ||
      state.runs.get(b.batch_id).some((r) => !TERMINAL.has(r.status)));
  const updated = await Promise.all(open.map(refreshRuns));
  if (changed || updated.some(Boolean)) render();
}

async function loadNextPage() {
  const reply = await api(listQuery(state.cursor));
  if (!reply.ok) return toast(reply.error.message, "error");
  for (const batch of reply.data.items) {
    state.batches.set(batch.batch_id, batch);
    if (!state.order.includes(batch.batch_id)) state.order.push(batch.batch_id);
  }
  state.cursor = reply.data.next_cursor;
  await Promise.all(reply.data.items.map(refreshRuns));
  render();
}

function formBody() {
  const number = (id) => Number(document.getElementById(id).value);
  return {
    user_request: document.getElementById("user_request").value,
    n_runs: number("n_runs"), recipes_per_run: number("recipes_per_run"),
    temperature: number("temperature"), dry_run: document.getElementById("dry_run").checked,
    memory: document.getElementById("use_memory").checked,
  };
}

async function submit(event) {
  event.preventDefault();
  const button = document.getElementById("create-batch");
  if (button.disabled) return;
  const body = formBody();
  if (!body.dry_run && !(await confirmLlmCall(body.n_runs))) return;
  button.disabled = true;
  formError.hidden = true;
  try {
    const reply = await api("/batches", { method: "POST", body, headers: { "Idempotency-Key": formKey } });
    if (!reply.ok) {
      showRequestError(reply.error, { panel: formError });
      return;
    }
    formKey = newKey();
    form.reset();
    for (const old of document.querySelectorAll(".field-error")) old.hidden = true;
    toast(t("batch.created"), "success");
    state.batches.set(reply.data.batch.batch_id, reply.data.batch);
    state.order = [reply.data.batch.batch_id, ...state.order.filter((id) => id !== reply.data.batch.batch_id)];
    state.runs.set(reply.data.batch.batch_id, reply.data.runs.map((r) => ({ ...r, cancel_requested: false })));
    render();
  } finally {
    button.disabled = false;
  }
}

form.addEventListener("submit", submit);
statusFilter.addEventListener("change", () => loadFirstPage(true));
let typing = null;
search.addEventListener("input", () => {  // search as one types, once the typing pauses
  clearTimeout(typing);
  typing = setTimeout(() => { state.order = []; loadFirstPage(true); }, 300);
});
showHidden.addEventListener("change", render);
loadMore.addEventListener("click", loadNextPage);
document.getElementById("compare-clear").addEventListener("click", () => {
  try { sessionStorage.removeItem(COMPARE_KEY); } catch (e) { /* nothing kept */ }
  renderCompareBar();
  render();
});
renderCompareBar();
await loadFirstPage(true);
every(POLL_MS, () => loadFirstPage());
