// Lab memory pieces shared by the Memory page and a run's Memory tab: an item's badges, a
// delta as a readable diff, and rollback with a preview of what leaves retrieval.
import { api, formatTime, h, t, toast } from "./common.js";

export function memoryBadges(item) {
  return h("span", { class: "chips-row inline" },
    h("span", { class: "tag" }, t(`memory.kind.${item.kind}`)),
    h("span", { class: `tag polarity-${item.polarity}` }, t(`memory.polarity.${item.polarity}`)),
    h("span", { class: "tag" }, t(`memory.role.${item.role}`)),
    item.status === "archived" ? h("span", { class: "tag archived" }, t("catalogue.archived")) : null);
}

export function memoryLink(memoryId, text) {
  return h("a", { href: `/memory#${encodeURIComponent(memoryId)}`, text: text || memoryId });
}

const SHOWN = ["status", "title", "content", "polarity", "role", "support_experiment_ids", "contra_experiment_ids"];

function valueText(value) {
  if (Array.isArray(value)) return value.length ? value.join(", ") : "—";
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

/** One op of a delta: what it added, or each field it changed (before → after). */
function opView(op) {
  if (op.op === "add") {
    return h("li", {}, h("strong", { text: t("memory.added") }), " ", memoryLink(op.memory_id, op.after.title),
      " ", h("span", { class: "muted", text: `${t(`memory.kind.${op.after.kind}`)} · ${t(`memory.polarity.${op.after.polarity}`)}` }));
  }
  const changed = SHOWN.filter((key) => JSON.stringify(op.before[key]) !== JSON.stringify(op.after[key]));
  return h("li", {}, h("strong", { text: t("memory.changed") }), " ", memoryLink(op.memory_id, op.after.title),
    h("dl", { class: "diff" }, ...changed.flatMap((key) => [
      h("dt", { text: t(`memory.field.${key}`) }),
      h("dd", {}, h("del", { text: valueText(op.before[key]) }), " → ", h("ins", { text: valueText(op.after[key]) })),
    ])));
}

/** A delta with its ops and, while it is applied, a rollback button that previews first. */
export async function deltaView(deltaId, onChange) {
  const reply = await api(`/memory/deltas/${encodeURIComponent(deltaId)}`);
  if (!reply.ok) return h("p", { class: "panel error", text: reply.error.message });
  const delta = reply.data;
  const box = h("article", { class: "card delta", id: `delta-${delta.delta_id}` },
    h("h3", {}, `${t(`memory.source.${delta.source}`)} · ${formatTime(delta.created_at)} `,
      h("span", { class: `badge ${delta.status === "applied" ? "completed" : "canceled"}`,
                  text: t(`memory.delta.${delta.status}`) })),
    h("p", { class: "muted mono", text: delta.delta_id }),
    h("ul", { class: "ops" }, ...delta.ops.map(opView)));
  if (delta.status === "applied") box.append(rollbackControl(delta, onChange));
  return box;
}

function rollbackControl(delta, onChange) {
  const preview = delta.rollback;
  // a person reads titles: every memory a rollback names is one of this delta's own ops
  const titles = new Map(delta.ops.map((op) => [op.memory_id, (op.before || op.after).title]));
  const named = (id) => h("li", {}, memoryLink(id, titles.get(id)));
  const panel = h("div", { class: "panel note", hidden: true, role: "region",
                           aria: { label: t("memory.rollback_preview") } });
  const button = h("button", { type: "button", class: "ghost", text: t("memory.rollback") });
  button.addEventListener("click", () => {
    panel.hidden = false;
    panel.replaceChildren();
    if (!preview.possible) {
      panel.append(h("p", { text: t("memory.rollback_blocked", { deltas: preview.conflicting_deltas.join(", ") }) }));
      return;
    }
    panel.append(
      h("p", { text: t("memory.rollback_leaves") }),
      h("ul", {}, ...(preview.leaves_retrieval.length ? preview.leaves_retrieval.map(named)
                                                         : [h("li", { text: t("memory.nothing") })])),
      ...(preview.returns_to_retrieval.length  // Node.append would write a null as the text "null"
        ? [h("p", { text: t("memory.rollback_returns") }), h("ul", {}, ...preview.returns_to_retrieval.map(named))]
        : []),
      h("p", { text: t("memory.rollback_restores", { n: preview.restored.length }) }),
      h("button", { type: "button", class: "danger", text: t("memory.rollback_confirm"), onclick: async () => {
        const done = await api(`/memory/deltas/${encodeURIComponent(delta.delta_id)}/rollback`, { method: "POST" });
        if (!done.ok) { toast(done.error.message, "error"); return; }
        toast(t("memory.rolled_back"));
        onChange();
      } }));
  });
  return h("div", { class: "actions" }, button, panel);
}
