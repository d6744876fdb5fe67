// The orders tab: the new-order form, filters, the list (rows on a desktop, cards on a
// phone), inline toggles, bulk actions, CSV import and export.
import { api, codeText, describe, detailLine, download, request } from "../api.js";
import { $, $$, ask, h, messageRow, notify, spinnerRow } from "../dom.js";
import { amountError, asciiDigits, centsToNumber, date, money, parseCents, typedAmount } from "../format.js";
import { has, labelled, t } from "../i18n.js";
import { compact, costField, currency, fail, fillCurrencies, flash, formData, itemText, loadPickers, moneyField, nav, pickers } from "../app.js";
import { setBuyer } from "../buyer-picker.js";
import { bindItemPicker } from "../item-picker.js";
import { PagedList } from "../paged.js";
import { fillForm } from "../session.js";
import * as detail from "./order-detail.js";
import { FULFILLMENT_STATUSES, PAYMENT_STATUSES } from "../constants.js";

// `partial` (some money, from the payments tab) can be filtered and is shown; never set here.
const PAYMENT = PAYMENT_STATUSES;
const FULFILLMENT = FULFILLMENT_STATUSES;
const COLS = 13;
const SORTS = ["-created_at", "created_at", "-order_no", "order_no", "-total_amount", "total_amount"];
const DEFAULT_SORT = "-created_at";
const DRAFT = "order-draft"; // the half-typed new order, kept across a reload
const UNDO_MS = 8000;
// Below this width the rows are cards (app.css).
const PHONE = window.matchMedia("(max-width: 767.98px)");
const BULK_BUTTONS = ["#bulk-status", "#bulk-carrier"];
// The "Set status…" menu of the bulk bar: the forward moves after a trip. `key` names the
// move's texts (order.<key>, order.<key>_working, confirm.<key>).
const BULK_MOVES = {
  purchased: { key: "bulk_purchased", set: { fulfillment_status: "purchased" } },
  shipped: { key: "bulk_ship", set: { fulfillment_status: "shipped" } },
  delivered: { key: "bulk_delivered", set: { fulfillment_status: "delivered" } },
  remitted: { key: "bulk_remit", set: { payment_status: "remitted" } },
};

// The orders listed, one per id (`list.loaded`: a page of them is on screen, not loading
// and not an error); rows change in place as the server answers a change.
const list = new PagedList((page) => api.get("/orders", { ...filters(), ...page }), { key: (o) => o.id });

