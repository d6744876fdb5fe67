// The orders tab: the new-order form, filters, the list (rows on a desktop, cards on a
// phone), inline toggles, bulk actions, CSV import and export.
import { api, codeText, describe, detailLine, download, request } from "../api.js";
import { $, $$, ask, h, messageRow, notify, spinnerRow } from "../dom.js";
import { centsToNumber, date, money, parseCents } from "../format.js";
import { has, labelled, t } from "../i18n.js";
import { compact, costField, currency, fail, fillCurrencies, flash, formData, loadPickers, moneyField, nav, pickers } from "../app.js";
import { setBuyer } from "../buyer-picker.js";
import { PagedList } from "../paged.js";
import { fillForm } from "../session.js";
import * as detail from "./order-detail.js";
import { FULFILLMENT_STATUSES, PAYMENT_STATUSES } from "../constants.js";

// `partial` (some money, from the payments tab) can be filtered and is shown; never set here.
const PAYMENT = PAYMENT_STATUSES;
const FULFILLMENT = FULFILLMENT_STATUSES;
const COLS = 10;
const SORTS = ["-created_at", "created_at", "-order_no", "order_no", "-total_amount", "total_amount"];
const DEFAULT_SORT = "-created_at";
const DRAFT = "order-draft"; // the half-typed new order, kept across a reload
const UNDO_MS = 8000;
const BULK_BUTTONS = ["#bulk-remit", "#bulk-ship", "#bulk-carrier"];

// The orders listed, one per id (`list.loaded`: a page of them is on screen, not loading
// and not an error); rows change in place as the server answers a change.
const list = new PagedList((page) => api.get("/orders", { ...filters(), ...page }), { key: (o) => o.id });

const state = {
  selected: new Set(),
  bulkBusy: false, // a bulk action is being confirmed or runs: one at a time
  total: null, // total_count of the first page
  firstRender: null,
};

// --- loading and drawing ------------------------------------------------------------------

/** The filters as the page's address keeps them (the default sort left out). */
export function filterParams() {
  const params = compact(formData($("#order-filters")));
  if (params.sort === DEFAULT_SORT) delete params.sort;
  if (formFilter.id) params.form_id = formFilter.id;
  return params;
}

// --- the orders of one order form (issue 15): ?form_id=… from the forms tab, as a chip ------

const formFilter = { id: "", title: "" };

function showFormFilter() {
  let chip = $("#orders-form-filter");
  if (!chip) {
    chip = h("div", { id: "orders-form-filter", class: "d-none", "aria-live": "polite" });
    $("#bulk-bar").before(chip);
  }
  chip.classList.toggle("d-none", !formFilter.id);
  if (!formFilter.id) {
    chip.replaceChildren();
    return;
  }
  chip.replaceChildren(
    h(
      "div",
      { class: "alert alert-info py-1 px-2 mb-2 d-flex flex-wrap align-items-center gap-2" },
      h("span", { class: "me-auto text-break" }, t("forms.orders_of"), " ", h("strong", { class: "orders-form-title" }, formFilter.title || "…")),
      h("button", { class: "btn btn-sm btn-outline-secondary", type: "button", id: "orders-form-clear", onclick: () => {
        formFilter.id = "";
        formFilter.title = "";
        showFormFilter();
        nav.remember();
        load(true);
      } }, t("forms.all_orders")),
    ),
  );
}

