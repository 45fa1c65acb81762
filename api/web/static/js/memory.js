// The Memory page: search and filter the lab memory, read one memory with its provenance and
// history (each change undoable), correct or archive it, add a chemist's note.
import { api, clear, formatTime, h, showRequestError, t, toast } from "./common.js";
import { chemNodes } from "./chem.js";
import { deltaView, memoryBadges, memoryLink } from "./memory_view.js";

const list = document.getElementById("memory-list");
const detail = document.getElementById("memory-detail");
const FILTERS = ["kind", "role", "polarity", "status", "metal", "modifier"];
let nextCursor = null;

function searching() {
  return document.getElementById("memory-q").value.trim() !== "";
}

/** A search by meaning covers active memories only: the Status filter says so while one is typed. */
function syncStatus() {
  const status = document.getElementById("memory-status");
  if (searching()) status.value = "active";
  status.disabled = searching();
}

function query(extra = {}) {
  const params = new URLSearchParams();
  const q = document.getElementById("memory-q").value.trim();
  if (q) params.set("q", q);
  for (const name of FILTERS) {
    const value = document.getElementById(`memory-${name}`).value.trim();
    if (value && !(q && name === "status")) params.set(name, value);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

function filtered() {
  return searching() || FILTERS.some((name) => name !== "status" && document.getElementById(`memory-${name}`).value.trim())
    || document.getElementById("memory-status").value !== "active";
}

function row(item) {
  return h("li", { class: "memory-row" },
    h("button", { type: "button", class: "link", onclick: () => openMemory(item.memory_id, true) }, ...chemNodes(item.title)),
    " ", memoryBadges(item),
    item.score != null ? h("span", { class: "muted", text: ` ${t("memory.score", { score: item.score.toFixed(3) })}` }) : null,
    h("p", { class: "muted clamp" }, ...chemNodes(item.content)));
}

async function loadList(more = false) {
  const params = query(more && nextCursor ? { cursor: nextCursor, limit: 50 } : { limit: 50 });
  const reply = await api(`/memories?${params}`);
  const problem = document.getElementById("memory-list-error");
  if (!more) clear(list);
  if (!reply.ok) {
    showRequestError(reply.error, { panel: problem, fieldPrefix: "memory-" });
    document.getElementById("memory-empty").hidden = document.getElementById("memory-none-matched").hidden = true;
    return;
  }
  problem.hidden = true;
  for (const slot of document.querySelectorAll("#memory-search .field-error")) slot.hidden = true;
  list.append(...reply.data.items.map(row));
  nextCursor = reply.data.next_cursor;
  document.getElementById("memory-more").hidden = !reply.data.has_more;
  const none = list.children.length === 0;
  document.getElementById("memory-none-matched").hidden = !(none && filtered());
  document.getElementById("memory-empty").hidden = !(none && !filtered());
}

function runLink(runId) {
  return h("a", { href: `/runs/${encodeURIComponent(runId)}#memory`, class: "mono", text: runId });
}

function experimentLink(experimentId) {
  return h("a", { href: `/experiments#${encodeURIComponent(experimentId)}`, class: "mono", text: experimentId });
}

function facts(pairs) {
  return h("dl", { class: "facts" }, ...pairs.filter(([, v]) => v !== null && v !== undefined)
    .flatMap(([label, value]) => [h("dt", { text: label }), h("dd", {}, value)]));
}

/** Runs as links, folded when there are many: every one can be opened. */
function runList(runIds) {
  if (!runIds.length) return t("memory.no_runs");
  const links = h("span", { class: "chips-row" }, ...runIds.map(runLink));
  return runIds.length <= 3 ? links : h("details", {}, h("summary", { text: t("memory.n_runs", { n: runIds.length }) }), links);
}

async function save(item, body, error) {
  const reply = await api(`/memories/${encodeURIComponent(item.memory_id)}`, { method: "PATCH", body });
  if (!reply.ok) { showRequestError(reply.error, { panel: error, fieldPrefix: "edit-" }); return; }
  toast(reply.data.delta_id ? t("memory.saved") : t("memory.unchanged"));
  openMemory(item.memory_id);
  loadList();
  loadChanges();
}

function editForm(item) {
  const title = h("input", { id: "edit-title", value: item.title, maxlength: 200 });
  const content = h("textarea", { id: "edit-content", rows: 4, maxlength: 4000 });
  content.value = item.content;
  const select = (id, values, current, prefix) => h("select", { id },
    ...values.map((v) => h("option", { value: v, selected: v === current, text: t(`${prefix}.${v}`) })));
  const role = select("edit-role", ["global", "orchestrator", "tio2_expert", "mof_expert"], item.role, "memory.role");
  const polarity = select("edit-polarity", ["prefer", "avoid", "neutral"], item.polarity, "memory.polarity");
  const error = h("div", { class: "panel error", role: "alert", hidden: true });
  const form = h("form", { class: "stack", hidden: true, onsubmit: (event) => {
    event.preventDefault();
    save(item, { title: title.value, content: content.value, role: role.value, polarity: polarity.value }, error);
  } },
    h("label", { for: "edit-title", text: t("memory.field.title") }), title,
    h("p", { class: "field-error", id: "edit-title-error", hidden: true }),
    h("label", { for: "edit-content", text: t("memory.field.content") }), content,
    h("p", { class: "field-error", id: "edit-content-error", hidden: true }),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "edit-role", text: t("memory.field.role") }), role),
      h("div", { class: "field" }, h("label", { for: "edit-polarity", text: t("memory.field.polarity") }), polarity)),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", text: t("memory.save") }),
      h("button", { type: "button", class: "ghost", text: t("memory.cancel_edit"), onclick: () => {
        form.hidden = true;
        open.hidden = false;
        open.focus();
      } })),
    error);
  // correcting is on demand; archiving (or restoring) is its own action, apart from Save
  const open = h("button", { type: "button", class: "ghost", text: t("memory.correct"), onclick: () => {
    form.hidden = false;
    open.hidden = true;
    title.focus();
  } });
  const archive = h("button", { type: "button", class: item.status === "active" ? "danger ghost" : "ghost",
    text: item.status === "active" ? t("catalogue.archive") : t("catalogue.restore"),
    onclick: () => save(item, { status: item.status === "active" ? "archived" : "active" }, error) });
  return h("div", { class: "stack" }, h("div", { class: "actions" }, open, archive), form);
}