const state = {
  selected: new Set(),
  bulkBusy: false, // a bulk action is being confirmed or runs: one at a time
  allMatching: false, // "Select all N matching": the action goes to every order the filters match
  total: null, // total_count of the first page
  firstRender: null,
  changed: null, // the last filter's input event (its timeStamp)
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
  const query = filters();
  const shown = list.items.length;
  const started = performance.now();
  // Asked first: the old rows come down while the server answers (issue 27: clearing 100
  // rows before asking put ~30 ms in front of every filter change).
  const reading = list.load(reset);
  if (reset) {
    list.clear();
    state.selected.clear();
    body.replaceChildren(spinnerRow(COLS, t("common.loading")));
    updateBulk();
  }
  try {
    const page = await reading;
    if (!page) return; // a newer reading (another filter) draws the list
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
    // bench/bench_frontend.py times a filter change up to here, and splits it: asked at
    // `started`, the page parsed at `fetched` (the request itself: Resource Timing).
    window.__ordersRendered = { at: performance.now(), changed: state.changed, started, fetched, rows: list.items.length, seq: (window.__ordersRendered?.seq || 0) + 1 };
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
  bulkMenu();
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
  return h(
    "tr",
    {
      dataset: { id: o.id, orderNo: String(o.order_no) },
      class: cancelled ? "text-decoration-line-through text-muted" : "",
      // A card on a phone is one tap target: anywhere but its controls opens the order.
      onclick: (ev) => {
        if (PHONE.matches && !ev.target.closest("button, a, input, select, label, textarea")) openDetail(o.id);
      },
    },
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
        h("small", { class: "text-muted no-date" }, date(o.created_at)),
      ),
    ),
    h("td", { "data-label": t("order.date"), class: "cell-date text-muted" }, date(o.created_at)),
    h("td", { "data-label": t("order.buyer"), class: "cell-buyer", title: o.buyer_email || "" }, h("span", {}, o.buyer_name, h("small", { class: "d-block text-muted buyer-email" }, o.buyer_email))),
    h(
      "td",
      { "data-label": t("order.item"), class: "cell-item", title: itemText(o) },
      h(
        "span",
        {},
        itemText(o),
        h("span", { class: "item-qty" }, ` × ${o.quantity}`), // on a phone, where the quantity has no column
        o.source === "form" ? h("small", { class: "text-muted order-source" }, t("forms.from_form", { title: o.form_title || "" })) : null,
      ),
    ),
    editCell(o, "quantity"),
    editCell(o, "unit_price"),
    editCell(o, "shipping_fee"),
    h("td", { "data-label": t("order.total"), class: "text-end cell-total" }, money(o.total_amount, currency())),
    h("td", { "data-label": t("order.batch"), class: "cell-batch", title: o.batch || "" }, o.batch || ""),
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
        // From credit_held and the balance alone (no request per row): the panel reads her credit.
        detail.heldFromCredit(o) ? h("span", { class: "badge text-bg-info credit-held", title: t("held.why_list") }, t("held.marker")) : null,
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
    editCell(o, "fulfillment_status"),
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
    if (hasFocus && (focused.type === "text" || focused.classList.contains("inline-editor"))) return;
    cells[i].replaceWith(cell);
    // Keyboard focus stays on the switch (or menu) that was just used.
    if (hasFocus && focused.name) cell.querySelector(`[name="${focused.name}"]`)?.focus();
  });
}

// --- inline edits (issue 27): quantity, unit price, shipping fee and status in the row -------
// A click (or Enter on the focused cell) makes the cell an input; Enter saves, Esc puts the
// value back and sends nothing, Tab saves and opens the next editable cell. The server's
// rules and the undo are the panel's (PATCH /orders/{id}, offerStatusUndo).

const AMOUNTS = ["quantity", "unit_price", "shipping_fee"];
const EDIT_CLASS = { quantity: "cell-qty text-end", unit_price: "cell-unit text-end", shipping_fee: "cell-fee text-end", fulfillment_status: "cell-status" };
const editLabel = (field) => t(field === "fulfillment_status" ? "order.status" : `order.${field}`);

/** What a cell shows of `o[field]`. */
function cellText(o, field) {
  if (field === "quantity") return String(o.quantity);
  if (field === "fulfillment_status") return t(`ful.${o.fulfillment_status}`);
  return money(o[field], currency());
}

function editCell(o, field) {
  const text = cellText(o, field);
  // A cancelled order's amounts and status are final (the panel locks them too).
  const content =
    o.fulfillment_status === "cancelled"
      ? text
      : h(
        "button",
        {
          type: "button",
          class: "btn btn-link edit-cell",
          name: `edit-${field}`, // keeps the keyboard focus when the row is redrawn (replaceRow)
          "aria-label": labelled(editLabel(field), text), // the row's number is the row header's
          title: t("order.edit_hint"),
          onclick: (ev) => startEdit(ev.currentTarget.closest("td"), o.id, field),
        },
        text,
      );
  return h("td", { "data-label": editLabel(field), class: `${EDIT_CLASS[field]} cell-edit`, dataset: { field } }, content);
}

/** The message under a row (an edit the server or the page refused); null clears it. */
function rowMessage(id, text) {
  const row = $(`#orders-body tr[data-id="${id}"]`);
  const old = row?.nextElementSibling?.classList.contains("row-msg") ? row.nextElementSibling : null;
  if (!text) {
    old?.remove();
    return;
  }
  const msg = h("tr", { class: "row-msg" }, h("td", { colspan: COLS, class: "text-danger small", role: "alert" }, labelled(`#${list.get(id)?.order_no}`, text)));
  if (old) old.replaceWith(msg);
  else row?.after(msg);
}

