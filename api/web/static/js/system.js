// System: is a worker alive, the queue, whether normal runs can start, KBs, configuration.
import { api, clear, every, h, hintFor, lang, t } from "./common.js";

function facts(target, pairs) {
  clear(target).append(...pairs.flatMap(([label, value, attrs]) =>
    [h("dt", { text: label }), h("dd", attrs || {}, value ?? "—")]));
}

function renderWorker(status) {
  const worker = status.worker;
  const state = document.getElementById("worker-state");
  clear(state).append(h("span", { class: `badge ${worker.running ? "status-completed" : "status-failed"}`,
                                  text: worker.running ? t("system.worker_alive") : t("system.worker_down") }));
  if (!worker.running) state.append(" ", h("span", { class: "hint", text: t("system.worker_hint") }));
  const current = worker.current_run_id
    ? h("a", { href: `/runs/${worker.current_run_id}`, class: "mono", text: worker.current_run_id })
    : t("system.idle");
  facts(document.getElementById("worker-facts"), [
    [t("system.heartbeat_age"), worker.heartbeat_age_s === null ? "—" : t("time.seconds", { n: worker.heartbeat_age_s })],
    [t("system.current_run"), current],
    [t("system.live_workers"), String(worker.live_workers ?? 0)],
    [t("system.pid_host"), worker.pid ? `${worker.pid} @ ${worker.host}` : "—", { class: "mono" }],
    [t("system.poll_interval"), worker.poll_interval_s ? t("time.seconds", { n: worker.poll_interval_s }) : "—"],
    [t("system.reconciled"), String(status.startup.reconciled_running_runs ?? "—")]]);
  const counts = status.queue.runs_by_status;
  const learning = status.queue.learn_jobs_by_status || {};
  facts(document.getElementById("queue-facts"),
    ["queued", "running", "completed", "failed", "canceled"].map((s) => [t(`status.${s}`), String(counts[s] || 0)])
      .concat([[t("system.learn_jobs"), String((learning.queued || 0) + (learning.running || 0))]]));
}

function renderConfig(config) {
  const ready = document.getElementById("readiness");
  clear(ready).append(h("span", { class: `badge ${config.normal_runs.ready ? "status-completed" : "status-failed"}`,
    text: config.normal_runs.ready ? t("system.normal_ready") : t("system.normal_blocked") }));
  const missing = clear(document.getElementById("missing-list"));
  for (const [name, reason] of Object.entries(config.normal_runs.missing)) {
    // the hint in the reader's language; the service's own reason (English) only in English
    missing.append(h("li", {}, h("code", { text: name }), " — ", hintFor(name),
      lang === "en" ? h("span", { class: "hint", text: ` (${reason})` }) : null));
  }
  if (config.normal_runs.warnings && config.normal_runs.warnings.memory) {
    // runs still start, but memory of another embedder is out of retrieval until re-embedded
    missing.append(h("li", { class: "warning", "data-warning": "memory" }, h("strong", { text: t("system.memory_stale") }),
      " — ", t("system.memory_stale_hint", { n: config.memory.stale_vectors })));
  }
  facts(document.getElementById("versions"), [
    [t("system.version_service"), config.versions.service], [t("system.version_api"), config.versions.api],
    [t("system.version_schema"), `${config.versions.db_schema} / ${config.versions.code_schema}`]]);
  const body = clear(document.querySelector("#kb-table tbody"));
  for (const kb of config.knowledge_bases) {
    body.append(h("tr", {},
      h("th", { scope: "row", text: t(`kb.${kb.name}`) }),
      h("td", { class: "mono" }, kb.directory || h("em", { text: t("system.not_configured") }),
        h("br"), h("span", { class: "hint", text: kb.variable })),
      h("td", {}, h("span", { class: `badge ${kb.ready ? "status-completed" : "status-failed"}`,
                              text: kb.ready ? t("system.kb_ready") : t("system.kb_problem") }),
        // an unset folder is already said (translated) in the directory cell; other reasons name a path
        kb.problem && kb.directory ? h("p", { class: "hint", text: kb.problem }) : null),
      h("td", { text: kb.documents ?? "—" }),
      h("td", { class: "mono", text: kb.embedding ? `${kb.embedding.model} (${kb.embedding.dim})` : "—" })));
  }
  const memory = config.memory;
  facts(document.getElementById("memory-facts"), [
    [t("system.memory_active"), h("a", { href: "/memory", text: String(memory.active) })],
    [t("system.memory_shown"), memory.top_k ? t("system.memory_top_k", { k: memory.top_k }) : t("system.memory_off")],
    [t("system.memory_embedder"), memory.embedder, { class: "mono" }],
    [t("system.memory_stale"), memory.stale_vectors
      ? t("system.memory_stale_hint", { n: memory.stale_vectors }) : "0"]]);
  const run = config.run;
  facts(document.getElementById("config"), [
    [t("system.llm_model"), run.llm_model, { class: "mono" }],
    [t("system.llm_endpoint"), config.llm_provider ? `${run.llm_base_url} (${config.llm_provider})` : run.llm_base_url,
     { class: "mono" }],
    [t("system.llm_key"), config.llm_api_key_set ? t("system.key_set", { name: run.llm_api_key_env })
                                                : t("system.key_missing", { name: run.llm_api_key_env })],
    [t("system.embedding"), `${run.embedding_model} (${run.embedding_dim})`, { class: "mono" }],
    [t("system.embedding_endpoint"), run.embedding_base_url, { class: "mono" }],
    [t("system.bounds"), Object.entries(run.bounds).map(([k, v]) => `${k}=${v}`).join(", "), { class: "mono" }],
    [t("system.timeout"), t("time.seconds", { n: run.llm_timeout_s })],
    [t("system.streams"), String(config.streams.max_per_api_worker)]]);
}

async function refresh() {
  const [status, config] = await Promise.all([api("/system/worker"), api("/system/config")]);
  if (status.ok) renderWorker(status.data);
  if (config.ok) renderConfig(config.data);
  return true;
}

await refresh();
every(3000, refresh);
