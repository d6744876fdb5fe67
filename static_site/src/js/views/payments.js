// The payments tab (收款): payments buyers reported, to confirm or reject in one click; the
// "record payment" form (a buyer, an amount, optionally which of their unpaid orders and
// charges,
// sent with an Idempotency-Key so a double tap records one payment); the recent payments,
// filtered by buyer and status, a confirmed one voidable after asking. The tab's badge
// counts the payments waiting (loaded at start-up by seller.js); its second badge, the bank
// statement rows still to match (views/statements.js, the tab's 對帳 card).
import { api, describe, request } from "../api.js";
import { $, ask, h, messageRow, notify, spinnerRow } from "../dom.js";
import { amountError, centsToNumber, date, money, parseCents } from "../format.js";
import { labelled, lang, t } from "../i18n.js";
import { compact, currency, fail, flash, itemText, loadPickers, pickers, searchCustomers } from "../app.js";
import { fillBuyerPicker, setBuyer } from "../buyer-picker.js";
import { PagedList } from "../paged.js";
import { PAYMENT_METHODS } from "../constants.js";
import { allocationLabel, balanceCents, kindText, openCharges } from "../charges.js";
import * as statements from "./statements.js";

const METHODS = PAYMENT_METHODS;
export const STATES = ["reported", "confirmed", "rejected", "voided"];
const REPORTED_COLS = 6;
const LIST_COLS = 7;

const state = {
  reported: null, // payments waiting for the seller (null: not loaded)
  reportedMore: false, // more than one page is waiting
  list: new PagedList((page) => api.get("/payments", { ...listFilters(), ...page })), // the recent payments shown
  rejecting: null, // id of the reported payment whose reason is being typed
  openOrders: null, // {customerId, orders, charges} for the record form
  amountTyped: false, // the seller typed the amount (ticking orders then leaves it alone)
  names: new Map(), // buyer names learnt from the reports tab (a buyer the menus lack)
};

let idempotencyKey = null;
const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);
const cur = () => currency();
const gap = () => (lang() === "zh-Hant" ? "" : " "); // between sentences: none after 。
// A CSV import's or a bank statement row's payment is named in the page's language from its
// `via`; older imports stored the English word "import" as their note, which is that same
// name, not a note.
const VIA = { import: "pay.via_import", statement: "pay.via_statement" };
const paymentNote = (p) =>
  VIA[p.via] ? [t(VIA[p.via]), p.note && p.note !== p.via ? p.note : ""].filter(Boolean).join(t("common.list_sep")) : p.note || "";
const buyerName = (p) => p.buyer_name || pickers.customers.find((c) => c.id === p.customer_id)?.name || "—";
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

// --- the badge on the tab -------------------------------------------------------------------

function showBadge() {
  const badge = $("#pay-badge");
  const n = state.reported?.length || 0;
  badge.classList.toggle("d-none", n === 0);
  badge.replaceChildren(
    h("span", { "aria-hidden": "true" }, state.reportedMore ? `${n}+` : String(n)),
    h("span", { class: "visually-hidden" }, t("pay.badge", { n: state.reportedMore ? `${n}+` : n })),
  );
  badge.title = t("pay.badge", { n });
}

/** Count the payments waiting (start-up and after every change here). */
export async function loadBadge() {
  try {
    const page = await api.get("/payments", { status: "reported", limit: 200 });
    state.reported = page.items;
    state.reportedMore = Boolean(page.next_cursor);
    showBadge();
  } catch {
    // the badge is a hint: the tab itself says what went wrong when opened
  }
  await statements.loadCount();
}

// --- loading and drawing ----------------------------------------------------------------------

export async function load() {
  if (!pickers.customers.length) await loadPickers(); // start-up may still be fetching them
  fillBuyers();
  await Promise.all([loadReported(), loadList(true), statements.load()]);
}

export function render() {
  statements.render();
  fillStatic();
  fillBuyers();
  renderReported();
  renderList();
  renderOrders();
  showBadge();
}

export function reset() {
  statements.reset();
  state.reported = null;
  state.list.clear();
  state.openOrders = null;
  state.names.clear();
  idempotencyKey = null;
  const form = $("#pay-form");
  for (const name of ["amount", "account_last5", "note"]) form.elements[name].value = "";
  for (const select of [form.elements.customer_id, $("#pay-filter-buyer")]) setBuyer(select, "");
  $("#pay-record-box").open = false;
  $("#pay-form-msg").replaceChildren();
  renderOrders();
  showBadge();
}