/** What the editor holds as a PATCH body: {body}, {same} (nothing to send) or {error}. */
function readEditor(o, field, editor) {
  if (field === "fulfillment_status") return editor.value === o.fulfillment_status ? { same: true } : { body: { fulfillment_status: editor.value } };
  if (field === "quantity") {
    const typed = asciiDigits(editor.value).trim();
    if (!/^\d{1,6}$/.test(typed) || Number(typed) < 1) return { error: labelled(t("order.quantity"), t("err.reason.whole_number")) };
    return Number(typed) === o.quantity ? { same: true } : { body: { quantity: Number(typed) } };
  }
  const read = typedAmount(editor.value, currency());
  if (read.error) return { error: amountError(editor.value, currency(), editLabel(field)) };
  if (read.empty && field === "unit_price") return { error: labelled(editLabel(field), t("detail.cannot_be_null")) };
  if (read.cents === parseCents(String(o[field]))) return { same: true };
  return { body: { [field]: centsToNumber(read.cents) } };
}

function startEdit(td, id, field) {
  const o = list.get(id);
  if (!o || !td?.isConnected || td.querySelector(".inline-editor")) return;
  const label = `#${o.order_no} ${editLabel(field)}`;
  const editor =
    field === "fulfillment_status"
      ? h(
        "select",
        { class: "form-select form-select-sm inline-editor", name: field, "aria-label": label },
        FULFILLMENT.map((v) => h("option", { value: v, selected: v === o.fulfillment_status }, t(`ful.${v}`))),
      )
      : h("input", {
        class: "form-control form-control-sm inline-editor",
        name: field,
        value: field === "quantity" ? String(o.quantity) : String(o[field] ?? ""),
        inputmode: field === "quantity" ? "numeric" : "decimal",
        autocomplete: "off",
        "aria-label": label,
      });
  td.replaceChildren(editor);
  td.classList.add("editing");
  editor.focus();
  editor.select?.();
  let done = false;
  let keyed = false; // arrows in a closed menu change it: that is choosing, not saving

  /** The cell as it is now, keyboard focus on it when the editor had it. */
  const close = (shown) => {
    done = true;
    const focus = document.activeElement === editor;
    const cell = editCell(shown, field);
    if (td.isConnected) td.replaceWith(cell);
    if (focus) cell.querySelector("button")?.focus();
    return cell;
  };
  const next = (step) => {
    const cells = $$("#orders-body td.cell-edit");
    return cells[cells.indexOf(td) + step] || null;
  };
  const commit = (step = 0) => {
    if (done) return;
    const read = readEditor(list.get(id) || o, field, editor);
    if (read.error) {
      editor.classList.add("is-invalid");
      rowMessage(id, read.error); // nothing is sent; the typed text stays to be fixed
      editor.focus();
      return;
    }
    rowMessage(id, null);
    const target = step ? next(step) : null;
    close(read.body ? { ...(list.get(id) || o), ...read.body } : list.get(id) || o);
    if (target) startEdit(target, target.closest("tr").dataset.id, target.dataset.field);
    if (!read.body) return;
    const onError = (text) => rowMessage(id, text);
    if (field === "fulfillment_status") {
      changeStatus(id, read.body, { onError });
      return;
    }
    const before = list.get(id);
    patchOrder(id, read.body, { onError }).then((after) => {
      if (after) offerStatusUndo(before, after, read.body);
    });
  };
  editor.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      commit();
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      rowMessage(id, null);
      close(list.get(id) || o);
    } else if (ev.key === "Tab") {
      ev.preventDefault();
      commit(ev.shiftKey ? -1 : 1);
    } else keyed = true;
  });
  // A choice made with the mouse saves at once; leaving the cell saves too.
  editor.addEventListener("change", () => {
    if (field === "fulfillment_status" && !keyed) commit();
  });
  editor.addEventListener("blur", () => {
    if (!done && !editor.classList.contains("is-invalid")) commit();
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
  for (const k of AMOUNTS) if (k in body && body[k] !== before[k]) back[k] = before[k];
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
  for (const k of AMOUNTS) if (k in body) words.push(`${t(`order.${k}`)} ${cellText(body, k)}`);
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

async function changeStatus(id, body, options = {}) {
  const before = list.get(id);
  if (body.fulfillment_status === "cancelled") {
    const ok = await ask(t("confirm.cancel_one", { no: before.order_no }), t("confirm.cancel_yes"), t("confirm.cancel_no"));
    if (!ok) {
      replaceRow(before); // the menu goes back to what it was
      return;
    }
  }
  const after = await patchOrder(id, body, options);
  if (after) offerStatusUndo(before, after, body);
}

// Changes to one order go to the server one after another (a quick remit-then-ship must
// not have its answers arrive out of order), and the row is redrawn when the last is back.
const queues = new Map();

/** Resolves to the changed order, or null when the change was refused (and said so: at the
 *  top of the page, or by `onError` for an edit made in the row). */
export function patchOrder(id, changes, { onError = null } = {}) {
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
      if (err.status !== 401) {
        if (onError) onError(describe(err));
        else flash("danger", labelled(`#${list.get(id)?.order_no}`, describe(err)));
      }
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
  const loaded = list.items.length;
  const everyLoaded = n > 0 && n === loaded;
  const total = state.total ?? loaded;
  if (!everyLoaded) state.allMatching = false; // a row unticked (or a new list): the selection again
  const count = $("#bulk-count");
  count.textContent = state.allMatching ? t("order.selected_matching", { n: total }) : n ? t("order.selected", { n }) : "";
  count.classList.toggle("d-none", !count.textContent); // an empty item would still take a gap
  showMatchingOffer(everyLoaded && total > loaded, total);
  for (const id of BULK_BUTTONS) $(id).disabled = n === 0 || state.bulkBusy;
  // A carrier writes no history, which is how the server tells what it changed among
  // orders matched by filter (docs/api.md "Bulk"): for a selection only.
  if (state.allMatching) $("#bulk-carrier").disabled = true;
  // The table's header box, and the bulk bar's on a phone (where the header is hidden).
  for (const all of [$("#select-all"), $("#select-all-phone")]) {
    all.checked = n > 0 && n === loaded;
    all.indeterminate = n > 0 && n < loaded;
  }
}

/** Gmail's "Select all N matching" once every loaded row is ticked and more match, and
 *  "Clear selection" once chosen. Redrawn only when what it offers changes, so the
 *  button keeps the keyboard focus. */
function showMatchingOffer(offer, total) {
  const box = $("#bulk-matching");
  const mode = state.allMatching ? `clear:${total}` : offer ? `all:${total}` : "";
  const drawn = `${mode}:${document.documentElement.lang}`; // the language too
  if (box.dataset.mode === drawn) return;
  box.dataset.mode = drawn;
  box.classList.toggle("d-none", !mode);
  if (!mode) {
    box.replaceChildren();
    return;
  }
  const choose = (all) => () => {
    state.allMatching = all;
    if (!all) {
      state.selected.clear();
      for (const row of $$("#orders-body .row-select")) row.checked = false;
    }
    updateBulk();
    (all ? $("#bulk-matching button") : $("#bulk-status"))?.focus();
  };
  box.replaceChildren(
    state.allMatching
      ? h("button", { class: "btn btn-link btn-sm p-0 align-baseline", type: "button", id: "bulk-clear", onclick: choose(false) }, t("order.clear_selection"))
      : h("button", { class: "btn btn-link btn-sm p-0 align-baseline", type: "button", id: "bulk-all-matching", onclick: choose(true) }, t("order.select_matching", { n: total })),
  );
}

/** The "Set status…" menu in the page's language. */
function bulkMenu() {
  const select = $("#bulk-status");
  select.replaceChildren(
    h("option", { value: "" }, t("order.bulk_status")),
    ...Object.entries(BULK_MOVES).map(([value, move]) => h("option", { value }, t(`order.${move.key}`))),
  );
  select.value = "";
}

/** A choice in "Set status…" asks to apply it. A closed menu's arrow keys change its value
 *  (and fire `change`) at each press: those only move the choice, Enter applies it and
 *  leaving the menu drops it, so a keyboard can reach the fourth move. A click, or the
 *  list opened with Space or Alt+↓, applies what is picked. */
function bindStatusMenu() {
  const menu = $("#bulk-status");
  let browsing = false;
  const apply = () => {
    const move = BULK_MOVES[menu.value];
    menu.value = ""; // a menu of actions: it shows "Set status…" again
    browsing = false;
    if (move) bulk(move.key, move.set, t(`confirm.${move.key}`, { n: bulkCount() }));
  };
  menu.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      if (menu.value) {
        ev.preventDefault();
        apply();
      }
    } else if (ev.key !== "Tab") {
      browsing = !(ev.key === " " || ev.altKey);
    }
  });
  menu.addEventListener("pointerdown", () => {
    browsing = false;
  });
  menu.addEventListener("blur", () => {
    if (browsing) menu.value = "";
    browsing = false;
  });
  menu.addEventListener("change", () => {
    if (!browsing) apply();
  });
}

