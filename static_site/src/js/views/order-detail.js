// One order, opened from the list: every field editable (the buyer by email: a known
// buyer or a new one, as when creating), sent as a PATCH of only what changed; the money it adds up to
// and its status history as a timeline. A side panel on a desktop, the full screen on a
// phone (a modal <dialog>: Esc closes, focus stays inside). What is paid and still owed,
// and the payments that paid it (GET /payments of the buyer, their lines for this order).
// Its cost (one unit, in the currency paid) and, worked out by the server with the batch's
// exchange rate, the whole order's cost in the shop's currency and its profit: never guessed
// here, "—" with the reason when the server cannot tell. An order held from credit (a form
// submitted in the buyer's name) says so while it owes and she has credit, and offers it.
import { api, describe } from "../api.js";
import { $, ask, h, notify } from "../dom.js";
import { centsToNumber, date, dateTime, money, parseCents } from "../format.js";
import { labelled, t } from "../i18n.js";
import { costField, currency, fillCurrencies, itemText, moneyField, pickers, shop } from "../app.js";
import { CVS_METHODS, FULFILLMENT_STATUSES, PAYMENT_STATUSES_SETTABLE } from "../constants.js";
import { copyMessageButton } from "./buyer-message.js";
import { thumbOf } from "./item-photos.js";

// `partial` follows from the payments: shown, never offered as a choice.
const PAYMENT = PAYMENT_STATUSES_SETTABLE;
const FULFILLMENT = FULFILLMENT_STATUSES;
const TEXT = ["batch", "note", "carrier", "tracking_number"];
const MONEY = ["unit_price", "shipping_fee"];

// `touched`: the fields the seller changed since the panel opened or last saved: a redraw
// (the order read again as it opens, a language change) keeps what they typed there.
const state = { order: null, onSaved: () => {}, payments: null, parcel: null, credit: null, creditUsed: null, touched: new Set() };
const CVS = new Set(CVS_METHODS);

const dialog = () => $("#order-detail");
const form = () => $("#detail-form");

/** Open order `id` (the list's copy is shown at once, then the server's). */
export async function open(order, onSaved) {
  state.order = order;
  state.onSaved = onSaved;
  state.payments = null;
  state.parcel = null;
  state.credit = null;
  state.creditUsed = null; // {used, left} of the last "Use credit", said where it was pressed
  state.touched = new Set();
  render();
  $("#detail-msg").replaceChildren();
  $("#detail-message").replaceChildren();
  if (!dialog().open) dialog().showModal();
  form().elements.quantity.focus();
  try {
    state.order = await api.get(`/orders/${order.id}`);
    render();
  } catch (err) {
    if (err.status !== 401) notify($("#detail-msg"), "danger", describe(err));
  }
  await Promise.all([loadPayments(state.order), loadParcel(state.order), loadCredit(state.order)]);
}

/** Whether the buyer's credit passed this order over and it still owes (`credit_held`:
 *  a form submitted in her name; the server spends it only when the seller says so). */
export const heldFromCredit = (o) => Boolean(o?.credit_held) && Number(o.balance) > 0 && o.fulfillment_status !== "cancelled";

/** The buyer's credit, read only for an order held from it (one request, on opening). */
async function loadCredit(order) {
  if (!heldFromCredit(order) || !order.customer_id) return;
  try {
    const buyer = await api.get(`/customers/${order.customer_id}`);
    if (state.order?.id !== order.id) return;
    state.credit = Number(buyer.credit ?? 0);
    renderCredit();
  } catch (err) {
    if (err.status !== 401 && err.status !== 404) notify($("#detail-msg"), "danger", describe(err));
  }
}