function contradictions(origin) {
  if (!origin.contradicting || !origin.contradicting.length) return null;
  return h("div", { class: "panel warning", role: "note" },
    h("p", { text: t("memory.contradicted_warning") }),
    h("ul", {}, ...origin.contradicting.map((other) => h("li", {},
      memoryLink(other.memory_id, other.title), " ",
      h("span", { class: `tag polarity-${other.polarity}`, text: t(`memory.polarity.${other.polarity}`) })))));
}

export async function openMemory(memoryId, focus = false) {
  history.replaceState(null, "", `#${memoryId}`);
  clear(detail).append(h("p", { text: t("loading") }));
  const reply = await api(`/memories/${encodeURIComponent(memoryId)}`);
  clear(detail);
  if (!reply.ok) { detail.append(h("p", { class: "panel error", text: reply.error.message })); return; }
  const item = reply.data;
  const origin = item.provenance;
  const heading = h("h3", { tabindex: -1 }, ...chemNodes(item.title));
  const supporters = [...item.support_experiment_ids];
  const opponents = [...item.contra_experiment_ids];
  detail.append(heading, memoryBadges(item), contradictions(origin) || "",
    h("p", { class: "prose" }, ...chemNodes(item.content)),
    h("h4", { text: t("memory.provenance") }),
    facts([[t("memory.from_experiment"), item.source_experiment_id ? experimentLink(item.source_experiment_id) : null],
           [t("memory.from_run"), item.source_run_id ? runLink(item.source_run_id)
             : item.source_experiment_id ? t("memory.no_run") : t("memory.by_chemist")],
           [t("memory.feedback_version"), item.feedback_version],
           [t("memory.created"), formatTime(item.created_at)],
           [t("memory.supported_by"), supporters.length ? h("span", { class: "chips-row" }, ...supporters.map(experimentLink)) : null],
           [t("memory.contradicted_by"), opponents.length ? h("span", { class: "chips-row" }, ...opponents.map(experimentLink)) : null],
           [t("memory.shown_to"), runList(origin.exposed_to_runs.map((r) => r.run_id))],
           [t("memory.cited_by"), origin.cited_by_runs.length ? runList(origin.cited_by_runs.map((r) => r.run_id)) : t("evidence.not_cited")]]),
    editForm(item),
    h("h4", { text: t("memory.history") }));
  const history_ = h("div", {});
  detail.append(history_);
  for (const delta of origin.deltas) history_.append(await deltaView(delta.delta_id, () => { openMemory(memoryId); loadList(); loadChanges(); }));
  if (focus) heading.focus();
}

