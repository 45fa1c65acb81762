// Run detail: status and actions, then tabs — Output (recipe cards with citations that open
// their evidence), Evidence, Trace (live over Server-Sent Events while the run runs).
import {
  TERMINAL, api, clear, confirmLlmCall, currentTheme, duration, every, formatTime, h, newKey, page,
  showRequestError, statusBadge, t, toast,
} from "./common.js";
import { chemNodes } from "./chem.js";
import { loadFeedback } from "./feedback.js";
import { predictionNode } from "./prediction.js";
import { showRecipeExperiments } from "./recipe_experiments.js";
import { loadRunMemory } from "./run_memory.js";
import { arguedBy, renderReasoning } from "./reasoning.js";

const runId = page.run_id;
const PRESETS = {
  all: [], llm: ["llm_request", "llm_response"], retrieval: ["kb_query", "kb_get", "kb_list"],
  agent: ["recap_info", "note_update", "run_started", "citations_resolved", "final_output"],
  errors: ["run_failed", "run_canceled"],
};
const FOLD_CHARS = 20000;
const state = { run: null, batch: null, runTag: null, output: null, citedBy: new Map(), tree: null,
                trace: { preset: "all", cursor: null, source: null, startedAt: null } };

// --- header -------------------------------------------------------------------------------

function fact(label, value, attrs = {}) {
  return [h("dt", { text: label }), h("dd", attrs, value)];
}

function renderHead() {
  const { run, batch } = state;
  clear(document.getElementById("run-status")).append(statusBadge(run.status));
  document.getElementById("run-mode").textContent = run.dry_run ? t("mode.dry_run") : t("mode.normal");
  document.getElementById("run-title").textContent = t("run.title", { n: run.run_index + 1 });
  document.getElementById("run-request").textContent = batch ? batch.user_request : "";
  clear(document.getElementById("run-facts")).append(
    ...fact(t("run.created"), formatTime(run.created_at)),
    ...fact(t("run.started"), formatTime(run.started_at)),
    ...fact(t("run.finished"), formatTime(run.finished_at)),
    ...fact(t("run.duration"), duration(run.started_at, run.finished_at)),
    ...fact(t("run.recipes"), batch ? String(batch.recipes_per_run) : "—"),
    ...fact(t("run.id"), run.run_id, { class: "mono" }));
  const error = document.getElementById("run-error");
  error.hidden = !run.error;
  if (run.error && error.dataset.shown !== run.error.code) {
    error.dataset.shown = run.error.code;
    clear(error).append(h("p", {}, h("strong", { text: run.error.code }), ": ", run.error.message || ""));
    showFailure(error);
  }
  const note = document.getElementById("run-cancel-note");
  note.hidden = !(run.cancel_requested && !TERMINAL.has(run.status));
  note.textContent = t("run.cancel_pending", { reason: run.cancel_reason || "—" });
  document.getElementById("cancel-run").hidden = TERMINAL.has(run.status) || run.cancel_requested;
  document.getElementById("rerun").hidden = !batch;
}

/** Under a failed run's error: its traceback when one was recorded, and the event itself. */
async function showFailure(panel) {
  const reply = await api(`/runs/${encodeURIComponent(runId)}/events?event_type=run_failed&include_payload=true&limit=1`);
  const event = reply.ok && reply.data.items[0];
  if (!event) return;
  const traceback = event.payload && event.payload.traceback;
  if (traceback) {
    panel.append(h("details", {}, h("summary", { text: t("run.traceback") }),
                   h("pre", { class: "chunk", text: traceback })));
  }
  panel.append(h("p", {}, h("a", { href: `${page.api}/runs/${encodeURIComponent(runId)}/events/${encodeURIComponent(event.event_id)}`,
                                   text: t("run.failed_event") }), " ",
                 h("span", { class: "mono muted", text: event.event_id })));
}

async function refreshRun() {
  const reply = await api(`/runs/${encodeURIComponent(runId)}`, { etag: state.runTag });
  if (!reply.ok) {
    if (reply.status === 404) showMissing();
    return !TERMINAL.has(state.run?.status);
  }
  if (!reply.notModified) {
    const was = state.run?.status;
    state.run = reply.data;
    state.runTag = reply.etag;
    if (!state.batch) {
      const batch = await api(`/batches/${encodeURIComponent(state.run.batch_id)}`);
      state.batch = batch.ok ? batch.data : null;
    }
    renderHead();
    if (was !== state.run.status) await loadOutput();
  }
  return !TERMINAL.has(state.run.status);
}