/** A calendar day in the browser's zone → the UTC instant it starts (or, for `to`, ends). */
function dayBound(day, end) {
  const start = new Date(`${day}T00:00:00`);
  if (Number.isNaN(start.getTime())) return undefined;
  if (end) start.setDate(start.getDate() + 1);
  return new Date(start.getTime() - (end ? 1000 : 0)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The filters as GET /orders takes them. */
function filters() {
  const params = filterParams();
  if (params.from) params.from = dayBound(params.from, false);
  if (params.to) params.to = dayBound(params.to, true);
  return params;
}

export async function load(reset = true) {
  const body = $("#orders-body");
  if (reset) {
    list.clear();
    state.selected.clear();
    body.replaceChildren(spinnerRow(COLS, t("common.loading")));
    updateBulk();
  }
  const query = filters();
  const shown = list.items.length;
  const started = performance.now();
  try {
    const page = await list.load(reset);
    const fetched = performance.now();
    if (formFilter.id && !formFilter.title && page.items[0]?.form_title) {
      formFilter.title = page.items[0].form_title;
      showFormFilter();
    }
    if (reset) {
      body.replaceChildren();
      state.total = page.total_count ?? null;
    }
    const frag = document.createDocumentFragment();
    for (const o of list.items.slice(reset ? 0 : shown)) frag.append(orderRow(o));
    body.append(frag);
    $("#orders-more").classList.toggle("d-none", !list.more);
    if (!list.items.length) body.replaceChildren(emptyRow(query));
    showCount();
    fillBatches();
    if (state.firstRender === null) {
      // Measured by bench/bench_frontend.py: navigation start → first page of orders on screen.
      performance.mark("orders-rendered");
      const now = performance.now();
      state.firstRender = { sinceNavigation: now, fetchAndRender: now - started, fetch: fetched - started, render: now - fetched, rows: list.items.length };
      window.__ordersFirstRender = state.firstRender;
    }
    // bench/bench_frontend.py times a filter change up to here.
    window.__ordersRendered = { at: performance.now(), rows: list.items.length, seq: (window.__ordersRendered?.seq || 0) + 1 };
  } catch (err) {
    if (reset) body.replaceChildren(messageRow(COLS, describe(err), "text-danger"));
    else flash("danger", describe(err));
  }
}

const emptyRow = (query) => messageRow(COLS, t(Object.keys(query).length ? "order.empty_filtered" : "order.empty"));

function showCount() {
  const shown = list.items.length;
  const n = state.total ?? shown;
  $("#orders-count").textContent = shown < n ? t("order.count_some", { shown, n }) : t("order.count", { n });
}

/** Redraw the loaded orders (a language change) without asking the server again. */
export function render() {
  detail.render();
  fillCurrencies($("#order-form").elements.cost_currency);
  for (const sel of $$("#order-filters select[data-options]")) statusOptions(sel);
  sortOptions();
  showFormFilter();
  if (!list.loaded) return;
  const body = $("#orders-body");
  body.replaceChildren(...list.items.map(orderRow));
  if (!list.items.length) body.replaceChildren(emptyRow(filters()));
  showCount();
  updateBulk();
}

/** Show the orders matching `params` (e.g. a buyer's, from the reports tab) next time. */
export function setFilters(params, { refresh = true } = {}) {
  const form = $("#order-filters");
  form.reset();
  form.elements.sort.value = DEFAULT_SORT;
  const buyer = $("#filter-buyer");
  buyer.dataset.want = params.customer_id || "";
  formFilter.id = params.form_id || "";
  formFilter.title = params.form_title || "";
  showFormFilter();
  const known = pickers.customers.some((c) => c.id === params.customer_id);
  fillForm(form, params);
  setBuyer(buyer, params.customer_id || "");
  // A buyer added since the pickers were loaded (start-up loads them anyway).
  if (params.customer_id && !known && refresh) loadPickers();
}

/** What is typed in the new-order form beyond its defaults (quantity 1, no fee). */
export function draftValues() {
  const d = formData($("#order-form"));
  return Object.fromEntries(
    Object.entries(d).filter(
      ([k, v]) => v && !(k === "quantity" && v === "1") && !(k === "shipping_fee" && v === "0") && !(k === "cost_currency" && !d.cost),
    ),
  );
}

/** Forget the loaded orders (log out). */
export function reset() {
  sessionStorage.removeItem(DRAFT);
  list.clear();
  state.selected.clear();
}

function fillBatches() {
  const batches = new Set(list.items.map((o) => o.batch).filter(Boolean));
  $("#batch-names").replaceChildren(...[...batches].sort().map((b) => h("option", { value: b })));
}

function statusOptions(select) {
  const [prefix, values] = select.dataset.options === "pay" ? ["pay", PAYMENT] : ["ful", FULFILLMENT];
  const chosen = select.value;
  select.replaceChildren(h("option", { value: "" }, t("common.all")), ...values.map((v) => h("option", { value: v }, t(`${prefix}.${v}`))));
  select.value = chosen;
}

function sortOptions() {
  const select = $("#order-sort");
  const chosen = select.value || DEFAULT_SORT;
  select.replaceChildren(...SORTS.map((v) => h("option", { value: v }, t(`sort.${v}`))));
  select.value = chosen;
}

/** A switch whose label (shown on a phone) is the whole tap target. */
function toggle(label, checked, onchange, extra = {}) {
  return h(
    "label",
    { class: "form-check form-switch mb-0 switch-label" },
    h("input", { class: "form-check-input", type: "checkbox", role: "switch", checked, onchange, "aria-label": label, ...extra }),
    h("span", { class: "switch-text", "aria-hidden": "true" }, label),
  );
}

function orderRow(o) {
  const cancelled = o.fulfillment_status === "cancelled";
  const shipped = o.fulfillment_status === "shipped" || o.fulfillment_status === "delivered";
  const status = h(
    "select",
    { class: "form-select form-select-sm", "aria-label": t("order.status"), name: "fulfillment_status" },
    FULFILLMENT.map((v) => h("option", { value: v, selected: v === o.fulfillment_status }, t(`ful.${v}`))),
  );
  status.addEventListener("change", () => changeStatus(o.id, { fulfillment_status: status.value }));
  const textInput = (field, label) => {
    const input = h("input", { class: "form-control form-control-sm", name: field, value: o[field] || "", "aria-label": label, placeholder: label });
    input.addEventListener("change", () => patchOrder(o.id, { [field]: input.value.trim() || null }));
    return input;
  };
  return h(
    "tr",
    { dataset: { id: o.id, orderNo: String(o.order_no) }, class: cancelled ? "text-decoration-line-through text-muted" : "" },
    h(
      "td",
      { class: "cell-select" },
      h("label", { class: "select-hit" }, h("input", {
        class: "form-check-input row-select",
        type: "checkbox",
        checked: state.selected.has(o.id),
        "aria-label": `#${o.order_no}`,
        onchange: (ev) => {
          if (ev.target.checked) state.selected.add(o.id);
          else state.selected.delete(o.id);
          updateBulk();
        },
      })),
    ),
    h(
      "td",
      { "data-label": t("order.no"), class: "cell-no" },
      h(
        "span",
        {},
        h("button", { class: "btn btn-link order-open", type: "button", "aria-label": t("detail.open", { no: o.order_no }), onclick: () => openDetail(o.id) }, `#${o.order_no}`),
        h("small", { class: "d-block text-muted" }, date(o.created_at)),
      ),
    ),
    h("td", { "data-label": t("order.buyer"), class: "cell-buyer" }, h("span", {}, o.buyer_name, h("small", { class: "d-block text-muted buyer-email" }, o.buyer_email))),
    h(
      "td",
      { "data-label": t("order.item"), class: "cell-item" },
      o.source === "form" ? h("span", {}, `${o.item_name} × ${o.quantity}`, h("small", { class: "d-block text-muted order-source" }, t("forms.from_form", { title: o.form_title || "" }))) : `${o.item_name} × ${o.quantity}`,
    ),
    h("td", { "data-label": t("order.total"), class: "text-end text-nowrap cell-total" }, money(o.total_amount, currency())),
    h("td", { "data-label": t("order.batch"), class: "cell-batch" }, o.batch || ""),
    h(
      "td",
      { "data-label": t("order.remitted"), class: "cell-remitted" },
      h(
        "div",
        { class: "remitted-box" },
        toggle(t("order.remitted"), o.payment_status === "remitted", (ev) =>
          changeStatus(o.id, { payment_status: ev.target.checked ? "remitted" : "unpaid" }),
        { name: "remitted" }),
        o.payment_status === "partial" || o.payment_status === "refunded"
          ? h("span", { class: `badge pay-state ${o.payment_status === "partial" ? "text-bg-warning" : "text-bg-secondary"}` }, t(`pay.${o.payment_status}`))
          : null,
      ),
    ),
    h(
      "td",
      { "data-label": t("order.shipped"), class: "cell-shipped" },
      h(
        "div",
        {},
        toggle(t("order.shipped"), shipped, (ev) => changeStatus(o.id, { fulfillment_status: ev.target.checked ? "shipped" : "purchased" }), {
          disabled: cancelled,
          name: "shipped",
        }),
        h("span", { class: "shipped-date" }, o.shipped_date ? date(o.shipped_date) : ""),
      ),
    ),
    h("td", { "data-label": t("order.shipping"), class: "cell-ship" }, h("div", { class: "d-grid gap-1" }, textInput("carrier", t("order.carrier")), textInput("tracking_number", t("order.tracking")))),
    h("td", { "data-label": t("order.status"), class: "cell-status" }, status),
  );
}

/** Bring a row in step with the server's order in place, so a field the seller is typing
 *  in (say the tracking number, while the carrier change is being saved) is left alone. */
export function replaceRow(order) {
  if (!list.replace(order)) return; // filtered out of the list meanwhile
  const row = $(`#orders-body tr[data-id="${order.id}"]`);
  if (!row) return;
  const fresh = orderRow(order);
  row.className = fresh.className;
  row.classList.remove("busy");
  const cells = [...row.children];
  const focused = document.activeElement;
  [...fresh.children].forEach((cell, i) => {
    if (i === 0) return; // the selection checkbox
    const hasFocus = cells[i].contains(focused);
    if (hasFocus && focused.type === "text") return;
    cells[i].replaceWith(cell);
    // Keyboard focus stays on the switch (or menu) that was just used.
    if (hasFocus && focused.name) cell.querySelector(`[name="${focused.name}"]`)?.focus();
  });
}

function openDetail(id) {
  detail.open(list.get(id), (order, before, body) => {
    replaceRow(order);
    offerStatusUndo(before, order, body);
  });
}

// --- status changes: ask before a cancel, offer undo after the others -------------------------

/** The PATCH that puts an order's statuses back, or null when the rules do not allow it. */
function undoPatch(before, body) {
  if (body.fulfillment_status === "cancelled") return null; // a cancel is final
  const back = {};
  // partly paid cannot be set: the payments tab voids a payment instead
  if ("payment_status" in body && body.payment_status !== before.payment_status && before.payment_status !== "partial") {
    back.payment_status = before.payment_status;
  }
  if ("fulfillment_status" in body && body.fulfillment_status !== before.fulfillment_status) {
    back.fulfillment_status = before.fulfillment_status;
    if (before.shipped_date) back.shipped_date = before.shipped_date; // keep the day it really left
  }
  if ("carrier" in body && body.carrier !== before.carrier) back.carrier = before.carrier;
  return Object.keys(back).length ? back : null;
}

/** Whether `after` differs from `before` in a field `body` set (timestamps have only
 *  second precision, so they cannot tell). */
function changedBy(before, after, body) {
  return Object.keys(body).some((k) => (before[k] ?? null) !== (after[k] ?? null));
}

function statusWords(body) {
  const words = [];
  if (body.payment_status) words.push(t(`pay.${body.payment_status}`));
  if (body.fulfillment_status) words.push(t(`ful.${body.fulfillment_status}`));
  if (body.carrier) words.push(`${t("order.carrier")} ${body.carrier}`);
  return words.join(t("common.list_sep"));
}

function offerStatusUndo(before, after, body) {
  const back = undoPatch(before, body);
  if (!back || !changedBy(before, after, body)) return;
  offerUndo(t("undo.one", { no: after.order_no, what: statusWords(body) }), async () => {
    const order = await patchOrder(after.id, back);
    if (order) flash("success", t("undo.done"));
  });
}

let undoTimer = null;

/** "Changed. [Undo]" at the bottom of the screen for a few seconds. */
export function offerUndo(text, fn) {
  const bar = $("#undo-bar");
  clearTimeout(undoTimer);
  // Over an open order panel (a modal dialog) the bar must be inside it to be reachable.
  const host = document.querySelector("dialog.order-panel[open]") || document.body;
  if (bar.parentElement !== host) host.append(bar);
  const btn = h("button", { class: "btn btn-sm btn-warning undo", type: "button" }, t("undo.button"));
  btn.addEventListener("click", () => {
    clearTimeout(undoTimer);
    bar.replaceChildren();
    fn();
  });
  bar.replaceChildren(h("div", {}, h("span", {}, text), btn));
  undoTimer = setTimeout(() => bar.replaceChildren(), UNDO_MS);
}

async function changeStatus(id, body) {
  const before = list.get(id);
  if (body.fulfillment_status === "cancelled") {
    const ok = await ask(t("confirm.cancel_one", { no: before.order_no }), t("confirm.cancel_yes"), t("confirm.cancel_no"));
    if (!ok) {
      replaceRow(before); // the menu goes back to what it was
      return;
    }
  }
  const after = await patchOrder(id, body);
  if (after) offerStatusUndo(before, after, body);
}

// Changes to one order go to the server one after another (a quick remit-then-ship must
// not have its answers arrive out of order), and the row is redrawn when the last is back.
const queues = new Map();

/** Resolves to the changed order, or null when the change was refused (and said so). */
export function patchOrder(id, changes) {
  const entry = queues.get(id) || { tail: Promise.resolve(), waiting: 0 };
  queues.set(id, entry);
  entry.waiting += 1;
  $(`#orders-body tr[data-id="${id}"]`)?.classList.add("busy");
  const result = entry.tail.then(async () => {
    let changed = null;
    try {
      changed = await api.patch(`/orders/${id}`, changes);
      list.replace(changed);
    } catch (err) {
      if (err.status !== 401) flash("danger", labelled(`#${list.get(id)?.order_no}`, describe(err)));
    }
    entry.waiting -= 1;
    if (entry.waiting === 0) {
      queues.delete(id);
      const now = list.get(id); // as the server has it (a refused change is undone)
      if (now) replaceRow(now);
    }
    return changed;
  });
  entry.tail = result;
  return result;
}

// --- bulk ---------------------------------------------------------------------------------

function updateBulk() {
  const n = state.selected.size;
  $("#bulk-count").textContent = n ? t("order.selected", { n }) : "";
  for (const id of BULK_BUTTONS) $(id).disabled = n === 0 || state.bulkBusy;
  const all = $("#select-all");
  all.checked = n > 0 && n === list.items.length;
  all.indeterminate = n > 0 && n < list.items.length;
}

/** From the first click until the answer the bulk buttons stay disabled (a second click
 * sends nothing) and, once confirmed, a spinner says what is being done (100 orders of
 * 30 buyers may take seconds); `busy` false puts the bar back. */
function bulkProgress(busy, text = "") {
  state.bulkBusy = busy;
  updateBulk();
  let box = $("#bulk-progress");
  if (!box) {
    box = h("span", { id: "bulk-progress", class: "small text-muted d-none", role: "status", "aria-live": "polite" });
    $("#bulk-count").after(box);
  }
  const shown = busy && Boolean(text); // not while the question is asked
  box.classList.toggle("d-none", !shown);
  $("#bulk-bar").setAttribute("aria-busy", String(shown));
  box.replaceChildren(...(shown ? [h("span", { class: "spinner-border spinner-border-sm me-1", "aria-hidden": "true" }), text] : []));
}

async function bulk(set, question) {
  const ids = [...state.selected];
  if (!ids.length || state.bulkBusy) return;
  const label = set.carrier ? "order.bulk_carrier" : set.payment_status ? "order.bulk_remit" : "order.bulk_ship";
  bulkProgress(true); // buttons off from the first click: a double click asks once
  try {
    if (!(await ask(question, t(label), t("confirm.back"), { danger: false }))) return;
    bulkProgress(true, t(set.carrier ? "order.bulk_carrier_working" : set.payment_status ? "order.bulk_remit_working" : "order.bulk_ship_working", { n: ids.length }));
    await runBulk(ids, set);
  } finally {
    bulkProgress(false);
  }
}

async function runBulk(ids, set) {
  const before = new Map(ids.map((id) => [id, list.get(id)]));
  try {
    const out = await api.post("/orders/bulk", { ids, set });
    const msgs = [t(set.payment_status ? "order.bulk_remit_done" : "order.bulk_done", { n: out.updated })];
    if (out.unchanged) msgs.push(" ", t("order.bulk_unchanged", { n: out.unchanged }));
    if (out.failed.length) {
      const reason = (code) => (has(`bulk.${code}`) ? t(`bulk.${code}`) : codeText(code, 409));
      const reasons = out.failed.map((f) => `#${list.get(f.id)?.order_no ?? f.id} ${reason(f.error)}`).join(", ");
      msgs.push(" ", t("order.bulk_failed", { n: out.failed.length, reasons }));
    }
    flash(out.failed.length ? "warning" : "success", ...msgs);
    await load(true);
    if (out.updated) offerBulkUndo(before, set, out.updated);
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
}

/** Bulk only moves forward, so undo puts each changed order back with its own PATCH. */
function offerBulkUndo(before, set, n) {
  offerUndo(t("undo.bulk", { n }), async () => {
    const failed = [];
    for (const [id, old] of before) {
      const now = list.get(id);
      if (!old || (now && !changedBy(old, now, set))) continue; // not changed by the bulk
      const back = undoPatch(old, set);
      if (!back) continue;
      try {
        replaceRow(await api.patch(`/orders/${id}`, back));
      } catch (err) {
        failed.push(`#${old.order_no} ${describe(err)}`);
      }
    }
    if (failed.length) flash("warning", t("undo.partly", { reasons: failed.join("; ") }));
    else flash("success", t("undo.done"));
  });
}

// --- the new-order form ---------------------------------------------------------------------

const findItem = (name) => pickers.items.find((i) => i.item_name === name);

export function updateTotal() {
  const form = $("#order-form");
  const qty = Number.parseInt(form.elements.quantity.value, 10);
  const unit = parseCents(form.elements.unit_price.value, currency());
  const fee = parseCents(form.elements.shipping_fee.value, currency());
  const ok = Number.isInteger(qty) && qty > 0 && unit !== null && fee !== null && form.elements.unit_price.value !== "";
  $("#order-total").textContent = ok ? money(centsToNumber(qty * unit + fee), currency()) : "—";
}

let idempotencyKey = null;
const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

function bindForm() {
  const form = $("#order-form");
  fillCurrencies(form.elements.cost_currency, currency());
  try {
    const draft = JSON.parse(sessionStorage.getItem(DRAFT) || "{}");
    fillForm(form, draft);
    form.elements.customer_id.dataset.want = draft.customer_id || ""; // chosen once the pickers load
  } catch {
    sessionStorage.removeItem(DRAFT);
  }
  // A chosen buyer or a new one: choosing one empties the other.
  const NEW_BUYER = ["buyer_name", "buyer_phone", "buyer_line_id", "buyer_email"];
  form.elements.customer_id.addEventListener("change", () => {
    if (form.elements.customer_id.value) for (const name of NEW_BUYER) form.elements[name].value = "";
    form.elements.customer_id.dataset.want = "";
    idempotencyKey = null;
    sessionStorage.setItem(DRAFT, JSON.stringify(formData(form)));
  });
  form.addEventListener("input", (ev) => {
    if (ev.target.name === "item_name") {
      const item = findItem(ev.target.value.trim());
      if (item) form.elements.unit_price.value = String(item.price);
      // The item's cost comes along (the server would copy it too); typed over, it is the order's own.
      if (item) form.elements.cost.value = item.cost === null || item.cost === undefined ? "" : String(item.cost);
      if (item?.cost_currency) fillCurrencies(form.elements.cost_currency, item.cost_currency);
    }
    if (NEW_BUYER.includes(ev.target.name) && ev.target.value && form.elements.customer_id.value) setBuyer(form.elements.customer_id, "");
    if (ev.target.name === "buyer_email") {
      const email = ev.target.value.trim().toLowerCase();
      const c = pickers.customers.find((x) => x.email && x.email.toLowerCase() === email);
      form.elements.buyer_name.placeholder = c ? c.name : "";
    }
    idempotencyKey = null; // a changed form is a new order, not a retry
    updateTotal();
    sessionStorage.setItem(DRAFT, JSON.stringify(formData(form)));
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $("#order-form-msg");
    const d = formData(form);
    const unit = moneyField(form, "unit_price", box);
    const fee = moneyField(form, "shipping_fee", box);
    if (unit === null || fee === null) return;
    const cost = costField(form.elements.cost, d.cost_currency, box, t("order.cost"));
    if (cost === undefined) return;
    const item = findItem(d.item_name);
    const buyer = orderBuyer(form, d, box);
    if (!buyer) return;
    const payload = compact({
      ...buyer,
      quantity: Number.parseInt(d.quantity, 10),
      unit_price: d.unit_price === "" ? undefined : centsToNumber(unit),
      shipping_fee: centsToNumber(fee),
      batch: d.batch,
      note: d.note,
    });
    if (cost !== null) Object.assign(payload, { cost, cost_currency: d.cost_currency });
    if (item) payload.item_id = item.id;
    else payload.item_name = d.item_name;
    idempotencyKey ||= newKey();
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      const order = await request("POST", "/orders", { body: payload, headers: { "Idempotency-Key": idempotencyKey } });
      idempotencyKey = null;
      notify(box, "success", t("order.created", { no: order.order_no }));
      for (const name of ["item_name", "unit_price", "note", "cost"]) form.elements[name].value = "";
      if (buyer.buyer) {
        // The new buyer now exists: the next order for them picks them.
        for (const name of NEW_BUYER) form.elements[name].value = "";
        setBuyer(form.elements.customer_id, order.customer_id, order.buyer_name);
      }
      form.elements.quantity.value = "1";
      sessionStorage.setItem(DRAFT, JSON.stringify(formData(form)));
      updateTotal();
      await load(true);
      loadPickers();
    } catch (err) {
      if (err.status !== 401) fail(box, err);
    } finally {
      btn.disabled = false;
    }
  });
}

/** Who the new order is for: the chosen buyer, a new buyer with a phone or LINE ID
 *  (`buyer: {...}`), or an email (found or created, as before). Null (with the reason shown)
 *  when neither is given. */
function orderBuyer(form, d, box) {
  const fields = ["customer_id", "buyer_name", "buyer_phone", "buyer_line_id", "buyer_email"];
  for (const name of fields) form.elements[name].classList.remove("is-invalid");
  form.elements.customer_id.tomselect?.wrapper.classList.remove("is-invalid");
  if (d.customer_id) return { customer_id: d.customer_id };
  if (d.buyer_phone || d.buyer_line_id) {
    if (!d.buyer_name) {
      form.elements.buyer_name.classList.add("is-invalid");
      notify(box, "danger", labelled(t("cust.name"), t("detail.cannot_be_null")));
      return null;
    }
    return { buyer: compact({ name: d.buyer_name, phone: d.buyer_phone, line_id: d.buyer_line_id, email: d.buyer_email }) };
  }
  if (d.buyer_email) return { buyer_email: d.buyer_email, buyer_name: d.buyer_name };
  form.elements.customer_id.tomselect?.wrapper.classList.add("is-invalid");
  for (const name of ["buyer_phone", "buyer_line_id", "buyer_email"]) form.elements[name].classList.add("is-invalid");
  notify(box, "danger", t("order.buyer_required"));
  return null;
}

// --- import and export ----------------------------------------------------------------------

function bindImportExport() {
  $("#export-csv").addEventListener("click", async () => {
    try {
      await download("/export/orders", { format: "csv" }, "orders.csv");
    } catch (err) {
      if (err.status !== 401) flash("danger", describe(err));
    }
  });
  $("[data-toggle-box=import-box]").addEventListener("click", () => $("#import-box").classList.toggle("d-none"));
  $("#import-box").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const file = ev.target.elements.file.files[0];
    if (file) runImport(file, { dryRun: ev.target.elements.dry_run.checked });
  });
}