async function loadReported() {
  const body = $("#pay-reported tbody");
  if (!state.reported) body.replaceChildren(spinnerRow(REPORTED_COLS, t("common.loading")));
  try {
    const page = await api.get("/payments", { status: "reported", limit: 200 });
    state.reported = page.items;
    state.reportedMore = Boolean(page.next_cursor);
    renderReported();
    showBadge();
  } catch (err) {
    body.replaceChildren(messageRow(REPORTED_COLS, describe(err), "text-danger"));
  }
}

function renderReported() {
  if (!state.reported) return;
  const body = $("#pay-reported tbody");
  if (!state.reported.length) {
    body.replaceChildren(messageRow(REPORTED_COLS, t("pay.none_reported")));
    return;
  }
  body.replaceChildren(...state.reported.map(reportedRow));
}

function reportedRow(p) {
  const amount = money(p.amount, cur());
  const name = buyerName(p);
  let actions;
  if (state.rejecting === p.id) {
    const reason = h("input", { class: "form-control form-control-sm", name: "reason", maxlength: "500" });
    actions = h(
      "form",
      {
        class: "d-flex flex-wrap gap-2 justify-content-end reject-form",
        onsubmit: (ev) => {
          ev.preventDefault();
          act(p, "reject", compact({ reason: reason.value.trim() }));
        },
      },
      h("label", { class: "form-label small mb-0 w-100 text-start" }, t("pay.reject_reason"), reason),
      h("button", { class: "btn btn-sm btn-danger", type: "submit" }, t("pay.reject_send")),
      h(
        "button",
        {
          class: "btn btn-sm btn-outline-secondary",
          type: "button",
          onclick: () => {
            state.rejecting = null;
            renderReported();
          },
        },
        t("common.cancel"),
      ),
    );
    queueMicrotask(() => reason.focus());
  } else {
    actions = h(
      "div",
      { class: "d-flex flex-wrap gap-2 justify-content-end" },
      h("button", { class: "btn btn-sm btn-success pay-confirm", type: "button", "aria-label": t("pay.confirm_label", { amount, name }), onclick: () => act(p, "confirm") }, t("pay.confirm")),
      h(
        "button",
        {
          class: "btn btn-sm btn-outline-danger pay-reject",
          type: "button",
          "aria-label": t("pay.reject_label", { amount, name }),
          onclick: () => {
            state.rejecting = p.id;
            renderReported();
          },
        },
        t("pay.reject"),
      ),
    );
  }
  return h(
    "tr",
    { dataset: { id: p.id } },
    h("td", { "data-label": t("pay.date") }, date(p.paid_at)),
    h("td", { "data-label": t("order.buyer") }, name),
    h("td", { "data-label": t("pay.amount"), class: "text-end text-nowrap fw-semibold" }, amount),
    h("td", { "data-label": t("pay.last5") }, p.account_last5 || "—"),
    h("td", { "data-label": t("pay.note"), class: "text-break" }, paymentNote(p)),
    h("td", { class: "cell-actions" }, actions),
  );
}

