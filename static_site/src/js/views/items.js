// The items tab: the seller's catalogue with prices, stock (low stock marked) and what one
// unit costs to buy, in the currency it is paid in (¥1,200), copied into new orders.
import { api, describe } from "../api.js";
import { $, h, messageRow, notify, spinnerRow } from "../dom.js";
import { amountError, centsToNumber, money, parseCents } from "../format.js";
import { labelled, t } from "../i18n.js";
import { compact, costField, currency, fail, fillCurrencies, flash, formData, isStaff, loadPickers } from "../app.js";
import { PagedList } from "../paged.js";
import * as photos from "./item-photos.js";
import * as variants from "./item-variants.js";

const COLS = 6;
const list = new PagedList((page) => api.get("/items", { q: $("#item-q").value.trim(), ...page }));

export async function load(reset = true) {
  const body = $("#items-body");
  if (reset) {
    list.clear();
    body.replaceChildren(spinnerRow(COLS, t("common.loading")));
  }
  try {
    await list.load(reset);
    render();
  } catch (err) {
    body.replaceChildren(messageRow(COLS, describe(err), "text-danger"));
  }
}

export function render() {
  fillCurrencies($("#item-cost-currency"));
  const body = $("#items-body");
  body.replaceChildren(...list.items.map(itemRow));
  $("#items-more").classList.toggle("d-none", !list.more);
  if (!list.items.length) body.replaceChildren(messageRow(COLS, t("item.empty")));
}

export function reset() {
  list.clear();
  lastCostCurrency = null; // another seller may log in next
}

// Its stock movements open under the row (item-variants.js); a second tap closes them.
async function toggleMovements(i, tr) {
  const open = tr.nextElementSibling?.classList.contains("item-movements") ? tr.nextElementSibling : null;
  if (open) return open.remove();
  tr.after(
    await variants.movementsRow(i, COLS, async () => {
      await load(true); // the new stock, and the log open again with the adjustment on top
      const row = $(`#items-body tr[data-id="${i.id}"]`);
      const item = list.items.find((x) => x.id === i.id);
      if (row && item) row.after(await variants.movementsRow(item, COLS, () => load(true)));
    }),
  );
}

function itemRow(i) {
  return h(
    "tr",
    { dataset: { id: i.id } },
    h("td", { "data-label": t("item.name") }, h("span", {}, photos.thumb(i), i.item_name)),
    h("td", { "data-label": t("item.price"), class: "text-end" }, money(i.price, currency())),
    h("td", { "data-label": t("item.cost"), class: "text-end item-cost owner-only" }, i.cost === null || i.cost === undefined ? h("span", { class: "text-muted small" }, t("cost.none")) : money(i.cost, i.cost_currency || currency())),
    h("td", { "data-label": t("item.stock") }, variants.stockCell(i)),
    h("td", { "data-label": t("item.note") }, i.note || ""),
    h(
      "td",
      { class: "text-nowrap" },
      h("button", { class: "btn btn-sm btn-link", type: "button", onclick: () => edit(i) }, t("common.edit")),
      photos.button(i, reopenPhotos),
      h("button", { class: "btn btn-sm btn-link item-log", type: "button", onclick: (ev) => toggleMovements(i, ev.target.closest("tr")) }, t("item.movements")),
      h("button", { class: "btn btn-sm btn-link text-danger", type: "button", onclick: () => remove(i) }, t("common.delete")),
    ),
  );
}

// After a photo is added or removed: the list again, with that item's photos still open
// (and the pickers' items, whose photos the order panel and purchase list show).
async function reopenPhotos(id) {
  await load(true);
  $(`#items-body tr[data-id="${id}"] .item-photos-btn`)?.click();
  loadPickers();
}

function edit(i) {
  const form = $("#item-form");
  form.elements.id.value = i.id;
  form.elements.item_name.value = i.item_name;
  form.elements.price.value = String(i.price);
  form.elements.stock.value = i.stock ?? "";
  form.elements.note.value = i.note || "";
  form.elements.cost.value = i.cost === null || i.cost === undefined ? "" : String(i.cost);
  fillCurrencies(form.elements.cost_currency, i.cost_currency || currency());
  form.elements.low_stock.value = i.low_stock ?? "";
  variants.fill(i);
  $("#item-cancel").classList.remove("d-none");
  form.scrollIntoView({ behavior: "smooth" });
}

// The cost currency last saved with: a seller typing a trip's items in yen keeps yen for
// the next one instead of finding the shop's currency back after every save.
let lastCostCurrency = null;

function resetForm() {
  $("#item-form").reset();
  $("#item-form").elements.id.value = "";
  fillCurrencies($("#item-cost-currency"), lastCostCurrency || currency());
  variants.clear();
  $("#item-cancel").classList.add("d-none");
}

async function remove(i) {
  if (!confirm(`${labelled(t("common.delete"), i.item_name)}?`)) return;
  try {
    await api.del(`/items/${i.id}`);
    await load(true);
    loadPickers();
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
}

export function bind() {
  const form = $("#item-form");
  fillCurrencies(form.elements.cost_currency, currency());
  $("#item-cancel").addEventListener("click", resetForm);
  variants.bind();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $("#item-form-msg");
    const d = formData(form);
    const price = parseCents(d.price, currency());
    if (price === null || d.price === "") {
      notify(box, "danger", amountError(d.price, currency(), t("item.price"), "missing"));
      return;
    }
    const cost = costField(form.elements.cost, d.cost_currency, box, t("item.cost"));
    if (cost === undefined) return;
    const kinds = variants.payload(box, d.cost_currency);
    if (kinds === undefined) return;
    const body = {
      item_name: d.item_name,
      price: centsToNumber(price),
      stock: d.stock === "" || kinds.variants.length ? null : Number.parseInt(d.stock, 10),
      note: d.note || null,
      cost,
      cost_currency: cost === null && !kinds.variants.some((v) => v.cost !== null) ? null : d.cost_currency,
      low_stock: d.low_stock === "" ? null : Number.parseInt(d.low_stock, 10),
      ...kinds,
    };
    // A staff member sees no cost and sends none (a null would clear the owner's: the API refuses it).
    if (isStaff()) {
      delete body.cost;
      delete body.cost_currency;
      for (const v of body.variants || []) delete v.cost;
    }
    try {
      if (d.id) await api.patch(`/items/${d.id}`, body);
      else await api.post("/items", compact(body));
      notify(box, "success", t("common.saved"));
      if (cost !== null) lastCostCurrency = d.cost_currency;
      resetForm();
      await load(true);
      loadPickers();
    } catch (err) {
      if (err.status !== 401) fail(box, err);
    }
  });
  let timer;
  $("#item-q").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(true), 300);
  });
  $("#items-more").addEventListener("click", () => load(false));
}
