// Shared by every page: strings, DOM building, the JSON API, time formats, the page chrome.
// Text from users and models is only ever set with textContent, never parsed as HTML.

export const page = JSON.parse(document.getElementById("page-data").textContent);
const strings = JSON.parse(document.getElementById("strings").textContent);
export const lang = document.documentElement.lang.startsWith("zh") ? "zh-CN" : "en";

export function t(key, values = {}) {
  let text = strings[key] ?? key;
  for (const [name, value] of Object.entries(values)) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/** h("a", {href, class, text, onclick, dataset: {...}, aria: {...}}, ...children) */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") element.textContent = value;
    else if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "aria") for (const [k, v] of Object.entries(value)) element.setAttribute(`aria-${k}`, v);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element) {
  while (element.firstChild) element.removeChild(element.firstChild);
  return element;
}

/** Where a page goes when the service asks for its token again (it was changed, or the session ended). */
function signInAgain() {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** One call to the JSON API: {ok, status, data, error, etag}. Never throws for HTTP errors.
 *  Every call says it comes from these pages (X-C2XC-Request): with a session cookie the
 *  server refuses changes without it, which a page on another site cannot add. */
export async function api(path, { method = "GET", body, headers = {}, etag } = {}) {
  const request = { method, headers: { Accept: "application/json", "X-C2XC-Request": "1", ...headers } };
  if (body !== undefined) {
    request.headers["Content-Type"] = "application/json";
    request.body = JSON.stringify(body);
  }
  if (etag) request.headers["If-None-Match"] = etag;
  let response;
  try {
    response = await fetch(page.api + path, request);
  } catch (error) {
    return { ok: false, status: 0, error: { code: "unreachable", message: t("error.unreachable") } };
  }
  if (response.status === 304) return { ok: true, status: 304, notModified: true, etag };
  if (response.status === 401 && page.page !== "login") signInAgain();
  const data = await response.json().catch(() => null);
  const result = { ok: response.ok, status: response.status, data, etag: response.headers.get("ETag") };
  if (!response.ok) result.error = (data && data.error) || { code: "internal", message: response.statusText };
  return result;
}

/** A key for Idempotency-Key: random, and fine over plain http on a lab network. */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "ui-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const absolute = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });

export function formatTime(epoch) {
  return epoch ? absolute.format(new Date(epoch * 1000)) : "—";
}

export function ago(epoch) {
  if (!epoch) return "—";
  const seconds = Math.round(epoch - Date.now() / 1000);
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(seconds, "second");
}

export function duration(start, end) {
  if (!start) return "—";
  const seconds = (end || Date.now() / 1000) - start;
  return seconds < 60 ? t("time.seconds", { n: seconds.toFixed(1) })
    : t("time.minutes", { m: Math.floor(seconds / 60), s: Math.round(seconds % 60) });
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}`, text: t(`status.${status}`) });
}

export const TERMINAL = new Set(["completed", "failed", "canceled"]);

let toastTimer;
export function toast(message, kind = "info") {
  const element = document.getElementById("toast");
  element.textContent = message;
  element.dataset.kind = kind;
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { element.hidden = true; }, 5000);
}

/** Repeat `task` every `ms` while the tab is visible; the task says whether to go on. */
export function every(ms, task) {
  let timer = null;
  const run = async () => {
    timer = null;
    const goOn = await task();
    if (goOn !== false) schedule();
  };
  const schedule = () => { if (!timer && !document.hidden) timer = setTimeout(run, ms); };
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) { clearTimeout(timer); timer = null; } else schedule();
  });
  schedule();
}

export function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen) return chosen;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function initChrome() {
  document.getElementById("lang-toggle").addEventListener("click", (event) => {
    const next = event.currentTarget.dataset.lang;
    document.cookie = `c2xc_lang=${next}; path=/; max-age=31536000; SameSite=Lax`;
    location.reload();
  });
  document.getElementById("theme-toggle").addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem("c2xc.theme", next); } catch (e) { /* not remembered */ }
    document.dispatchEvent(new CustomEvent("c2xc:theme", { detail: next }));
  });
  document.getElementById("sign-out")?.addEventListener("click", async () => {
    await fetch("/logout", { method: "POST", headers: { "X-C2XC-Request": "1" } });
    location.assign("/login");
  });
}

initChrome();

/** A banner on every page while no worker is alive: queued runs would wait without a word. */
async function watchWorker() {
  const banner = document.getElementById("worker-banner");
  if (!banner) return false;
  const reply = await api("/system/worker");
  if (reply.ok) {
    banner.hidden = reply.data.worker.running;
    banner.textContent = t("worker.down");
  }
  return true;
}
if (page.page !== "login") {
  watchWorker();
  every(10000, watchWorker);
}

/** Show every problem of a refused batch (422 fields, 503 missing settings) next to its cause. */
export function showRequestError(error, { panel, fieldPrefix = "" }) {
  for (const old of document.querySelectorAll(".field-error")) { old.hidden = true; old.textContent = ""; }
  for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  clear(panel);
  panel.hidden = false;
  if (error.code === "dependency_unavailable" && error.details && error.details.missing) {
    panel.append(h("h3", { text: t("preflight.title") }), h("p", { text: t("preflight.intro") }));
    const reasons = error.details.reasons || {};
    panel.append(h("ul", { class: "missing" }, error.details.missing.map((name) =>
      h("li", {}, h("code", { text: name }), " — ", reasons[name] || "", h("br"),
        h("span", { class: "hint", text: hintFor(name) })))));
    panel.append(h("p", {}, h("a", { href: "/system", text: t("preflight.system") })));
    return;
  }
  const fields = (error.details && error.details.fields) || {};
  let placed = 0;
  for (const [name, messages] of Object.entries(fields)) {
    const slot = document.getElementById(`${fieldPrefix}${name}-error`);
    const input = document.getElementById(`${fieldPrefix}${name}`);
    if (slot) {
      clear(slot).append(...[...new Set([].concat(messages))].map((m) =>
        h("span", { class: "line", text: strings[`validation.${m}`] ? t(`validation.${m}`) : m })));
      slot.hidden = false;
      placed += 1;
      if (input) input.setAttribute("aria-invalid", "true");
    }
  }
  // a person reads what to do, not the machine code (the code stays in the API's answer)
  panel.append(h("p", {}, placed ? t("error.fix_fields")
    : (strings[`error.code.${error.code}`] ? t(`error.code.${error.code}`) : error.message || error.code)));
  if (!placed && error.message && strings[`error.code.${error.code}`]) {
    panel.append(h("p", { class: "muted", text: error.message }));
  }
  if (placed === 0 && Object.keys(fields).length) {
    panel.append(h("pre", { class: "chunk", text: JSON.stringify(fields, null, 2) }));
  }
}

export function hintFor(name) {
  if (name.startsWith("LIGHTRAG_KB_")) return t("preflight.hint_kb", { name });
  if (name.startsWith("python_package:")) return t("preflight.hint_package");
  if (name.endsWith("_MODEL")) return t("preflight.hint_model", { name });
  return t("preflight.hint_env", { name });
}

let configPromise = null;
/** The service's non-secret configuration (model, endpoint), fetched once per page. */
export function systemConfig() {
  configPromise = configPromise || api("/system/config").then((reply) => (reply.ok ? reply.data : null));
  return configPromise;
}

/** Ask before anything that calls the LLM; resolves true only on an explicit confirmation. */
export async function confirmLlmCall(runs) {
  const config = await systemConfig();
  const model = config ? config.run.llm_model : "?";
  const endpoint = config ? config.run.llm_base_url : "?";
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-text").textContent = t("confirm.text", { runs, model, endpoint });
  dialog.returnValue = "";
  dialog.showModal();
  document.getElementById("confirm-go").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

/** Every item of a list endpoint (following next_cursor), e.g. the product catalogue. */
export async function listAll(path) {
  const items = [];
  let cursor = null;
  do {
    const joiner = path.includes("?") ? "&" : "?";
    const reply = await api(`${path}${joiner}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (!reply.ok) return { ok: false, error: reply.error, items };
    items.push(...reply.data.items);
    cursor = reply.data.next_cursor;
  } while (cursor);
  return { ok: true, items };
}

/** {"products": {"1": {"value": [...]}}} -> {"products[1].value": [...]}: one key per field. */
export function flattenFields(fields, prefix = "") {
  const flat = {};
  for (const [key, value] of Object.entries(fields || {})) {
    const path = /^\d+$/.test(key) ? `${prefix}[${key}]` : (prefix ? `${prefix}.${key}` : key);
    if (value && typeof value === "object" && !Array.isArray(value)) Object.assign(flat, flattenFields(value, path));
    else flat[path] = [].concat(value);
  }
  return flat;
}
