// Settings: add, rename, archive and restore products; build, reorder, archive and restore presets;
// offer the standard CO2-reduction preset (only when asked). Every change goes through the API.
import { chemNodes, chemPlain } from "./chem.js";
import { api, clear, flattenFields, h, listAll, t, toast } from "./common.js";

let products = [];
let presets = [];
const editing = { presetId: null, members: [] };

function statusBadge(status) {
  return h("span", { class: `badge ${status === "active" ? "status-completed" : "status-canceled"}`,
                     text: t(`catalogue.${status}`) });
}

function fieldError(id, message) {
  const slot = document.getElementById(`${id}-error`);
  slot.textContent = message || "";
  slot.hidden = !message;
  document.getElementById(id)?.toggleAttribute("aria-invalid", Boolean(message));
}

function messageOf(error) {
  const fields = flattenFields(error.details?.fields);
  return Object.values(fields).flat().join(" ") || error.message;
}

async function refresh() {
  const [productList, presetList] = await Promise.all([listAll("/products"), listAll("/product_presets")]);
  products = productList.items;
  presets = presetList.items;
  document.getElementById("standard-offer").hidden = presets.some((p) => p.extra?.standard);
  renderProducts();
  renderPresets();
}

async function updateProduct(product, change, input) {
  const reply = await api(`/products/${encodeURIComponent(product.product_id)}`, { method: "PUT", body: change });
  if (!reply.ok) {
    toast(messageOf(reply.error), "error");
    input?.setAttribute("aria-invalid", "true");
    return;
  }
  toast(t("catalogue.saved"), "success");
  await refresh();
}

function renderProducts() {
  const showArchived = document.getElementById("show-archived").checked;
  const body = clear(document.querySelector("#product-table tbody"));
  for (const product of products.filter((p) => showArchived || p.status === "active")) {
    // the name as a chemist reads it (C₂H₄); the text box only while renaming
    const shown = h("span", { class: "product-name" }, ...chemNodes(product.name));
    const name = h("input", { type: "text", value: product.name, maxlength: "100", hidden: true,
                              aria: { label: t("catalogue.name_of", { name: product.name }) } });
    const archive = product.status === "active" ? "archived" : "active";
    const rename = h("button", { type: "button", class: "ghost small", text: t("catalogue.rename") });
    rename.addEventListener("click", () => {
      if (name.hidden) {  // first press: edit on demand
        name.hidden = false;
        shown.hidden = true;
        rename.textContent = t("memory.save");
        name.focus();
        return;
      }
      updateProduct(product, { name: name.value }, name);
    });
    body.append(h("tr", { dataset: { productId: product.product_id } },
      h("td", {}, shown, name), h("td", {}, statusBadge(product.status)),
      h("td", { class: "actions-cell" }, rename,
        h("button", { type: "button", class: "ghost small",
                      text: archive === "archived" ? t("catalogue.archive") : t("catalogue.restore"),
                      onclick: () => updateProduct(product, { status: archive }) }))));
  }
}

function renderPresets() {
  const list = clear(document.getElementById("preset-list"));
  for (const preset of presets) {
    const archive = preset.status === "active" ? "archived" : "active";
    list.append(h("li", { class: "card preset", dataset: { presetId: preset.preset_id } },
      h("div", { class: "batch-head" }, h("strong", {}, ...chemNodes(preset.name)), statusBadge(preset.status),
        h("button", { type: "button", class: "ghost small", text: t("catalogue.edit"),
                      onclick: () => openEditor(preset) }),
        h("button", { type: "button", class: "ghost small",
                      text: archive === "archived" ? t("catalogue.archive") : t("catalogue.restore"),
                      onclick: () => savePreset(preset.preset_id, { status: archive }) })),
      h("ol", { class: "chips-row" }, preset.products.map((p) =>
        h("li", { class: `tag${p.status === "active" ? "" : " archived"}` }, ...chemNodes(p.name))))));
  }
}