function showMissing() {
  clear(document.getElementById("main")).append(
    h("section", { class: "card" }, h("h1", { text: t("run.not_found") }),
      h("p", {}, h("a", { href: "/", text: t("nav.back_to_runs") }))));
}

async function cancelRun() {
  const reply = await api(`/runs/${encodeURIComponent(runId)}/cancel`, { method: "POST",
    body: { reason: t("run.cancel_reason_ui") } });
  if (!reply.ok) return toast(reply.error.message, "error");
  toast(reply.data.message, "info");
  state.runTag = null;
  await refreshRun();
}

async function rerun() {
  const batch = state.batch;
  const body = { user_request: batch.user_request, n_runs: 1, recipes_per_run: batch.recipes_per_run,
                 temperature: batch.temperature, dry_run: batch.dry_run,
                 overrides: batch.config_snapshot?.overrides_applied || {} };
  if (!body.dry_run && !(await confirmLlmCall(1))) return;
  const reply = await api("/batches", { method: "POST", body, headers: { "Idempotency-Key": newKey() } });
  if (!reply.ok) {
    const panel = document.getElementById("run-error");
    showRequestError(reply.error, { panel });
    return;
  }
  toast(t("run.rerun_started"), "success");
  location.assign(`/runs/${reply.data.runs[0].run_id}`);
}

// --- output ----------------------------------------------------------------------------------

function citedText(text) {
  const parts = String(text || "").split(/\[([CM]\d+)\]/);
  return parts.flatMap((part, index) => {
    if (index % 2 === 0) return chemNodes(part);
    const memory = part.startsWith("M");
    return h("button", { type: "button", class: memory ? "chip memory" : "chip", dataset: { alias: part },
                         aria: { label: t(memory ? "memory.open" : "evidence.open", { alias: part }) },
                         onclick: () => (memory ? openMemoryChip(part) : openEvidence(part)), text: part });
  });
}

/** An [M#] chip: the memory the output cites under that alias, in the evidence dialog. */
async function openMemoryChip(alias) {
  const dialog = document.getElementById("evidence-dialog");
  document.getElementById("evidence-title").textContent = t("memory.title", { alias });
  const facts = clear(document.getElementById("evidence-facts"));
  const text = document.getElementById("evidence-text");
  text.textContent = t("loading");
  dialog.showModal();
  const memoryId = (state.output?.citations?.[alias] || "").replace(/^mem:/, "");
  const reply = await api(`/memories/${encodeURIComponent(memoryId)}`);
  if (!reply.ok) {
    text.textContent = reply.error.message;
    return;
  }
  const item = reply.data;
  facts.append(...fact(t("memory.field.title"), h("span", {}, ...chemNodes(item.title))),
               ...fact(t("memory.field.polarity"), `${t(`memory.kind.${item.kind}`)} · ${t(`memory.polarity.${item.polarity}`)}`),
               ...fact(t("memory.from_run"), item.source_run_id || t("memory.by_chemist"), { class: "mono" }),
               ...fact(t("memory.open_page"), h("a", { href: `/memory#${encodeURIComponent(item.memory_id)}`, text: t("memory.open_page_link") })));
  clear(text).append(...chemNodes(item.content));
}

function structureImage(smiles, name) {
  const src = () => `${page.api}/structures/svg?smiles=${encodeURIComponent(smiles)}&theme=${currentTheme()}`;
  const img = h("img", { class: "structure", src: src(), width: 240, height: 180,
                         alt: t("recipe.structure_of", { name: name || smiles }) });
  document.addEventListener("c2xc:theme", () => { img.src = src(); });
  return img;
}

function modifierFacts(recipe) {
  const facts = recipe.modifier_structure;
  if (!facts) return h("p", { class: "hint", text: t("recipe.no_structure") });
  const nameState = facts.name_check === "verified" ? t("recipe.name_verified") : t("recipe.name_not_verified");
  return h("dl", { class: "facts compact" },
    ...fact(t("recipe.formula"), h("span", {}, ...chemNodes(facts.formula))),
    ...fact(t("recipe.mw"), t("recipe.mw_value", { mw: facts.molecular_weight })),
    ...fact(t("recipe.cooh"), String(facts.carboxylic_acid_groups)),
    ...fact(t("recipe.smiles"), facts.canonical_smiles, { class: "mono" }),
    ...fact(t("recipe.inchikey"), facts.inchikey, { class: "mono" }),
    ...fact(t("recipe.name_check"), nameState, { title: facts.name_check_note || "" }));
}