/** Import (or check) a CSV file; rows matching existing orders are the seller's choice. */
async function runImport(file, { dryRun, skip }) {
  const box = $("#import-msg");
  box.replaceChildren(h("span", { class: "spinner-border spinner-border-sm", role: "status" }));
  const query = dryRun ? { dry_run: "true" } : {};
  if (skip !== undefined) query.skip_duplicates = String(skip);
  try {
    const out = await request("POST", "/import/orders", { raw: await file.text(), contentType: "text/csv", query });
    const n = dryRun ? out?.rows : out?.created;
    const already = out?.skipped || out?.duplicates?.length || 0;
    // A check of a file the shop already has (an export read back) says so, not "All 0 rows are valid".
    const msgs = dryRun && already ? [t("order.import_already", { n: already, new: n })] : [t(dryRun ? "order.import_checked" : "order.import_ok", { n })];
    if (!dryRun && out?.skipped) msgs.push(" ", t("order.import_skipped", { n: out.skipped }));
    notify(box, "success", ...msgs);
    if (!dryRun) load(true);
  } catch (err) {
    if (err.code === "duplicate_rows") {
      const rows = err.details.map((d) => h("li", {}, detailLine(d)));
      const choose = (skipThem) => () => runImport(file, { dryRun, skip: skipThem });
      notify(
        box,
        "warning",
        h("div", {}, t("order.dup_found", { n: err.details.length })),
        h("ul", { class: "mb-2 import-duplicates" }, rows),
        h(
          "div",
          { class: "d-flex flex-wrap gap-2" },
          h("button", { class: "btn btn-sm btn-primary", type: "button", onclick: choose(true) }, t("order.dup_skip")),
          h("button", { class: "btn btn-sm btn-outline-secondary", type: "button", onclick: choose(false) }, t("order.dup_keep")),
        ),
      );
    } else if (err.status === 400 && err.details?.length) {
      const rows = err.details.map((d) => h("li", {}, detailLine(d)));
      notify(box, "danger", h("div", {}, err.code === "invalid_rows" ? t("order.import_errors") : codeText(err.code, 400)), h("ul", { class: "mb-0 import-errors" }, rows));
    } else if (err.status !== 401) {
      fail(box, err);
    }
  }
}

