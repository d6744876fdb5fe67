// What the seller page's views share: the shop (seller profile), the flash box, form
// helpers, the buyer/item pickers and navigation between tabs (set up by seller.js).
import { api, describe, getSeller } from "./api.js";
import { $, h, notify } from "./dom.js";
import { money, parseCents } from "./format.js";
import { t } from "./i18n.js";

export const shop = { seller: getSeller() };
export const currency = () => shop.seller?.currency || "TWD";
export const flash = (kind, ...content) => notify($("#flash"), kind, ...content);
export const fail = (box, err) => notify(box, "danger", describe(err));
export const PAGE = 100;

/** The page's fields as an object; text trimmed, passwords exactly as typed. */
export function formData(form) {
  const data = {};
  for (const el of form.elements) {
    if (!el.name || el.type === "file") continue;
    data[el.name] = el.type === "checkbox" ? el.checked : el.type === "password" ? el.value : el.value.trim();
  }
  return data;
}

/** Drop empty optional fields; the API treats a missing field as "not given". */
export function compact(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== "" && v !== undefined && v !== null));
}

/** Cents from a money field, or null (and the field marked) when it is not an amount. */
export function moneyField(form, name, box, label = t(`order.${name}`)) {
  const cents = parseCents(form.elements[name].value);
  if (cents === null) {
    form.elements[name].classList.add("is-invalid");
    notify(box, "danger", `${label}: ${t("err.invalid_money")}`);
    return null;
  }
  form.elements[name].classList.remove("is-invalid");
  return cents;
}

// --- pickers: buyers and items for forms and filters ------------------------------------

export const pickers = { customers: [], items: [] };

export async function loadPickers() {
  try {
    const [cust, its] = await Promise.all([api.get("/customers", { limit: 200 }), api.get("/items", { limit: 200 })]);
    pickers.customers = cust.items;
    pickers.items = its.items;
    fillPickers();
  } catch (err) {
    if (err.status !== 401) flash("warning", describe(err));
  }
}

export function fillPickers() {
  $("#customer-emails").replaceChildren(...pickers.customers.map((c) => h("option", { value: c.email }, c.name)));
  $("#item-names").replaceChildren(...pickers.items.map((i) => h("option", { value: i.item_name }, money(i.price, currency()))));
  for (const select of document.querySelectorAll("select[data-buyers]")) {
    const chosen = select.value || select.dataset.want || "";
    const first = select.dataset.buyers === "all" ? [h("option", { value: "" }, t("common.all"))] : [];
    select.replaceChildren(...first, ...pickers.customers.map((c) => h("option", { value: c.id }, c.name)));
    // A buyer beyond the first 200 (or not loaded yet) stays chosen.
    if (chosen && !pickers.customers.some((c) => c.id === chosen)) select.append(h("option", { value: chosen }, chosen));
    select.value = chosen;
  }
}

// --- navigation: seller.js sets this up ----------------------------------------------------

export const nav = {
  /** go("orders", {customer_id}) opens a tab, optionally with its filters. */
  go: () => {},
  /** Keep the open tab and the filters in the page's address (a new history entry). */
  remember: () => {},
};
