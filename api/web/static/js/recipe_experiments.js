// On a run's recipe cards: what the lab did with each recipe (its experiments) and "Make it",
// which plans one (a planned experiment on the Experiments page). A dry run's recipes are
// placeholders: they get neither.
import { api, clear, h, t, toast } from "./common.js";

function summary(experiments) {
  const counts = new Map();
  for (const e of experiments) counts.set(e.status, (counts.get(e.status) || 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${t(`experiment.status.${status}`)}`).join(", ");
}

async function makeIt(runId, rank, button) {
  button.disabled = true;
  const reply = await api("/experiments", { method: "POST", body: { run_id: runId, rank } });
  button.disabled = false;
  if (!reply.ok) { toast(reply.error.message, "error"); return; }
  toast(t("experiment.made"));
  await showRecipeExperiments(runId, false);
}

/** Fill each recipe card's `.made` slot: the experiments of that recipe, and a Make it button. */
export async function showRecipeExperiments(runId, dryRun) {
  const cards = [...document.querySelectorAll(".recipe")];
  if (dryRun || !cards.length) return;
  const reply = await api(`/experiments?run_id=${encodeURIComponent(runId)}&limit=200`);
  const experiments = reply.ok ? reply.data.items : [];
  for (const card of cards) {
    const rank = Number(card.dataset.rank);
    const mine = experiments.filter((e) => e.source && e.source.rank === rank);
    const slot = card.querySelector(".made");
    if (!slot) continue;
    const button = h("button", { type: "button", class: "ghost small", text: t("experiment.make_it") });
    button.addEventListener("click", () => makeIt(runId, rank, button));
    clear(slot).append(button, h("a", { href: "/experiments", class: "hint",
      text: mine.length ? t("experiment.of_recipe", { summary: summary(mine) }) : t("experiment.none_yet") }));
  }
}