function renderCredit() {
  const o = state.order;
  const box = $("#detail-credit");
  const shown = heldFromCredit(o) && state.credit > 0;
  const done = state.creditUsed;
  box.classList.toggle("d-none", !shown && !done);
  const cur = currency();
  box.replaceChildren(
    ...(shown
      ? [
          h("span", { class: "badge text-bg-info credit-held me-2", title: t("held.why") }, t("held.marker")),
          h("button", { class: "btn btn-sm btn-outline-primary use-credit", type: "button", onclick: useCredit }, t("held.use", { amount: money(state.credit, cur) })),
          h("small", { class: "d-block text-muted mt-1 credit-held-why" }, t("held.why")),
        ]
      : []),
    ...(done
      ? [
          h(
            "div",
            { class: `alert ${done.used > 0 ? "alert-success" : "alert-info"} small py-1 px-2 mt-1 mb-0 credit-used`, role: "status" },
            done.used > 0 ? t("held.used", { used: money(done.used, cur), left: money(done.left, cur) }) : t("held.none_used"),
          ),
        ]
      : []),
  );
}

/** POST /payments/use-credit for this order alone; the row, the panel and its payments follow. */
async function useCredit(ev) {
  const btn = ev.currentTarget;
  const before = state.order;
  const box = $("#detail-msg");
  btn.disabled = true;
  try {
    const r = await api.post("/payments/use-credit", { customer_id: before.customer_id, order_ids: [before.id] });
    const order = await api.get(`/orders/${before.id}`);
    if (state.order?.id !== before.id) return;
    state.credit = Number(r.credit);
    state.creditUsed = { used: Number(r.used), left: Number(r.credit) };
    state.order = order;
    render();
    state.onSaved(order, before, {});
    loadPayments(order);
  } catch (err) {
    if (err.status !== 401) notify(box, "danger", describe(err));
  } finally {
    btn.disabled = false;
  }
}

/** The parcel holding this order, if any: the order's parcel_id, or (an orders API that does
 *  not list it yet) the buyer's parcel whose order_ids name it. */
async function loadParcel(order) {
  if (!order?.customer_id || !(order.parcel_id || ["shipped", "delivered"].includes(order.fulfillment_status))) {
    renderParcel();
    return;
  }
  try {
    let parcel = null;
    if (order.parcel_id) parcel = await api.get(`/parcels/${order.parcel_id}`);
    else {
      const page = await api.get("/parcels", { customer_id: order.customer_id, limit: 100 });
      parcel = page.items.find((p) => p.order_ids.includes(order.id)) || null;
    }
    if (state.order?.id !== order.id) return;
    state.parcel = parcel;
    render();
  } catch (err) {
    if (err.status !== 401 && err.status !== 404) notify($("#detail-msg"), "danger", describe(err));
  }
}

function renderParcel() {
  const p = state.parcel;
  $("#detail-parcel").classList.toggle("d-none", !p);
  if (!p) return;
  const r = p.recipient || {};
  const number = p.tracking_number
    ? p.tracking_url
      ? h("a", { class: "tracking-number", href: p.tracking_url, target: "_blank", rel: "noopener noreferrer" }, p.tracking_number)
      : h("span", { class: "tracking-number user-select-all" }, p.tracking_number)
    : null;
  $("#detail-parcel-body").replaceChildren(
    h("strong", { class: "me-2" }, t("ship.parcel_no", { no: p.parcel_no })),
    h("span", { class: "badge text-bg-secondary me-2" }, t(`ship.status.${p.status}`)),
    h("span", { class: "d-block" }, [t(`ship.m.${p.method}`), p.carrier, CVS.has(p.method) ? [r.store_name, r.store_id].filter(Boolean).join(" ") : ""].filter(Boolean).join(" · ")),
    number ? h("span", { class: "d-block" }, labelled(t("order.tracking")), number) : null,
  );
}