/** The filters of the list as POST /orders/bulk/matching takes them (no sort). */
function matchingWhere() {
  const where = filters();
  delete where.sort;
  return where;
}

/** How many orders the bulk bar acts on. */
const bulkCount = () => (state.allMatching ? (state.total ?? list.items.length) : state.selected.size);

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

async function bulk(key, set, question) {
  const ids = [...state.selected];
  const where = state.allMatching ? matchingWhere() : null;
  const n = bulkCount();
  if (!n || state.bulkBusy) return;
  bulkProgress(true); // buttons off from the first click: a double click asks once
  try {
    const asked = where ? t("confirm.bulk_matching", { question }) : question;
    if (!(await ask(asked, t(`order.${key}`), t("confirm.back"), { danger: false }))) return;
    bulkProgress(true, t(`order.${key}_working`, { n }));
    await runBulk(ids, set, where);
  } finally {
    bulkProgress(false);
  }
}

/** Order numbers of failed orders for the message: the list's, else (an order not
 *  loaded, when every matching order was changed) read one by one, at most ten. */
async function failedNumbers(failed) {
  const numbers = new Map();
  const unknown = [];
  for (const f of failed) {
    const o = list.get(f.id);
    if (o) numbers.set(f.id, o.order_no);
    else if (unknown.length < 10) unknown.push(f.id);
  }
  const read = await Promise.allSettled(unknown.map((id) => api.get(`/orders/${id}`)));
  read.forEach((r, i) => r.status === "fulfilled" && numbers.set(unknown[i], r.value.order_no));
  return numbers;
}