/** Confirm, reject or void one payment; the lists and the badge follow. */
async function act(p, what, body = undefined) {
  const amount = money(p.amount, cur());
  const name = buyerName(p);
  if (what === "void") {
    const ok = await ask(t("pay.void_confirm", { amount, name }), t("pay.void_yes"), t("pay.void_no"));
    if (!ok) return;
  }
  for (const btn of document.querySelectorAll(`tr[data-id="${p.id}"] button`)) btn.disabled = true;
  try {
    const out = await api.post(`/payments/${p.id}/${what}`, body ?? (what === "reject" ? {} : undefined));
    state.rejecting = null;
    const done = { confirm: "pay.confirmed_msg", reject: "pay.rejected_msg", void: "pay.voided_msg" }[what];
    flash("success", t(done, { amount, name }), gap(), allocationText(out));
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
  // A report confirmed or rejected here is no longer a statement row's match: its proposals follow.
  await Promise.all([loadReported(), loadList(true), statements.load()]);
}

/** "Paid: #1001 NT$150, Customs duty NT$60. NT$10 kept as credit." */
function allocationText(p) {
  if (p.status !== "confirmed") return "";
  const parts = [];
  const paid = (p.allocations || []).filter((a) => Number(a.amount) > 0);
  if (paid.length) parts.push(t("pay.allocated", { list: paid.map((a) => `${allocationLabel(a)} ${money(a.amount, cur())}`).join(t("common.list_sep")) }));
  if (Number(p.unallocated) > 0) parts.push(t("pay.credit_left", { amount: money(p.unallocated, cur()) }));
  return parts.join(gap());
}

// --- the recent payments ------------------------------------------------------------------------

function listFilters() {
  return compact({ customer_id: $("#pay-filter-buyer").value, status: $("#pay-filter-status").value });
}

async function loadList(resetList) {
  const body = $("#pay-list tbody");
  if (resetList && !state.list.loaded) body.replaceChildren(spinnerRow(LIST_COLS, t("common.loading")));
  try {
    await state.list.load(resetList);
    renderList();
  } catch (err) {
    if (resetList) body.replaceChildren(messageRow(LIST_COLS, describe(err), "text-danger"));
    else flash("danger", describe(err));
  }
}

function renderList() {
  if (!state.list.loaded) return;
  const body = $("#pay-list tbody");
  $("#pay-more").classList.toggle("d-none", !state.list.more);
  if (!state.list.items.length) {
    body.replaceChildren(messageRow(LIST_COLS, t(Object.keys(listFilters()).length ? "pay.empty_filtered" : "pay.empty")));
    return;
  }
  body.replaceChildren(...state.list.items.map(listRow));
}

const STATUS_CLASS = { reported: "text-bg-warning", confirmed: "text-bg-success", rejected: "text-bg-secondary", voided: "text-bg-light border" };

function listRow(p) {
  const amount = money(p.amount, cur());
  const name = buyerName(p);
  const paid = (p.allocations || []).filter((a) => Number(a.amount) > 0);
  const orders = h(
    "div",
    { class: "small" },
    paid.map((a) => h("span", { class: `d-block text-nowrap ${a.charge_id ? "pay-to-charge" : "pay-to-order"}` }, `${allocationLabel(a)} ${money(a.amount, cur())}`)),
    Number(p.unallocated) > 0 ? h("span", { class: "d-block text-muted" }, t("pay.credit", { amount: money(p.unallocated, cur()) })) : null,
    !paid.length && !(Number(p.unallocated) > 0) ? "—" : null,
  );
  const extra = [
    p.source === "buyer" ? t("pay.by_buyer") : "",
    // Who confirmed it (issue 31): the owner, or a member by email.
    p.confirmed_by ? t("pay.by", { who: p.confirmed_by === "owner" ? t("history.by.owner") : p.confirmed_by }) : "",
    p.account_last5 ? `${t("pay.last5")} ${p.account_last5}` : "",
    paymentNote(p),
    p.status === "rejected" && p.reject_reason ? t("pay.reason", { reason: p.reject_reason }) : "",
  ].filter(Boolean);
  return h(
    "tr",
    { dataset: { id: p.id, status: p.status }, class: p.status === "voided" ? "text-muted" : "" },
    h("td", { "data-label": t("pay.date") }, date(p.paid_at)),
    h("td", { "data-label": t("order.buyer") }, h("span", {}, name, extra.length ? h("small", { class: "d-block text-muted text-break" }, extra.join(" · ")) : null)),
    h("td", { "data-label": t("pay.amount"), class: "text-end text-nowrap fw-semibold" }, h("span", { class: p.status === "voided" ? "text-decoration-line-through" : "" }, amount)),
    h("td", { "data-label": t("pay.method") }, t(`pm.${p.method}`)),
    h("td", { "data-label": t("pay.status") }, h("span", { class: `badge ${STATUS_CLASS[p.status] || "text-bg-light"}` }, t(`pst.${p.status}`))),
    h("td", { "data-label": t("pay.orders") }, orders),
    h(
      "td",
      { class: "cell-actions text-end" },
      p.status === "confirmed"
        ? h("button", { class: "btn btn-sm btn-outline-danger pay-void", type: "button", "aria-label": t("pay.void_label", { amount, name }), onclick: () => act(p, "void") }, t("pay.void"))
        : p.status === "reported"
          ? h("button", { class: "btn btn-sm btn-success pay-confirm", type: "button", "aria-label": t("pay.confirm_label", { amount, name }), onclick: () => act(p, "confirm") }, t("pay.confirm"))
          : null,
    ),
  );
}

// --- the record form -------------------------------------------------------------------------

function fillStatic() {
  const method = $("#pay-form-method");
  const chosenMethod = method.value || "bank_transfer";
  method.replaceChildren(...METHODS.map((m) => h("option", { value: m }, t(`pm.${m}`))));
  method.value = chosenMethod;
  const status = $("#pay-filter-status");
  const chosen = status.value;
  status.replaceChildren(h("option", { value: "" }, t("common.all")), ...STATES.map((s) => h("option", { value: s }, t(`pst.${s}`))));
  status.value = chosen;
}

/** The buyer pickers (the form's and the filter's), from the shared buyer list. */
function fillBuyers() {
  const fill = (select, first) => {
    const want = select.value || select.dataset.want || "";
    fillBuyerPicker(select, pickers.customers, { first, search: pickers.customersMore ? searchCustomers : null, wantName: state.names.get(want) });
  };
  fill($("#pay-form-buyer"), t("pay.pick_buyer"));
  fill($("#pay-filter-buyer"), t("common.all"));
}

/** The chosen buyer's orders and charges that still take money (unpaid, partly paid),
 *  oldest first. */
async function loadOpenOrders() {
  const customerId = $("#pay-form-buyer").value;
  state.openOrders = customerId ? { customerId, orders: null, charges: [] } : null;
  renderOrders();
  if (!customerId) return;
  try {
    const [unpaid, partial, charges] = await Promise.all([
      ...["unpaid", "partial"].map((s) => api.get("/orders", { customer_id: customerId, payment_status: s, sort: "order_no", limit: 200 })),
      api.get("/charges", { customer_id: customerId, status: "open", limit: 200 }),
    ]);
    if (state.openOrders?.customerId !== customerId) return; // another buyer chosen meanwhile
    const orders = [...unpaid.items, ...partial.items].filter((o) => Number(o.balance) > 0).sort((a, b) => a.order_no - b.order_no);
    state.openOrders = { customerId, orders, charges: openCharges(Array.isArray(charges) ? charges : charges.items) };
    renderOrders();
  } catch (err) {
    if (err.status !== 401) fail($("#pay-form-msg"), err);
  }
}

function renderOrders() {
  const box = $("#pay-form-orders");
  const o = state.openOrders;
  if (!o) {
    box.replaceChildren(h("p", { class: "small text-muted mb-1" }, t("pay.pick_buyer_first")));
    return;
  }
  if (!o.orders) {
    box.replaceChildren(h("p", { class: "small text-muted mb-1" }, h("span", { class: "spinner-border spinner-border-sm me-2", role: "status" }), t("common.loading")));
    return;
  }
  if (!o.orders.length && !o.charges.length) {
    box.replaceChildren(h("p", { class: "small text-muted mb-1" }, t("pay.no_open_orders")));
    return;
  }
  const ticked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  // Orders and charges in one list, oldest first: the order the money goes when none is ticked.
  const entries = [
    ...o.charges.map((c) => [c.created_at, chargeChoice(c, ticked)]),
    ...o.orders.map((order) => [order.created_at, orderChoice(order, ticked)]),
  ];
  entries.sort((a, b) => String(a[0] || "").localeCompare(String(b[0] || "")));
  box.replaceChildren(...entries.map(([, el]) => el));
}

function chargeChoice(c, ticked) {
  return h(
    "label",
    { class: "form-check pay-charge" },
    h("input", { class: "form-check-input", type: "checkbox", name: "charge_ids", value: c.id, checked: ticked.has(c.id), dataset: { balance: String(centsToNumber(balanceCents(c))) } }),
    h(
      "span",
      { class: "form-check-label" },
      h("strong", {}, kindText(c.kind)),
      c.parcel_no ? ` ${t("charge.parcel_no", { no: c.parcel_no })}` : "",
      c.note ? ` ${c.note}` : "",
      " · ",
      Number(c.paid_amount) > 0 ? h("span", { class: "badge text-bg-warning me-1" }, t("pay.partial")) : null,
      t("pay.owes", { amount: money(centsToNumber(balanceCents(c)), cur()) }),
    ),
  );
}

function orderChoice(order, ticked) {
  return h(
    "label",
    { class: "form-check pay-order" },
    h("input", { class: "form-check-input", type: "checkbox", name: "order_ids", value: order.id, checked: ticked.has(order.id), dataset: { balance: String(order.balance) } }),
    h(
      "span",
      { class: "form-check-label" },
      h("strong", {}, `#${order.order_no}`),
      ` ${itemText(order)} × ${order.quantity} · `,
      order.payment_status === "partial" ? h("span", { class: "badge text-bg-warning me-1" }, t("pay.partial")) : null,
      t("pay.owes", { amount: money(order.balance, cur()) }),
    ),
  );
}

/** Ticking orders or charges fills the amount with what they owe, unless the seller typed one. */
function fillAmountFromOrders() {
  if (state.amountTyped) return;
  const cents = [...$("#pay-form-orders").querySelectorAll("input:checked")].reduce((sum, i) => sum + (parseCents(i.dataset.balance) ?? 0), 0);
  $("#pay-form").elements.amount.value = cents ? String(centsToNumber(cents)) : "";
}

/** Open the form for buyer `customerId` (the reports tab's "record payment"). */
export function recordFor(customerId, name) {
  if (name) state.names.set(customerId, name);
  const box = $("#pay-record-box");
  box.open = true;
  const select = $("#pay-form-buyer");
  select.dataset.want = customerId;
  fillBuyers();
  setBuyer(select, customerId, name);
  idempotencyKey = null;
  state.amountTyped = false;
  $("#pay-form").elements.amount.value = "";
  $("#pay-form-msg").replaceChildren();
  loadOpenOrders();
  box.scrollIntoView({ block: "start" });
  $("#pay-form").elements.amount.focus({ preventScroll: true });
}

let sending = false;

async function submitForm(ev) {
  ev.preventDefault();
  if (sending) return; // a double tap: the first is on its way (a retry after a failure reuses its key)
  const form = $("#pay-form");
  const box = $("#pay-form-msg");
  const els = form.elements;
  if (!els.customer_id.value) {
    els.customer_id.classList.add("is-invalid");
    notify(box, "danger", t("pay.choose_buyer_error"));
    return;
  }
  els.customer_id.classList.remove("is-invalid");
  const cents = parseCents(els.amount.value, currency()); // ６０ or NT$60 is 60
  if (cents === null || cents <= 0) {
    els.amount.classList.add("is-invalid");
    notify(box, "danger", amountError(els.amount.value, currency(), t("pay.amount"), "not_positive"));
    return;
  }
  els.amount.classList.remove("is-invalid");
  const last5 = els.account_last5.value.trim();
  if (last5 && !/^\d{5}$/.test(last5)) {
    els.account_last5.classList.add("is-invalid");
    notify(box, "danger", labelled(t("pay.last5"), t("pay.last5_error")));
    return;
  }
  els.account_last5.classList.remove("is-invalid");
  const ticked = (name) => [...form.querySelectorAll(`#pay-form-orders input[name=${name}]:checked`)].map((i) => i.value);
  const orderIds = ticked("order_ids");
  const chargeIds = ticked("charge_ids");
  const payload = compact({
    customer_id: els.customer_id.value,
    amount: centsToNumber(cents),
    method: els.method.value,
    paid_at: els.paid_at.value,
    account_last5: last5,
    note: els.note.value.trim(),
  });
  if (orderIds.length) payload.order_ids = orderIds;
  if (chargeIds.length) payload.charge_ids = chargeIds;
  idempotencyKey ||= newKey();
  const btn = form.querySelector("[type=submit]");
  btn.disabled = true;
  sending = true;
  try {
    const p = await request("POST", "/payments", { body: payload, headers: { "Idempotency-Key": idempotencyKey } });
    idempotencyKey = null;
    notify(box, "success", t("pay.recorded", { amount: money(p.amount, cur()), name: buyerName(p) }), gap(), allocationText(p));
    for (const name of ["amount", "account_last5", "note"]) els[name].value = "";
    state.amountTyped = false;
    await Promise.all([loadOpenOrders(), loadList(true), statements.load()]); // balances changed: so did proposals
  } catch (err) {
    if (err.status !== 401) fail(box, err);
  } finally {
    sending = false;
    btn.disabled = false;
  }
}

export function bind() {
  // A confirmed statement row confirms a reported payment or records one: both lists follow.
  statements.bind({ changed: () => Promise.all([loadReported(), loadList(true)]) });
  fillStatic();
  const form = $("#pay-form");
  form.elements.paid_at.value = today();
  renderOrders();
  form.addEventListener("input", (ev) => {
    idempotencyKey = null; // a changed form is a new payment, not a retry
    if (ev.target.name === "amount") state.amountTyped = ev.target.value.trim() !== "";
    if (ev.target.name === "order_ids" || ev.target.name === "charge_ids") fillAmountFromOrders();
  });
  form.elements.customer_id.addEventListener("change", () => {
    form.elements.customer_id.dataset.want = "";
    state.amountTyped = false;
    form.elements.amount.value = "";
    loadOpenOrders();
  });
  form.addEventListener("submit", submitForm);
  $("#pay-filter-buyer").addEventListener("change", () => loadList(true));
  $("#pay-filter-status").addEventListener("change", () => loadList(true));
  $("#pay-more").addEventListener("click", () => loadList(false));
}