/** The confirmed payments with a share in this order (the buyer's newest 200). */
async function loadPayments(order) {
  if (!order?.customer_id) return;
  try {
    const page = await api.get("/payments", { customer_id: order.customer_id, status: "confirmed", limit: 200 });
    if (state.order?.id !== order.id) return; // another order opened meanwhile
    state.payments = page.items
      .map((p) => ({ payment: p, share: (p.allocations || []).find((a) => a.order_id === order.id && Number(a.amount) > 0) }))
      .filter((x) => x.share);
    renderPayments();
  } catch (err) {
    if (err.status !== 401) $("#detail-payments").replaceChildren(h("li", { class: "text-danger" }, describe(err)));
  }
}

function renderPayments() {
  const list = $("#detail-payments");
  if (!state.payments) {
    list.replaceChildren(h("li", { class: "text-muted" }, t("common.loading")));
    return;
  }
  if (!state.payments.length) {
    list.replaceChildren(h("li", { class: "text-muted" }, t("detail.no_payments")));
    return;
  }
  const cur = currency();
  list.replaceChildren(
    ...state.payments.map(({ payment: p, share }) =>
      h(
        "li",
        { class: "mb-1", dataset: { paymentId: p.id } },
        h("span", { class: "text-muted me-2" }, date(p.paid_at)),
        h("strong", { class: "me-2" }, money(share.amount, cur)),
        t(`pm.${p.method}`),
        Number(share.amount) !== Number(p.amount) ? h("span", { class: "text-muted" }, ` ${t("detail.payment_line", { total: money(p.amount, cur) })}`) : null,
        p.account_last5 ? h("span", { class: "text-muted" }, ` · ${t("pay.last5")} ${p.account_last5}`) : null,
        p.confirmed_by ? h("span", { class: "text-muted payment-by" }, ` · ${t("pay.by", { who: personName(p.confirmed_by) })}`) : null,
      ),
    ),
  );
}

export function close() {
  if (dialog().open) dialog().close();
}

/** Where the order came from (issue 15): a buyer's order form, the seller, an import. */
function sourceLine(o) {
  const text =
    o.source === "form" ? t("forms.from_form", { title: o.form_title || "" }) : o.source === "import" ? t("forms.source_import") : o.source === "seller" ? t("forms.source_seller") : "";
  return text ? h("span", { class: "d-block detail-source" }, text) : "";
}

/** What the buyer typed for delivery on the order form (it never changes the customer;
 * the Ship tab asks which to use). */
function shipToLine(o) {
  const parts = o.ship_to ? ["name", "phone", "address"].map((k) => o.ship_to[k]).filter(Boolean) : [];
  return parts.length ? h("span", { class: "d-block detail-ship-to" }, t("detail.ship_to", { details: parts.join(" · ") })) : "";
}

