// Plan the next experiments: ask the planner for a batch (from a batch's or some runs' recipes,
// optionally with its own compositions), read each pick with its prediction, why, and evidence,
// choose, and plan them in the lab in one step (planned experiments).
import { chemPlain } from "./chem.js";
import { api, clear, h, t, toast } from "./common.js";
import { predictionNode } from "./prediction.js";

const params = new URLSearchParams(location.search);
const scope = { batch_id: params.get("batch_id"), run_ids: params.get("run_ids")?.split(",").filter(Boolean) };
let current = null;

function itemNode(item) {
  const recipe = item.recipe;
  const box = h("input", { type: "checkbox", class: "plan-pick", checked: true, value: String(item.rank),
                           aria: { label: t("plan.choose_n", { n: item.rank }) } });
  const origin = item.source
    ? h("a", { href: `/runs/${encodeURIComponent(item.source.run_id)}`, text: t("plan.from_run", { rank: item.source.rank }) })
    : h("span", { text: t("plan.composed") });
  return h("li", { class: "card plan-item" },
    h("div", { class: "recipe-head" }, box,
      h("span", { class: "rank", text: `#${item.rank}` }),
      h("span", { class: "metals", text: `${recipe.M1} · ${recipe.M2}` }),
      h("span", { class: "ratio", text: t("recipe.ratio", { ratio: recipe.atomic_ratio }) }),
      h("span", { class: `badge why-${item.why}`, text: t(`plan.why.${item.why}`) })),
    h("p", {}, recipe.modifier ? h("strong", { text: recipe.modifier }) : null,
      recipe.modifier ? " " : null, h("span", { class: "mono hint", text: recipe.modifier_smiles })),
    predictionNode(item.prediction, current.reason),
    h("p", { class: "hint" }, origin,
      Object.keys(item.citations).length ? ` · ${t("plan.citations", { n: Object.keys(item.citations).length,
                                                                          aliases: Object.keys(item.citations).join(", ") })}` : ""));
}

function show(plan) {
  current = plan;
  document.getElementById("plan-result").hidden = false;
  const best = plan.best_so_far === null ? "—" : `${Math.round(plan.best_so_far * 1000) / 10} %`;
  document.getElementById("plan-summary").textContent = t("plan.summary", {
    n: plan.items.length, candidates: plan.candidates, results: plan.n_results,
    product: chemPlain(plan.objective), best });
  const reason = document.getElementById("plan-reason");
  reason.hidden = !plan.reason;
  reason.textContent = plan.reason ? t("plan.no_model", { n: plan.n_results }) : "";
  reason.title = plan.reason || "";
  clear(document.getElementById("plan-items")).append(...plan.items.map(itemNode));
  const accept = document.getElementById("plan-accept");
  accept.disabled = plan.status === "accepted" || plan.items.length === 0;
  accept.textContent = plan.status === "accepted" ? t("plan.accepted") : t("plan.accept");
}

async function makePlan(event) {
  event.preventDefault();
  const body = { size: Number(document.getElementById("plan-size").value) || 3,
                 goal: document.getElementById("plan-goal").value,
                 explore: document.getElementById("plan-explore").checked };
  if (scope.batch_id) body.batch_id = scope.batch_id;
  if (scope.run_ids?.length) body.run_ids = scope.run_ids;
  const error = document.getElementById("plan-error");
  const reply = await api("/plans", { method: "POST", body });
  error.hidden = reply.ok;
  if (!reply.ok) {
    error.textContent = reply.error.message;
    return;
  }
  history.replaceState(null, "", `/plan?plan_id=${reply.data.plan_id}`);
  show(reply.data);
}

async function accept() {
  const items = [...document.querySelectorAll(".plan-pick:checked")].map((b) => Number(b.value));
  if (!items.length) { toast(t("plan.choose_some"), "error"); return; }
  const reply = await api(`/plans/${encodeURIComponent(current.plan_id)}/accept`, { method: "POST", body: { items } });
  if (!reply.ok) { toast(reply.error.message, "error"); return; }
  toast(t("plan.planned", { n: reply.data.length }));
  show({ ...current, status: "accepted" });
}

async function start() {
  document.getElementById("plan-form").addEventListener("submit", makePlan);
  document.getElementById("plan-accept").addEventListener("click", accept);
  const scopeText = scope.batch_id ? t("plan.scope_batch", { batch: scope.batch_id })
    : scope.run_ids?.length ? t("plan.scope_runs", { n: scope.run_ids.length }) : t("plan.scope_explore");
  document.getElementById("plan-scope").textContent = scopeText;
  if (!scope.batch_id && !scope.run_ids?.length) document.getElementById("plan-explore").checked = true;
  const planId = params.get("plan_id");
  if (planId) {
    const reply = await api(`/plans/${encodeURIComponent(planId)}`);
    if (reply.ok) show(reply.data);
    else toast(reply.error.message, "error");
  }
}

start();
