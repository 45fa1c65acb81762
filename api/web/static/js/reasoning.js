// The Reasoning tab: the agent's tree of nodes — each with its task, its plan as first stated
// and as revised, the rounds it acted, its conclusion (citations clickable) and its cost.
import { clear, h, t } from "./common.js";

function roleName(role) {
  return t(`role.${role}`) === `role.${role}` ? role : t(`role.${role}`);
}

function planList(plan) {
  return h("ol", { class: "plan" }, plan.map((subtask) =>
    h("li", {}, subtask.step, subtask.by && subtask.by !== "self"
      ? h("span", { class: "tag", text: roleName(subtask.by) }) : null)));
}

function cost(node) {
  const seconds = node.duration_s ?? null;
  return t("reasoning.cost", { calls: node.llm_calls, tokens: node.prompt_tokens + node.completion_tokens,
                               time: seconds === null ? "…" : seconds.toFixed(1) });
}

function actionText(action) {
  const args = action.arguments || {};
  const detail = args.query || args.task || args.alias || args.op || "";
  return detail ? `${action.tool}: ${detail}` : action.tool;
}

function section(title, ...content) {
  return h("div", { class: "node-section" }, h("h4", { text: title }), ...content);
}

function nodeView(node, byId, citedText) {
  const revisions = node.plan_revisions || [];
  const body = [h("p", { class: "prose node-task", text: typeof node.task === "string" ? node.task : "" })];
  if (node.think && !revisions.length) {
    body.push(section(t("reasoning.think"), h("p", { class: "prose", text: node.think })));
  }
  revisions.forEach((revision, index) => {  // each plan with the reasoning stated with it
    body.push(section(index === 0 ? t("reasoning.first_plan") : t("reasoning.revision", { n: revision.revision }),
      revision.think ? h("p", { class: "prose think", text: revision.think }) : null,
      planList(revision.plan)));
  });

  if (node.steps.length) {
    body.push(section(t("reasoning.steps"), h("ol", { class: "steps" }, node.steps.map((step) =>
      h("li", {}, h("span", { class: "mono", text: step.action.map(actionText).join("; ") }),
        step.implicit_plan ? h("span", { class: "tag", text: t("reasoning.unplanned") }) : null,
        h("div", { class: "muted" }, citedText((step.outcome || []).join(" · "))))))));
  }
  if (node.plan.length && node.status !== "done") body.push(section(t("reasoning.remaining"), planList(node.plan)));
  for (const repair of node.repairs) {
    body.push(section(t("reasoning.repair", { n: repair.attempt }),
      h("ul", {}, (repair.problems || []).map((p) => h("li", { text: p })))));
  }
  if (node.result) {
    const rejected = node.role === "orchestrator" && node.status === "rejected";
    body.push(section(rejected ? t("reasoning.answer_rejected") : t("reasoning.conclusion"),
      node.role === "orchestrator" && !rejected
        ? h("p", { class: "muted", text: t("reasoning.final_answer") })
        : h("p", { class: "prose" }, citedText(node.result))));
  }
  const children = node.children.map((id) => byId.get(id)).filter(Boolean);
  if (children.length) {
    body.push(h("ol", { class: "node-children" }, children.map((child) => nodeView(child, byId, citedText))));
  }
  return h("li", { class: "node", id: `node-${node.node_id}` },
    h("details", { open: true },
      h("summary", {},
        h("span", { class: "node-role", text: roleName(node.role) }),
        h("span", { class: `badge node-${node.status}`, text: t(`reasoning.status_${node.status}`) }),
        h("span", { class: "muted", text: cost(node) })),
      ...body));
}

/** Draw the tree into `container`; `citedText` turns [C3] into evidence chips. */
export function renderReasoning(container, tree, citedText) {
  const byId = new Map(tree.nodes.map((node) => [node.node_id, node]));
  const roots = tree.nodes.filter((node) => !node.parent_id || !byId.has(node.parent_id));
  clear(container);
  if (!roots.length) {
    container.append(h("p", { class: "empty", text: t("reasoning.none") }));
    return;
  }
  container.append(h("ol", { class: "tree" }, roots.map((node) => nodeView(node, byId, citedText))));
}

/** The node links shown on a recipe card ("argued by"). */
export function arguedBy(tree, rank, openNode) {
  const entry = (tree?.recipes || []).find((r) => r.rank === rank);
  if (!entry || !entry.node_ids.length) return null;
  const byId = new Map(tree.nodes.map((node) => [node.node_id, node]));
  return h("p", { class: "argued-by" }, h("span", { class: "muted", text: `${t("reasoning.argued_by")} ` }),
    entry.node_ids.map((id) => h("a", { href: `#node-${id}`, class: "node-link",
      onclick: (event) => { event.preventDefault(); openNode(id); },
      text: `${roleName(byId.get(id)?.role)} (${id})` })));
}
