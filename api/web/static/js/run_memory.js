// A run's Memory tab: what the run was shown of the lab memory (cited or not) and what was
// learned from its feedback — each learn job, each change as a diff with its rollback.
import { api, clear, formatTime, h, t, toast } from "./common.js";
import { deltaView, memoryBadges, memoryLink } from "./memory_view.js";

let refreshTimer = null;

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
    const times = [[t("memory.job_queued_at"), job.created_at], [t("memory.job_started_at"), job.started_at],
                   [t("memory.job_finished_at"), job.finished_at]].filter(([, at]) => at);
    jobs.append(h("li", { "data-status": job.status },
      h("span", { class: `badge status-${job.status === "completed" ? "completed" : job.status === "failed" ? "failed" : "running"}`,
                  text: t(`memory.job_status.${job.status}`) }),
      " ", h("span", { class: "muted", text: times.map(([label, at]) => `${label} ${formatTime(at)}`).join(" · ") }),
      job.error ? h("span", { class: "panel error inline", text: ` ${job.error.code}: ${job.error.message}` }) : null));
  }
  // a queued or running job ends by itself: look again until it has
  clearTimeout(refreshTimer);
  if (view.learn_jobs.some((job) => job.status === "queued" || job.status === "running")) {
    refreshTimer = setTimeout(() => loadRunMemory(runId, run), 1500);
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