/** Draw the open order (also after a language change). */
export function render() {
  const o = state.order;
  if (!o) return;
  const f = form();
  const typed = [...state.touched].filter((name) => f.elements[name]).map((name) => [name, f.elements[name].value]);
  $("#detail-title").textContent = t("detail.title", { no: o.order_no });
  $("#detail-created").replaceChildren(labelled(t("order.date"), date(o.created_at)), sourceLine(o), shipToLine(o));
  f.elements.buyer_email.value = o.buyer_email || ""; // a buyer met by phone or LINE ID has none
  $("#detail-buyer").textContent = o.buyer_name;
  $("#detail-message-button").replaceChildren(copyMessageButton({ customer_id: o.customer_id, name: o.buyer_name }, $("#detail-message"), "detail-message-text", "ms-1"));
  $("#detail-item").replaceChildren(thumbOf(o.item_id, o.item_name) ?? "", itemText(o));
  renderVariant(o);
  f.elements.quantity.value = String(o.quantity);
  for (const name of MONEY) f.elements[name].value = String(o[name]);
  for (const name of TEXT) f.elements[name].value = o[name] || "";
  fill(f.elements.payment_status, PAYMENT, "pay", o.payment_status);
  if (!PAYMENT.includes(o.payment_status)) {
    // partly paid: shown as the menu's text, not a choice (the other three still are)
    f.elements.payment_status.prepend(h("option", { value: o.payment_status, disabled: true, selected: true }, t(`pay.${o.payment_status}`)));
  }
  $("#detail-paid").textContent = money(o.paid_amount ?? 0, currency());
  $("#detail-balance").textContent = money(o.balance ?? 0, currency());
  $("#detail-partial").classList.toggle("d-none", o.payment_status !== "partial");
  renderCredit();
  renderPayments();
  fill(f.elements.fulfillment_status, FULFILLMENT, "ful", o.fulfillment_status);
  f.elements.shipped_date.value = o.shipped_date || "";
  syncFields();
  const cancelled = o.fulfillment_status === "cancelled";
  $("#detail-cancel-order").classList.toggle("d-none", !["pending", "purchased"].includes(o.fulfillment_status));
  $("#detail-cancelled").classList.toggle("d-none", !cancelled);
  for (const name of ["quantity", "unit_price", "shipping_fee", "fulfillment_status"]) f.elements[name].disabled = cancelled;
  for (const name of ["carrier", "tracking_number"]) f.elements[name].disabled = false;
  // An order in a parcel changes through the parcel (the server says order_in_parcel).
  const inParcel = Boolean(state.parcel || o.parcel_id);
  if (inParcel) for (const name of ["fulfillment_status", "shipped_date", "carrier", "tracking_number"]) f.elements[name].disabled = true;
  if (inParcel) $("#detail-cancel-order").classList.add("d-none");
  renderParcel();
  updateTotal();
  f.elements.cost.value = o.cost === null || o.cost === undefined ? "" : String(o.cost);
  fillCurrencies(f.elements.cost_currency, o.cost_currency || currency());
  renderProfit(o);
  renderHistory(o);
  for (const [name, value] of typed) if (!f.elements[name].disabled) f.elements[name].value = value;
  if (typed.length) {
    syncFields();
    updateTotal();
  }
}

/** The order's variant, to move it to another of its item's (issue 30): shown for an item
 *  with variants, final once the order is cancelled. */
function renderVariant(o) {
  const list = pickers.items.find((i) => i.id === o.item_id)?.variants || [];
  const select = form().elements.variant_id;
  $("#detail-variant-box").classList.toggle("d-none", !list.length || !o.variant_id);
  select.replaceChildren(...list.map((v) => h("option", { value: v.id }, v.stock === null ? v.label : `${v.label} · ${t("item.stock")} ${v.stock}`)));
  select.value = o.variant_id || "";
  select.disabled = o.fulfillment_status === "cancelled";
}

/** Why an order's cost in the shop's currency is not known ("" when it is). */
export function costHint(o) {
  if (o.cost === null || o.cost === undefined) return t("cost.no_cost");
  if (o.cost_amount === null || o.cost_amount === undefined) {
    return t(o.batch ? "cost.no_rate" : "cost.no_batch", { currency: o.cost_currency || currency() });
  }
  return "";
}

/** Why an order has no profit ("" when it has one): no sale, or no cost in the shop's currency. */
export function profitHint(o) {
  if (o.fulfillment_status === "cancelled") return t("cost.not_sold_cancelled");
  if (o.payment_status === "refunded") return t("cost.not_sold_refunded");
  return costHint(o);
}

/** What the order cost and earned, as the server worked it out ("—" and why, when it cannot). */
function renderProfit(o) {
  const cur = currency();
  const known = o.cost_amount !== null && o.cost_amount !== undefined;
  const hint = costHint(o);
  $("#detail-cost-amount").textContent = known ? money(o.cost_amount, cur) : "—";
  $("#detail-cost-hint").textContent =
    known && o.cost_currency && o.cost_currency !== cur ? t("cost.from", { cost: money(o.cost, o.cost_currency), qty: o.quantity }) : hint;
  const profit = o.profit !== null && o.profit !== undefined;
  $("#detail-profit-amount").textContent = profit ? money(o.profit, cur) : "—";
  $("#detail-profit-amount").classList.toggle("text-danger", profit && Number(o.profit) < 0);
  $("#detail-profit-hint").textContent = profit ? "" : profitHint(o);
}