function recipeCard(recipe) {
  return h("li", { class: "card recipe", dataset: { rank: recipe.rank } },
    h("div", { class: "recipe-head" },
      h("span", { class: "rank", text: `#${recipe.rank}` }),
      h("span", { class: "metals", text: `${recipe.M1} · ${recipe.M2}` }),
      h("span", { class: "ratio", text: t("recipe.ratio", { ratio: recipe.atomic_ratio }) })),
    h("div", { class: "modifier" },
      recipe.modifier_smiles ? structureImage(recipe.modifier_smiles, recipe.small_molecule_modifier) : null,
      h("div", {}, h("h3", { text: recipe.small_molecule_modifier || "—" }), modifierFacts(recipe))),
    h("h4", { text: t("recipe.rationale") }),
    h("p", { class: "prose" }, citedText(recipe.rationale)),
    h("div", { class: "argued-slot" }, arguedBy(state.tree, recipe.rank, openNode)),
    state.run?.dry_run ? null : predictionNode(recipe.prediction, recipe.prediction_reason),
    h("div", { class: "made" }));
}

// --- reasoning --------------------------------------------------------------------------------

async function loadReasoning() {
  const reply = await api(`/runs/${encodeURIComponent(runId)}/reasoning`);
  if (!reply.ok || JSON.stringify(reply.data) === JSON.stringify(state.tree)) return;
  state.tree = reply.data;
  const container = document.getElementById("reasoning-tree");
  // a redraw keeps what the reader closed and where the keyboard focus was
  const closed = [...container.querySelectorAll(".node > details:not([open])")].map((d) => d.parentElement.id);
  const focused = document.activeElement?.closest?.(".node")?.id;
  renderReasoning(container, reply.data, citedText);
  for (const id of closed) document.querySelector(`#${id} > details`)?.removeAttribute("open");
  if (focused) document.querySelector(`#${focused} > details > summary`)?.focus();

  for (const card of document.querySelectorAll(".recipe")) {
    clear(card.querySelector(".argued-slot")).append(
      arguedBy(state.tree, Number(card.dataset.rank), openNode) || "");
  }
}

function openNode(nodeId) {
  selectTab("reasoning");
  const target = document.getElementById(`node-${nodeId}`);
  if (!target) return;
  target.querySelector("details").open = true;
  target.scrollIntoView({ block: "start" });
  target.querySelector("summary").focus();
}

async function loadOutput() {
  const stateBox = document.getElementById("output-state");
  const reply = await api(`/runs/${encodeURIComponent(runId)}/output`);
  if (!reply.ok) {
    document.getElementById("output").hidden = true;
    const status = reply.error.details?.status || state.run?.status;
    stateBox.textContent = reply.status === 409 ? t(`output.none_${status}`) : reply.error.message;
    stateBox.hidden = false;
    return;
  }
  state.output = reply.data;
  state.citedBy = new Map();
  for (const recipe of reply.data.recipes_json.recipes) {
    for (const alias of String(recipe.rationale).match(/C\d+(?=\])/g) || []) {
      state.citedBy.set(alias, [...new Set([...(state.citedBy.get(alias) || []), recipe.rank])]);
    }
  }
  stateBox.hidden = true;
  document.getElementById("output").hidden = false;
  clear(document.getElementById("recipes")).append(...reply.data.recipes_json.recipes.map(recipeCard));
  clear(document.getElementById("overall-notes")).append(...citedText(reply.data.recipes_json.overall_notes));
  await showRecipeExperiments(runId, state.run?.dry_run ?? true);
}

function outputJson() {
  return JSON.stringify(state.output, null, 2);
}