// --- the change log: every delta, newest first ---------------------------------------------------

const changeLog = document.getElementById("change-log");
let changesCursor = null;

function changeRow(delta) {
  const slot = h("div", {});
  const show = h("button", { type: "button", class: "link", text: t("memory.show_change"), "aria-expanded": "false" });
  show.addEventListener("click", async () => {
    const opening = show.getAttribute("aria-expanded") === "false";
    show.setAttribute("aria-expanded", String(opening));
    clear(slot);
    if (opening) slot.append(await deltaView(delta.delta_id, () => { loadChanges(); loadList(); }));
  });
  return h("li", { class: "change" },
    h("span", { class: `badge ${delta.status === "applied" ? "completed" : "canceled"}`, text: t(`memory.delta.${delta.status}`) }),
    " ", h("strong", { text: t(`memory.source.${delta.source}`) }), " · ", formatTime(delta.created_at), " — ",
    h("span", {}, ...chemNodes(delta.summary)), " ", show, slot);
}

async function loadChanges(more = false) {
  const params = new URLSearchParams({ limit: 20 });
  if (more && changesCursor) params.set("cursor", changesCursor);
  const reply = await api(`/memory/deltas?${params}`);
  if (!more) clear(changeLog);
  if (!reply.ok) { changeLog.append(h("li", { class: "panel error", text: reply.error.message })); return; }
  changeLog.append(...reply.data.items.map(changeRow));
  if (!changeLog.children.length) changeLog.append(h("li", { class: "empty", text: t("memory.no_changes") }));
  changesCursor = reply.data.next_cursor;
  document.getElementById("changes-more").hidden = !reply.data.has_more;
}

document.getElementById("changes-more").addEventListener("click", () => loadChanges(true));
document.getElementById("memory-q").addEventListener("input", syncStatus);
document.getElementById("memory-search").addEventListener("submit", (event) => { event.preventDefault(); loadList(); });
document.getElementById("memory-more").addEventListener("click", () => loadList(true));
document.getElementById("note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { title: document.getElementById("note-title-input").value,
                 content: document.getElementById("note-content").value,
                 role: document.getElementById("note-role").value,
                 polarity: document.getElementById("note-polarity").value };
  const reply = await api("/memories", { method: "POST", body });
  const panel = document.getElementById("note-error");
  if (!reply.ok) {
    showRequestError(reply.error, { panel, fieldPrefix: "note-" });
    return;
  }
  panel.hidden = true;
  event.target.reset();
  toast(t("memory.note_added"));
  await Promise.all([loadList(), loadChanges()]);
  openMemory(reply.data.memory.memory_id);
});

syncStatus();
await Promise.all([loadList(), loadChanges()]);
if (location.hash.length > 1) openMemory(decodeURIComponent(location.hash.slice(1)));