function fill(select, values, prefix, chosen) {
  select.replaceChildren(...values.map((v) => h("option", { value: v, selected: v === chosen }, t(`${prefix}.${v}`))));
}

/** The shipped date only means something for a shipped or delivered order. */
function syncFields() {
  const f = form();
  const sent = ["shipped", "delivered"].includes(f.elements.fulfillment_status.value);
  f.elements.shipped_date.disabled = !sent;
  if (!sent) f.elements.shipped_date.value = "";
}

function updateTotal() {
  const f = form();
  const qty = Number.parseInt(f.elements.quantity.value, 10);
  const unit = parseCents(f.elements.unit_price.value, currency());
  const fee = parseCents(f.elements.shipping_fee.value, currency());
  const ok = Number.isInteger(qty) && qty > 0 && unit !== null && fee !== null;
  $("#detail-total").textContent = ok ? money(centsToNumber(qty * unit + fee), currency()) : "—";
}

// Who wrote a history entry: `by_name` (issue 31) is the person, "owner" or a member's
// email (on a parcel's entry, who packed it); else `by`, a source the server names or an
// actor's id. Entries from before `by` existed say nothing.
const SOURCES = new Set(["bulk", "payment", "parcel", "merge", "import", "form"]);

function personName(name) {
  return name === "owner" ? t("history.by.owner") : name;
}

function who(e) {
  const by = e.by;
  if (e.by_name) return SOURCES.has(by) ? `${personName(e.by_name)}（${t(`history.by.${by}`)}）` : personName(e.by_name);
  if (!by) return "";
  if (SOURCES.has(by)) return t(`history.by.${by}`);
  const me = shop.seller;
  if (me && by === me.id) return me.email || me.shop_name || t("history.by.you");
  return t("history.by.other");
}

/** One side of an entry as the page shows it: statuses translated, money formatted (a cost
 *  in its own currency), a buyer by the name they had then. */
function historyValue(e, side) {
  const value = e[side];
  if (e.field === "customer_id") return e[`${side}_name`] || "—";
  if (value === null || value === undefined || value === "") return "—";
  if (e.field === "payment_status") return t(`pay.${value}`);
  if (e.field === "fulfillment_status") return t(`ful.${value}`);
  if (e.field === "unit_price" || e.field === "shipping_fee") return money(value, currency());
  if (e.field === "cost") return money(value, e[`${side}_currency`] || currency());
  return String(value);
}

function renderHistory(o) {
  const entries = [...(o.history || [])].reverse();
  $("#detail-history").replaceChildren(
    ...entries.map((e) => {
      const by = who(e);
      return h(
        "li",
        { "data-field": e.field },
        h("time", { datetime: e.at, class: "small text-muted d-block" }, by ? t("history.when_by", { when: dateTime(e.at), who: by }) : dateTime(e.at)),
        h("span", { class: "text-break" }, labelled(t(`field.${e.field}`)), `${historyValue(e, "from")} → `, h("strong", {}, historyValue(e, "to"))),
      );
    }),
    h("li", {}, h("time", { datetime: o.created_at, class: "small text-muted d-block" }, dateTime(o.created_at)), t("detail.created")),
  );
}

