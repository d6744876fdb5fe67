// What the seller page's views share: the shop (seller profile), the flash box, form
// helpers, the buyer/item pickers and navigation between tabs (set up by seller.js).
import { api, describe, getSeller } from "./api.js";
import { fillBuyerPicker } from "./buyer-picker.js";
import { buyerText, contactLabel } from "./buyers.js";
import { $, h, notify } from "./dom.js";
import { amountError, parseCents } from "./format.js";
import { aside, labelled, t } from "./i18n.js";

export const shop = { seller: getSeller() };
/** A staff member (issue 31, GET /auth/me's `member.role`): no costs, rates, profit, shop
 *  settings or members. The API refuses them whatever the page shows. */
export const isStaff = () => shop.seller?.member?.role === "staff";
/** Mark the page with the role: `.owner-only` parts hide for staff, `.staff-only` show (app.css). */
export function applyRole() {
  document.body.dataset.role = isStaff() ? "staff" : "owner";
}
export const currency = () => shop.seller?.currency || "TWD";
export const flash = (kind, ...content) => notify($("#flash"), kind, ...content);
export const fail = (box, err) => notify(box, "danger", describe(err));
/** An order's item with its variant: "T恤（黑 / M）" (issue 30). */
export const itemText = (o) => (o.variant_label ? aside(o.item_name, o.variant_label) : o.item_name);

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

/** Cents from a money field as typed (NT$1,200, １２００: format.typedAmount), or null (and
 *  the field marked, the reason said) when it is not an amount. */
export function moneyField(form, name, box, label = t(`order.${name}`)) {
  const cents = parseCents(form.elements[name].value, currency());
  if (cents === null) {
    form.elements[name].classList.add("is-invalid");
    notify(box, "danger", amountError(form.elements[name].value, currency(), label));
    return null;
  }
  form.elements[name].classList.remove("is-invalid");
  return cents;
}

// --- pickers: buyers and items for forms and filters ------------------------------------

export const pickers = { customers: [], items: [], customersMore: false };

/** Buyers beyond the first 200 are found by the server (`?q=` matches name, email, phone, LINE ID). */
export const searchCustomers = (q) => api.get("/customers", { q, sort: "name", limit: 50 }).then((page) => page.items);

export async function loadPickers() {
  try {
    const [cust, its] = await Promise.all([api.get("/customers", { limit: 200, sort: "name" }), api.get("/items", { limit: 200 })]);
    pickers.customers = cust.items;
    pickers.customersMore = Boolean(cust.next_cursor);
    pickers.items = its.items;
    fillPickers();
  } catch (err) {
    if (err.status !== 401) flash("warning", describe(err));
  }
}

/** The contact label of buyer `id` (the loaded list knows their LINE ID), else of `known`. */
export const buyerContact = (id, known = {}) => contactLabel(pickers.customers.find((c) => c.id === id) || known);

export function fillPickers() {
  const withEmail = pickers.customers.filter((c) => c.email);
  $("#customer-emails").replaceChildren(...withEmail.map((c) => h("option", { value: c.email }, buyerText(c))));
  for (const select of document.querySelectorAll("select[data-buyers]")) {
    const first = t(select.dataset.buyers === "all" ? "common.all" : "pay.pick_buyer");
    fillBuyerPicker(select, pickers.customers, { first, search: pickers.customersMore ? searchCustomers : null });
  }
}

// --- navigation: seller.js sets this up ----------------------------------------------------

export const nav = {
  /** go("orders", {customer_id}) opens a tab, optionally with its filters. */
  go: () => {},
  /** Keep the open tab and the filters in the page's address (a new history entry). */
  remember: () => {},
};

// --- costs (issue 14): the purchase cost of one unit, in the currency it was paid in ---------

/** The currencies offered for a cost (the shop's own is added when it is not one of them). */
export const COST_CURRENCIES = ["TWD", "JPY", "KRW", "USD", "HKD", "CNY", "EUR", "GBP", "THB", "SGD", "MYR", "AUD"];

/** Fill a currency <select>: the common codes (and `chosen` when it is another), `chosen`
 *  or the shop's currency selected. `except` leaves codes out (a batch's rates: the shop's). */
export function fillCurrencies(select, chosen, { except = [] } = {}) {
  const want = chosen || select.value || currency();
  const codes = [...new Set([currency(), ...COST_CURRENCIES, want])].filter((c) => c && !except.includes(c));
  codes.sort((a, b) => (a === currency() ? -1 : b === currency() ? 1 : COST_CURRENCIES.indexOf(a) - COST_CURRENCIES.indexOf(b)));
  select.replaceChildren(...codes.map((c) => h("option", { value: c }, c)));
  if (codes.includes(want)) select.value = want;
}

/** Whether a currency has no minor unit (JPY, KRW: a cost in whole yen or won). */
export function wholeUnits(code) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits === 0;
  } catch {
    return false;
  }
}

/** A typed cost as the JSON number the API takes: "" → null (no cost), a bad amount (or
 *  decimals on yen or won) → undefined, with the field marked and the reason in `box`. */
export function costField(input, code, box, label) {
  const text = input.value.trim();
  if (text === "") {
    input.classList.remove("is-invalid");
    return null;
  }
  const cents = parseCents(text, code); // ¥1,500 for a JPY cost
  if (cents === null || (wholeUnits(code) && cents % 100 !== 0)) {
    input.classList.add("is-invalid");
    notify(box, "danger", cents === null ? amountError(text, code, label) : labelled(label, t("cost.whole_units", { currency: code })));
    return undefined;
  }
  input.classList.remove("is-invalid");
  return Number(`${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`);
}