async function copyJson() {
  try {
    await navigator.clipboard.writeText(outputJson());
  } catch (e) { // plain http on a lab network has no clipboard API
    const area = h("textarea", { class: "offscreen" }, outputJson());
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast(t("output.copied"), "success");
}

function downloadJson() {
  const url = URL.createObjectURL(new Blob([outputJson()], { type: "application/json" }));
  const link = h("a", { href: url, download: `${runId}-output.json` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// --- evidence --------------------------------------------------------------------------------

const DOI = /^10\.\d{4,9}\/\S+$/;

function sourceLink(source) {
  return DOI.test(source)
    ? h("a", { href: `https://doi.org/${encodeURI(source)}`, rel: "noopener noreferrer", target: "_blank", text: source })
    : h("span", { text: source });
}

function kbName(namespace) {
  return t(`kb.${namespace}`);
}

async function openEvidence(alias) {
  const dialog = document.getElementById("evidence-dialog");
  document.getElementById("evidence-title").textContent = t("evidence.title", { alias });
  const facts = clear(document.getElementById("evidence-facts"));
  const text = document.getElementById("evidence-text");
  text.textContent = t("loading");
  dialog.showModal();
  const reply = await api(`/runs/${encodeURIComponent(runId)}/evidence/${encodeURIComponent(alias)}`);
  if (!reply.ok) {
    text.textContent = reply.error.message;
    return;
  }
  const item = reply.data;
  facts.append(...fact(t("evidence.source"), sourceLink(item.source)),
               ...fact(t("evidence.kb"), kbName(item.kb_namespace)),
               ...fact(t("evidence.cited_by"), citedByText(alias)),
               ...fact(t("evidence.ref"), item.ref, { class: "mono" }));
  text.textContent = item.content;
}

function citedByText(alias) {
  const ranks = state.citedBy.get(alias) || [];
  return ranks.length ? ranks.map((r) => `#${r}`).join(" ") : t("evidence.not_cited");
}

async function loadEvidence() {
  const items = [];
  let cursor = null;
  do {
    const reply = await api(`/runs/${encodeURIComponent(runId)}/evidence?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (!reply.ok) return;
    items.push(...reply.data.items);
    cursor = reply.data.next_cursor;
  } while (cursor);
  const list = clear(document.getElementById("evidence-list"));
  document.getElementById("evidence-empty").hidden = items.length > 0;
  for (const item of items) {
    const body = h("pre", { class: "chunk", hidden: true });
    const toggle = h("button", { type: "button", class: "ghost small", aria: { expanded: "false" },
                                 text: t("evidence.show_text") });
    toggle.addEventListener("click", async () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      toggle.textContent = open ? t("evidence.show_text") : t("evidence.hide_text");
      body.hidden = open;
      if (!open && !body.textContent) {
        const reply = await api(`/runs/${encodeURIComponent(runId)}/evidence/${encodeURIComponent(item.alias)}`);
        body.textContent = reply.ok ? reply.data.content : reply.error.message;
      }
    });
    list.append(h("li", { class: "card evidence" },
      h("div", { class: "evidence-head" },
        h("button", { type: "button", class: "chip", onclick: () => openEvidence(item.alias), text: item.alias }),
        sourceLink(item.source), h("span", { class: "tag", text: kbName(item.kb_namespace) }),
        h("span", { class: "muted", text: `${t("evidence.cited_by")}: ${citedByText(item.alias)}` }), toggle),
      body));
  }
}

// --- trace -----------------------------------------------------------------------------------

function sizeText(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

function traceRow(event) {
  const body = h("div", { class: "payload", hidden: true });
  const offset = state.trace.startedAt ? `+${(event.created_at - state.trace.startedAt).toFixed(2)} s` : "";
  const toggle = h("button", { type: "button", class: "event-toggle", aria: { expanded: "false" } },
    h("span", { class: `event-type type-${event.event_type}`, text: t(`event.${event.event_type}`) }),
    h("span", { class: "mono muted", text: event.event_type }),
    h("time", { class: "muted", title: formatTime(event.created_at), text: offset }),
    h("span", { class: "muted", text: sizeText(event.payload_bytes) }));
  toggle.addEventListener("click", async () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    body.hidden = open;
    if (!open && !body.firstChild) await showPayload(event, body);
  });
  return h("li", { class: "event", dataset: { eventType: event.event_type } }, toggle, body);
}

async function showPayload(event, body) {
  body.append(h("p", { class: "muted", text: t("loading") }));
  const reply = await api(`/runs/${encodeURIComponent(runId)}/events/${encodeURIComponent(event.event_id)}`);
  clear(body);
  if (!reply.ok) return body.append(h("p", { text: reply.error.message }));
  const text = JSON.stringify(reply.data.payload, null, 2);
  const pre = h("pre", { class: "json", text: text.length > FOLD_CHARS ? text.slice(0, FOLD_CHARS) : text });
  body.append(pre);
  if (text.length > FOLD_CHARS) {
    const more = h("button", { type: "button", class: "ghost small",
                               text: t("trace.show_all", { size: sizeText(text.length) }) });
    more.addEventListener("click", () => { pre.textContent = text; more.remove(); });
    body.append(more);
  }
}

function traceQuery(extra) {
  const params = new URLSearchParams(extra);
  for (const type of PRESETS[state.trace.preset]) params.append("event_type", type);
  return params;
}

function appendEvents(events) {
  const list = document.getElementById("trace-list");
  if (!state.trace.startedAt && events.length) state.trace.startedAt = events[0].created_at;
  list.append(...events.map(traceRow));
  document.getElementById("trace-empty").hidden = list.children.length > 0 || Boolean(state.run?.trace_pruned_at);
}

function stopLive() {
  if (state.trace.source) state.trace.source.close();
  state.trace.source = null;
  document.getElementById("live-indicator").hidden = true;
}

function followLive() {
  stopLive();
  if (!state.run || TERMINAL.has(state.run.status)) return;
  const params = traceQuery(state.trace.cursor ? { after: state.trace.cursor } : {});
  const source = new EventSource(`${page.api}/runs/${encodeURIComponent(runId)}/events/stream?${params}`);
  state.trace.source = source;
  document.getElementById("live-indicator").hidden = false;
  source.onmessage = (message) => {
    state.trace.cursor = message.lastEventId;
    appendEvents([JSON.parse(message.data)]);
  };
  source.onerror = () => { // the server ends the stream after the run's last event
    if (source.readyState === EventSource.CLOSED || TERMINAL.has(state.run.status)) stopLive();
  };
}

async function loadTrace(more = false) {
  if (!more) {
    stopLive();
    clear(document.getElementById("trace-list"));
    state.trace.cursor = null;
  }
  const reply = await api(`/runs/${encodeURIComponent(runId)}/events?${traceQuery(
    { limit: "200", ...(state.trace.cursor ? { cursor: state.trace.cursor } : {}) })}`);
  if (!reply.ok) return;
  const pruned = document.getElementById("trace-pruned");
  pruned.hidden = !state.run?.trace_pruned_at;
  document.querySelector("#panel-trace .presets").hidden = !pruned.hidden;
  if (state.run?.trace_pruned_at) {
    pruned.textContent = t("trace.pruned", { when: formatTime(state.run.trace_pruned_at) });
  }
  appendEvents(reply.data.items);
  if (reply.data.items.length) state.trace.cursor = reply.data.items.at(-1).cursor;
  document.getElementById("trace-more").hidden = !reply.data.has_more;
  if (!reply.data.has_more) followLive();
}

function setPreset(preset) {
  state.trace.preset = preset;
  for (const button of document.querySelectorAll(".preset")) {
    button.setAttribute("aria-pressed", String(button.dataset.preset === preset));
  }
  loadTrace();
}

// --- tabs ------------------------------------------------------------------------------------

const TABS = ["output", "reasoning", "evidence", "trace", "feedback", "memory"];
const loaded = new Set();

function selectTab(name, focus = false) {
  for (const tab of TABS) {
    const button = document.getElementById(`tab-${tab}`);
    const selected = tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    document.getElementById(`panel-${tab}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  history.replaceState(null, "", `#${name}`);
  if (!loaded.has(name)) {
    loaded.add(name);
    if (name === "evidence") loadEvidence();
    if (name === "trace") loadTrace();
    if (name === "reasoning") loadReasoning();
    if (name === "feedback") loadFeedback(runId, state.run, state.output);
    if (name === "memory") loadRunMemory(runId, state.run);
  } else if (name === "memory") {
    loadRunMemory(runId, state.run);
  } else if (name === "evidence") {
    loadEvidence();
  } else if (name === "reasoning" && !TERMINAL.has(state.run?.status)) {
    loadReasoning();
  }
}

document.querySelector(".tabs").addEventListener("keydown", (event) => {
  const current = TABS.findIndex((tab) => document.getElementById(`tab-${tab}`).getAttribute("aria-selected") === "true");
  const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -current, End: TABS.length - 1 - current };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(TABS[(current + moves[event.key] + TABS.length) % TABS.length], true);
});
for (const tab of TABS) document.getElementById(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
for (const button of document.querySelectorAll(".preset")) {
  button.addEventListener("click", () => setPreset(button.dataset.preset));
}
document.getElementById("trace-more").addEventListener("click", () => loadTrace(true));
document.getElementById("cancel-run").addEventListener("click", cancelRun);
document.getElementById("rerun").addEventListener("click", rerun);
document.getElementById("copy-json").addEventListener("click", copyJson);
document.getElementById("download-json").addEventListener("click", downloadJson);

const stillRunning = await refreshRun(); // also loads the output, once
if (state.run) {
  await loadReasoning(); // the recipe cards link to the nodes that argued for them
  loaded.add("reasoning");
  selectTab(TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "output");
  // A link or typed address to another tab of this page (#trace, #feedback) opens that tab.
  window.addEventListener("hashchange", () => {
    const tab = location.hash.slice(1);
    if (TABS.includes(tab)) selectTab(tab);
  });
  if (stillRunning) {
    every(1500, async () => {
      const going = await refreshRun();
      if (!going && loaded.has("evidence")) loadEvidence();
      if (!going && loaded.has("feedback")) loadFeedback(runId, state.run, state.output);
      if (loaded.has("reasoning"))
 loadReasoning(); // the tree grows while the run runs
      return going;
    });
  }
}