/** What the form changes, as a PATCH body (empty when nothing does); null when invalid. */
function changes() {
  const f = form();
  const o = state.order;
  const box = $("#detail-msg");
  const out = {};
  const email = f.elements.buyer_email.value.trim();
  if (email.toLowerCase() !== (o.buyer_email || "").toLowerCase()) {
    if (!f.elements.buyer_email.checkValidity() || !email) {
      notify(box, "danger", labelled(t("order.buyer_email"), t("detail.invalid_email")));
      return null;
    }
    out.buyer_email = email;
  }
  const qty = Number.parseInt(f.elements.quantity.value, 10);
  if (!f.elements.quantity.disabled) {
    if (!Number.isInteger(qty) || qty < 1 || String(qty) !== f.elements.quantity.value.trim()) {
      notify(box, "danger", labelled(t("order.quantity"), t("err.reason.whole_number")));
      return null;
    }
    if (qty !== o.quantity) out.quantity = qty;
    for (const name of MONEY) {
      const cents = moneyField(f, name, box);
      if (cents === null) return null;
      if (cents !== parseCents(String(o[name]))) out[name] = centsToNumber(cents);
    }
  }
  for (const name of TEXT) {
    const v = f.elements[name].value.trim();
    if (v !== (o[name] || "")) out[name] = v || null;
  }
  if (f.elements.payment_status.value !== o.payment_status) out.payment_status = f.elements.payment_status.value;
  const variant = f.elements.variant_id;
  if (!variant.disabled && variant.value && o.variant_id && variant.value !== o.variant_id) out.variant_id = variant.value;
  if (!f.elements.fulfillment_status.disabled && f.elements.fulfillment_status.value !== o.fulfillment_status) {
    out.fulfillment_status = f.elements.fulfillment_status.value;
  }
  const shipped = f.elements.shipped_date.value;
  if (!f.elements.shipped_date.disabled && shipped && shipped !== o.shipped_date) out.shipped_date = shipped;
  const code = f.elements.cost_currency.value;
  const cost = costField(f.elements.cost, code, box, t("order.cost"));
  if (cost === undefined) return null;
  const had = o.cost === null || o.cost === undefined ? null : Number(o.cost);
  if (cost === null) {
    if (had !== null) out.cost = null;
  } else if (cost !== had || code !== o.cost_currency) {
    out.cost = cost;
    out.cost_currency = code;
  }
  return out;
}

async function save(body, { confirmCancel = true } = {}) {
  const box = $("#detail-msg");
  if (body.fulfillment_status === "cancelled" && confirmCancel) {
    const ok = await ask(t("confirm.cancel_one", { no: state.order.order_no }), t("confirm.cancel_yes"), t("confirm.cancel_no"));
    if (!ok) return;
  }
  const before = state.order;
  const btn = $("#detail-save");
  btn.disabled = true;
  try {
    state.order = await api.patch(`/orders/${before.id}`, body);
    state.touched.clear(); // saved: the fields show the order as written
    render();
    if (state.credit === null) loadCredit(state.order); // held and owing only now (say, a raised quantity)
    notify(box, "success", t("common.saved"));
    state.onSaved(state.order, before, body);
    if ("payment_status" in body || "fulfillment_status" in body) loadPayments(state.order);
  } catch (err) {
    if (err.status !== 401) notify(box, "danger", describe(err));
  } finally {
    btn.disabled = false;
  }
}

export function bind() {
  const f = form();
  const touch = (ev) => {
    if (ev.target.name) state.touched.add(ev.target.name);
  };
  f.addEventListener("input", touch);
  f.addEventListener("change", touch);
  f.addEventListener("input", (ev) => {
    if (["quantity", "unit_price", "shipping_fee"].includes(ev.target.name)) updateTotal();
  });
  f.elements.fulfillment_status.addEventListener("change", syncFields);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = changes();
    if (body === null) return;
    if (!Object.keys(body).length) {
      notify($("#detail-msg"), "info", t("detail.nothing"));
      return;
    }
    await save(body);
  });
  $("#detail-cancel-order").addEventListener("click", () => save({ fulfillment_status: "cancelled" }));
  $("#detail-close").addEventListener("click", close);
  // A click on the backdrop (outside the panel) closes it too.
  dialog().addEventListener("click", (ev) => {
    if (ev.target === dialog()) close();
  });
  dialog().addEventListener("close", () => {
    state.order = null;
    const bar = $("#undo-bar");
    if (dialog().contains(bar)) document.body.append(bar); // an undo still on offer stays usable
  });
}
