// A run's Memory tab: what the run was shown of the lab memory (cited or not) and what was
// learned from its feedback — each learn job, each change as a diff with its rollback.
import { api, clear, h, t, toast } from "./common.js";
import { deltaView, memoryBadges, memoryLink } from "./memory_view.js";

function shownRow(exposure, cited) {
  return h("tr", {},
    h("td", { class: "mono", text: exposure.alias }),
    h("td", {}, memoryLink(exposure.memory_id, exposure.title), " ", memoryBadges(exposure)),
    h("td", { text: t(`memory.polarity.${exposure.polarity}`) }),
    h("td", { text: `${t(`role.${exposure.role}`)} · ${t("memory.node", { node: exposure.node_id || "—" })} · ${t(`memory.via.${exposure.via}`)}` }),
    h("td", { text: exposure.score.toFixed(3) }),
    h("td", { text: cited.has(exposure.alias) ? t("memory.cited") : "—" }));
}

export async function loadRunMemory(runId, run) {
  const reply = await api(`/runs/${encodeURIComponent(runId)}/memory`);
  const body = clear(document.querySelector("#memory-shown tbody"));
  const note = document.getElementById("memory-shown-note");
  const jobs = clear(document.getElementById("memory-jobs"));
  const deltas = clear(document.getElementById("memory-deltas"));
  if (!reply.ok) {
    note.hidden = false;
    note.textContent = reply.error.message;
    return;
  }
  const view = reply.data;
  const cited = new Set(view.cited.map((c) => c.alias));
  body.append(...view.exposures.map((e) => shownRow(e, cited)));
  note.hidden = view.exposures.length > 0;
  note.textContent = view.memory_enabled ? t("memory.none_shown") : t("memory.off");
  for (const job of view.learn_jobs) {
    jobs.append(h("li", {}, h("span", { text: t("memory.job", { id: job.job_id, status: job.status }) }),
      job.error ? h("span", { class: "panel error inline", text: ` ${job.error.code}: ${job.error.message}` }) : null));
  }
  if (!view.learn_jobs.length) jobs.append(h("li", { class: "empty", text: t("memory.no_jobs") }));
  for (const delta of view.deltas) deltas.append(await deltaView(delta.delta_id, () => loadRunMemory(runId, run)));
  const relearn = document.getElementById("memory-relearn");
  relearn.hidden = !(view.learn_jobs.length && run && !run.dry_run);
  relearn.onclick = async () => {
    const queued = await api(`/runs/${encodeURIComponent(runId)}/learn`, { method: "POST" });
    if (!queued.ok) { toast(queued.error.message, "error"); return; }
    toast(t("memory.relearn_queued"));
    loadRunMemory(runId, run);
  };
}
