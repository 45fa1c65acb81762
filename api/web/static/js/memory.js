// The Memory page: search and filter the lab memory, read one memory with its provenance and
// history (each change undoable), correct or archive it, add a chemist's note.
import { api, clear, formatTime, h, showRequestError, t, toast } from "./common.js";
import { chemNodes } from "./chem.js";
import { deltaView, memoryBadges } from "./memory_view.js";

const list = document.getElementById("memory-list");
const detail = document.getElementById("memory-detail");
let nextCursor = null;

function query(extra = {}) {
  const params = new URLSearchParams();
  const q = document.getElementById("memory-q").value.trim();
  if (q) params.set("q", q);
  for (const name of ["kind", "status"]) {
    const value = document.getElementById(`memory-${name}`).value;
    if (value) params.set(name, value);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

function row(item) {
  return h("li", { class: "memory-row" },
    h("button", { type: "button", class: "link", text: item.title, onclick: () => openMemory(item.memory_id, true) }),
    " ", memoryBadges(item),
    item.score != null ? h("span", { class: "muted", text: ` ${t("memory.score", { score: item.score.toFixed(3) })}` }) : null,
    h("p", { class: "muted clamp", text: item.content }));
}

async function loadList(more = false) {
  const params = query(more && nextCursor ? { cursor: nextCursor, limit: 50 } : { limit: 50 });
  const reply = await api(`/memories?${params}`);
  if (!more) clear(list);
  if (!reply.ok) {
    list.append(h("li", { class: "panel error", text: reply.error.message }));
    return;
  }
  list.append(...reply.data.items.map(row));
  nextCursor = reply.data.next_cursor;
  document.getElementById("memory-more").hidden = !reply.data.has_more;
  document.getElementById("memory-empty").hidden = list.children.length > 0;
}

function runLink(runId) {
  return h("a", { href: `/runs/${encodeURIComponent(runId)}#memory`, class: "mono", text: runId });
}

function facts(pairs) {
  return h("dl", { class: "facts" }, ...pairs.filter(([, v]) => v !== null && v !== undefined)
    .flatMap(([label, value]) => [h("dt", { text: label }), h("dd", {}, value)]));
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
  const save = async (body) => {
    const reply = await api(`/memories/${encodeURIComponent(item.memory_id)}`, { method: "PATCH", body });
    if (!reply.ok) { showRequestError(reply.error, { panel: error, fieldPrefix: "edit-" }); return; }
    toast(reply.data.delta_id ? t("memory.saved") : t("memory.unchanged"));
    openMemory(item.memory_id);
    loadList();
  };
  return h("form", { class: "stack", onsubmit: (event) => {
    event.preventDefault();
    save({ title: title.value, content: content.value, role: role.value, polarity: polarity.value });
  } },
    h("h3", { text: t("memory.correct") }),
    h("label", { for: "edit-title", text: t("memory.field.title") }), title,
    h("p", { class: "field-error", id: "edit-title-error", hidden: true }),
    h("label", { for: "edit-content", text: t("memory.field.content") }), content,
    h("p", { class: "field-error", id: "edit-content-error", hidden: true }),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "edit-role", text: t("memory.field.role") }), role),
      h("div", { class: "field" }, h("label", { for: "edit-polarity", text: t("memory.field.polarity") }), polarity)),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", text: t("memory.save") }),
      h("button", { type: "button", class: "ghost", text: item.status === "active" ? t("catalogue.archive") : t("catalogue.restore"),
                    onclick: () => save({ status: item.status === "active" ? "archived" : "active" }) })),
    error);
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
  detail.append(heading, memoryBadges(item), h("p", { class: "prose" }, ...chemNodes(item.content)),
    h("h4", { text: t("memory.provenance") }),
    facts([[t("memory.id"), h("span", { class: "mono", text: item.memory_id })],
           [t("memory.from_run"), item.source_run_id ? runLink(item.source_run_id) : t("memory.by_chemist")],
           [t("memory.feedback_version"), item.feedback_version],
           [t("memory.created"), formatTime(item.created_at)],
           [t("memory.supported_by"), item.support_run_ids.length ? h("span", {}, ...item.support_run_ids.map(runLink)) : null],
           [t("memory.contradicted_by"), item.contra_run_ids.length ? h("span", {}, ...item.contra_run_ids.map(runLink)) : null],
           [t("memory.shown_to"), t("memory.n_runs", { n: origin.exposed_to_runs.length })],
           [t("memory.cited_by"), origin.cited_by_runs.length ? h("span", { class: "chips-row" }, ...origin.cited_by_runs.map((r) => runLink(r.run_id))) : t("evidence.not_cited")]]),
    h("h4", { text: t("memory.history") }));
  const history_ = h("div", {});
  detail.append(history_);
  for (const delta of origin.deltas) history_.append(await deltaView(delta.delta_id, () => { openMemory(memoryId); loadList(); }));
  detail.append(editForm(item));
  if (focus) heading.focus();
}

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
  await loadList();
  openMemory(reply.data.memory.memory_id);
});

await loadList();
if (location.hash.length > 1) openMemory(decodeURIComponent(location.hash.slice(1)));