function renderMembers() {
  const list = clear(document.getElementById("preset-members"));
  editing.members.forEach((id, index) => {
    const product = products.find((p) => p.product_id === id);
    const move = (step) => {
      const target = index + step;
      [editing.members[index], editing.members[target]] = [editing.members[target], editing.members[index]];
      renderMembers();
      list.children[target]?.querySelector(step < 0 ? ".up" : ".down")?.focus();
    };
    list.append(h("li", {}, h("span", {}, ...chemNodes(product ? product.name : id)),
      h("button", { type: "button", class: "ghost small up", disabled: index === 0,
                    aria: { label: t("catalogue.move_up", { name: product?.name }) }, text: "↑",
                    onclick: () => move(-1) }),
      h("button", { type: "button", class: "ghost small down", disabled: index === editing.members.length - 1,
                    aria: { label: t("catalogue.move_down", { name: product?.name }) }, text: "↓",
                    onclick: () => move(1) }),
      h("button", { type: "button", class: "ghost small", text: t("catalogue.remove"),
                    onclick: () => { editing.members.splice(index, 1); renderMembers(); } })));
  });
  const add = clear(document.getElementById("preset-add"));
  add.append(...products.filter((p) => p.status === "active" && !editing.members.includes(p.product_id))
    .map((p) => h("option", { value: p.product_id, text: chemPlain(p.name) })));
}

function openEditor(preset = null) {
  editing.presetId = preset?.preset_id || null;
  editing.members = preset ? preset.products.map((p) => p.product_id) : [];
  document.getElementById("preset-dialog-title").textContent =
    preset ? t("catalogue.edit_preset", { name: preset.name }) : t("catalogue.new_preset");
  document.getElementById("preset-name").value = preset?.name || "";
  fieldError("preset-name", "");
  fieldError("preset-product_ids", "");
  document.getElementById("preset-error").hidden = true;
  renderMembers();
  document.getElementById("preset-dialog").showModal();
  document.getElementById("preset-name").focus();
}

async function savePreset(presetId, body) {
  const reply = presetId
    ? await api(`/product_presets/${encodeURIComponent(presetId)}`, { method: "PUT", body })
    : await api("/product_presets", { method: "POST", body });
  if (!reply.ok) return reply.error;
  toast(t("catalogue.saved"), "success");
  await refresh();
  return null;
}

async function saveEditor() {
  const error = await savePreset(editing.presetId, {
    name: document.getElementById("preset-name").value, product_ids: editing.members });
  if (!error) {
    document.getElementById("preset-dialog").close();
    return;
  }
  const fields = flattenFields(error.details?.fields);
  fieldError("preset-name", (fields.name || []).join(" ") || (error.code === "conflict" ? error.message : ""));
  fieldError("preset-product_ids", Object.entries(fields).filter(([k]) => k.startsWith("product_ids"))
    .map(([, m]) => m.join(" ")).join(" "));
  const panel = document.getElementById("preset-error");
  panel.textContent = `${error.code}: ${error.message}`;
  panel.hidden = false;
}

document.getElementById("product-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("new-product");
  const reply = await api("/products", { method: "POST", body: { name: input.value } });
  if (!reply.ok) return fieldError("new-product", messageOf(reply.error));
  fieldError("new-product", "");
  input.value = "";
  toast(t("catalogue.added", { name: reply.data.name }), "success");
  await refresh();
  input.focus();
});
document.getElementById("add-standard").addEventListener("click", async () => {
  const reply = await api("/product_presets/standard", { method: "POST" });
  if (!reply.ok) return toast(reply.error.message, "error");
  toast(t("catalogue.standard_added", { n: reply.data.products_added.length }), "success");
  await refresh();
});
document.getElementById("show-archived").addEventListener("change", renderProducts);
document.getElementById("new-preset").addEventListener("click", () => openEditor());
document.getElementById("preset-add-button").addEventListener("click", () => {
  const id = document.getElementById("preset-add").value;
  if (id) { editing.members.push(id); renderMembers(); }
});
document.getElementById("preset-save").addEventListener("click", saveEditor);
await refresh();