export function bind() {
  for (const sel of $$("#order-filters select[data-options]")) statusOptions(sel);
  sortOptions();
  let timer;
  $("#order-filters").addEventListener("input", (ev) => {
    clearTimeout(timer);
    // A menu's choice is whole at once; typed text and dates wait 300 ms for more typing.
    timer = setTimeout(() => {
      nav.remember(); // the filters go into the page's address
      load(true);
    }, ev.target.tagName === "SELECT" ? 0 : 300);
  });
  $("#order-filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("#orders-more").addEventListener("click", () => load(false));
  $("#select-all").addEventListener("change", (ev) => {
    state.selected = ev.target.checked ? new Set(list.items.map((o) => o.id)) : new Set();
    for (const box of $$("#orders-body .row-select")) box.checked = ev.target.checked;
    updateBulk();
  });
  const n = () => state.selected.size;
  $("#bulk-remit").addEventListener("click", () => bulk({ payment_status: "remitted" }, t("confirm.bulk_remit", { n: n() })));
  $("#bulk-ship").addEventListener("click", () => bulk({ fulfillment_status: "shipped" }, t("confirm.bulk_ship", { n: n() })));
  $("#bulk-carrier").addEventListener("click", () => {
    const carrier = $("#bulk-carrier-name").value.trim();
    if (carrier) bulk({ carrier }, t("confirm.bulk_carrier", { n: n(), carrier }));
  });
  detail.bind();
  bindForm();
  bindImportExport();
}