/** "#1003, #1004 (reason), #1007 (reason)": the orders named under each reason, all of
 *  them up to ten failures, else three a reason and how many more (2,000 failures would
 *  fill the screen). */
function failureText(failed, numbers) {
  const reason = (code) => (has(`bulk.${code}`) ? t(`bulk.${code}`) : codeText(code, 409));
  const sep = t("common.list_sep");
  const byCode = new Map();
  for (const f of failed) byCode.set(f.error, [...(byCode.get(f.error) || []), f]);
  return [...byCode]
    .map(([code, some]) => {
      const known = some
        .filter((f) => numbers.has(f.id))
        .map((f) => numbers.get(f.id))
        .sort((a, b) => a - b)
        .map((no) => `#${no}`);
      const named = failed.length <= 10 ? known : known.slice(0, 3);
      const rest = some.length - named.length;
      const who = named.length ? `${named.join(sep)}${rest ? ` ${t("order.bulk_more", { n: rest })}` : ""}` : String(rest);
      return `${who} ${reason(code)}`;
    })
    .join(sep);
}

async function runBulk(ids, set, where) {
  const before = new Map(ids.map((id) => [id, list.get(id)]));
  try {
    const out = where ? await api.post("/orders/bulk/matching", { where, set }) : await api.post("/orders/bulk", { ids, set });
    const msgs = [t(set.payment_status ? "order.bulk_remit_done" : "order.bulk_done", { n: out.updated })];
    if (out.unchanged) msgs.push(" ", t("order.bulk_unchanged", { n: out.unchanged }));
    if (out.failed.length) {
      const reasons = failureText(out.failed, await failedNumbers(out.failed));
      msgs.push(" ", t("order.bulk_failed", { n: out.failed.length, reasons }));
    }
    flash(out.failed.length ? "warning" : "success", ...msgs);
    await load(true);
    // Undoing is a PATCH an order (bulk only moves forward): offered for a selection.
    if (out.updated && !where) offerBulkUndo(before, set, out.updated);
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

/** An item with variants (issue 30): its variants to choose from, right after the item (the
 *  keyboard goes item → Enter → variant: arrows, Enter); another item hides the choice. */
function showVariants(form, item, { focus = false } = {}) {
  const select = form.elements.variant_id;
  const list = item?.variants || [];
  $("#order-variant-box").classList.toggle("d-none", !list.length);
  select.required = list.length > 0;
  const stock = (v) => (v.stock === null ? "" : ` · ${t("item.stock")} ${v.stock}`);
  const was = select.value;
  select.replaceChildren(
    h("option", { value: "" }, t("order.variant_pick")),
    ...list.map((v) => h("option", { value: v.id, disabled: v.stock === 0 }, `${v.label} · ${money(v.price ?? item.price, currency())}${stock(v)}`)),
  );
  select.value = list.some((v) => v.id === was) ? was : "";
  if (list.length && focus) select.focus();
}

/** The chosen variant's price and cost fill the form (the item's where it has none). */
function useVariant(form, item) {
  const v = (item?.variants || []).find((x) => x.id === form.elements.variant_id.value);
  if (!v) return;
  form.elements.unit_price.value = String(v.price ?? item.price);
  const cost = v.cost ?? item.cost;
  form.elements.cost.value = cost === null || cost === undefined ? "" : String(cost);
}

export function updateTotal() {
  const form = $("#order-form");
  const qty = Number.parseInt(form.elements.quantity.value, 10);
  const unit = parseCents(form.elements.unit_price.value, currency());
  const fee = parseCents(form.elements.shipping_fee.value, currency());
  const ok = Number.isInteger(qty) && qty > 0 && unit !== null && fee !== null && form.elements.unit_price.value !== "";
  $("#order-total").textContent = ok ? money(centsToNumber(qty * unit + fee), currency()) : "—";
}

/** Focus a field of the new-order form (the buyer picker's own box for customer_id), its text
 *  selected so what is typed next replaces it. */
function focusField(form, name) {
  const ts = name === "customer_id" ? form.elements.customer_id.tomselect : null;
  if (ts) return ts.focus();
  const el = form.elements[name];
  if (!el) return;
  el.focus();
  if (el.select && el.type !== "select-one") el.select();
}

/** The form field a server error's detail names (`buyer.phone` → buyer_phone, item_id → the item). */
function fieldNamed(form, field) {
  const name = String(field || "").replace(/^buyer\./, "buyer_").split(".")[0];
  const mapped = name === "item_id" ? "item_name" : name;
  return form.elements[mapped] ? mapped : null;
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
  // Keyboard entry (issue 27): arrows and Enter choose an item, and a buyer chosen with Enter
  // moves on to the item (the new-buyer fields between them are the other way to name one).
  bindItemPicker(form.elements.item_name, $("#order-item-list"), {
    items: () => pickers.items,
    detail: (i) => money(i.price, currency()),
    onChoose: (i) => showVariants(form, i, { focus: true }),
  });
  let buyerByEnter = false;
  form.addEventListener(
    "keydown",
    (ev) => {
      const ts = form.elements.customer_id.tomselect;
      buyerByEnter = Boolean(ts && ev.key === "Enter" && !ev.isComposing && ev.target === ts.control_input && ts.isOpen && ts.activeOption);
    },
    true,
  );
  form.addEventListener("keydown", () => {
    if (buyerByEnter) focusField(form, "item_name");
    buyerByEnter = false;
  });
  form.elements.customer_id.addEventListener("change", () => {
    if (form.elements.customer_id.value) for (const name of NEW_BUYER) form.elements[name].value = "";
    form.elements.customer_id.dataset.want = "";
    idempotencyKey = null;
    sessionStorage.setItem(DRAFT, JSON.stringify(formData(form)));
  });
  form.addEventListener("input", (ev) => {
    if (ev.target.name === "variant_id") useVariant(form, findItem(form.elements.item_name.value.trim()));
    if (ev.target.name === "item_name") {
      const item = findItem(ev.target.value.trim());
      showVariants(form, item);
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
    if (unit === null) return focusField(form, "unit_price");
    const fee = moneyField(form, "shipping_fee", box);
    if (fee === null) return focusField(form, "shipping_fee");
    const cost = costField(form.elements.cost, d.cost_currency, box, t("order.cost"));
    if (cost === undefined) return focusField(form, "cost");
    const item = findItem(d.item_name);
    const buyer = orderBuyer(form, d, box);
    if (!buyer) return focusField(form, form.elements.buyer_name.classList.contains("is-invalid") ? "buyer_name" : "customer_id");
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
    if (item && d.variant_id) payload.variant_id = d.variant_id;
    idempotencyKey ||= newKey();
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      const order = await request("POST", "/orders", { body: payload, headers: { "Idempotency-Key": idempotencyKey } });
      idempotencyKey = null;
      notify(box, "success", t("order.created", { no: order.order_no }));
      // The next line is usually for the same buyer and batch: they stay, the rest starts over
      // (a shipping fee is one order's, never carried to the next, nor kept in the draft).
      for (const name of ["item_name", "unit_price", "note", "cost"]) form.elements[name].value = "";
      showVariants(form, null);
      if (buyer.buyer) {
        // The new buyer now exists: the next order for them picks them.
        for (const name of NEW_BUYER) form.elements[name].value = "";
        setBuyer(form.elements.customer_id, order.customer_id, order.buyer_name);
      }
      form.elements.quantity.value = "1";
      form.elements.shipping_fee.value = "0";
      for (const el of form.elements) el.classList?.remove("is-invalid");
      sessionStorage.setItem(DRAFT, JSON.stringify(formData(form)));
      updateTotal();
      focusField(form, "item_name");
      box.scrollIntoView({ block: "nearest" }); // on a phone the message is below the fields: both in view
      // The next order can be sent while the list reloads (a second at 2,000 orders): a
      // disabled submit button swallows the typist's Enter without a word.
      btn.disabled = false;
      await load(true);
      loadPickers();
    } catch (err) {
      if (err.status !== 401) fail(box, err);
      // Everything typed stays; the field the server named is marked and takes the focus.
      const named = (err.details || []).map((x) => fieldNamed(form, x?.field)).find(Boolean);
      if (named && named !== "customer_id") form.elements[named].classList.add("is-invalid");
      if (named && err.status !== 401) focusField(form, named);
      box.scrollIntoView({ block: "nearest" });
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
  const reload = () => {
    load(true);
    nav.remember(); // the filters go into the page's address
  };
  $("#order-filters").addEventListener("input", (ev) => {
    clearTimeout(timer);
    state.changed = ev.timeStamp; // when the browser had the choice (bench/bench_frontend.py)
    // A menu's choice is whole at once (asked now); typed text and dates wait 300 ms for more typing.
    if (ev.target.tagName === "SELECT") reload();
    else timer = setTimeout(reload, 300);
  });
  $("#order-filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("#orders-more").addEventListener("click", () => load(false));
  const selectAll = (ev) => {
    state.selected = ev.target.checked ? new Set(list.items.map((o) => o.id)) : new Set();
    for (const box of $$("#orders-body .row-select")) box.checked = ev.target.checked;
    updateBulk();
  };
  $("#select-all").addEventListener("change", selectAll);
  $("#select-all-phone").addEventListener("change", selectAll);
  bulkMenu();
  bindStatusMenu();
  $("#bulk-carrier").addEventListener("click", () => {
    const carrier = $("#bulk-carrier-name").value.trim();
    if (carrier) bulk("bulk_carrier", { carrier }, t("confirm.bulk_carrier", { n: bulkCount(), carrier }));
  });
  detail.bind();
  bindForm();
  bindImportExport();
}
