// The buyer page (track.html#<token>): one buyer's orders with a progress line, no login.
// The token sits in the URL fragment, so it never reaches a server log or a Referer header.
// Payments: what is still owed, the shop's payment details (text, never HTML), the
// buyer's "I have paid" report and the list of their payments with the seller's answer.
// Charges (shipping after weighing, duty...): the open ones next to the orders; the amount
// due (the server's balance) includes them.
import { api, ApiError, describe, detailLine } from "./api.js";
import { $, h, notify } from "./dom.js";
import { asciiDigits, centsToNumber, date, money, typedAmount } from "./format.js";
import { apply, aside, bindSwitcher, labelled, onChange, t } from "./i18n.js";
import { balanceCents, kindText, openCharges } from "./charges.js";
// The page's own texts (the order form does not load them).
import "./i18n/buyer-track.js";

const STEPS = ["ordered", "remitted", "purchased", "shipped", "delivered"];
const PAY_FIELDS = { amount: "track.pay.amount", paid_at: "track.pay.date", account_last5: "track.pay.last5", note: "track.pay.note" };
const PAYMENTS_SHOWN = 5;
let data = null;
let token = "";
// One Idempotency-Key per submission: a double tap or a retry after a lost answer sends the
// same key, so the shop gets one report. A new key once the buyer changes the form.
let payKey = null;
let payBusy = false;
let payError = null; // the last error of the form, shown again in the other language
let showAllPayments = false;

function reached(o) {
  const done = new Set(["ordered"]);
  // "Remitted" is reached only when the order is fully paid; partly paid shows half a dot.
  if (o.payment_status === "remitted" || o.payment_status === "refunded") done.add("remitted");
  const f = o.fulfillment_status;
  if (["purchased", "shipped", "delivered"].includes(f)) done.add("purchased");
  if (["shipped", "delivered"].includes(f)) done.add("shipped");
  if (f === "delivered") done.add("delivered");
  return done;
}

function card(o, currency) {
  const done = reached(o);
  const facts = [
    t("track.ordered_on", { date: date(o.created_at) }),
    o.remitted_at ? t("track.remitted_on", { date: date(o.remitted_at) }) : null,
    o.shipped_date ? t("track.shipped_on", { date: date(o.shipped_date) }) : null,
  ].filter(Boolean);
  return h(
    "article",
    { class: "card order-card", dataset: { orderNo: String(o.order_no) } },
    h(
      "div",
      { class: "card-body" },
      h(
        "div",
        { class: "d-flex justify-content-between gap-2" },
        o.photo_url ? h("img", { class: "track-photo rounded flex-shrink-0", src: o.photo_url, alt: o.item_name, width: "48", height: "48", loading: "lazy", decoding: "async" }) : null,
        h("h2", { class: "h6 mb-1 me-auto" }, `#${o.order_no} · ${o.variant_label ? aside(o.item_name, o.variant_label) : o.item_name} × ${o.quantity}`),
        h("strong", { class: "text-nowrap" }, money(o.total_amount, currency)),
      ),
      o.fulfillment_status === "cancelled"
        ? h("div", { class: "alert alert-secondary py-1 my-2 small" }, t("track.cancelled"))
        : h(
            "ol",
            { class: "progress-line", "aria-label": t("track.title") },
            STEPS.map((s) => {
              const partial = s === "remitted" && o.payment_status === "partial";
              return h(
                "li",
                { class: done.has(s) ? "done" : partial ? "partial" : "", dataset: { step: s } },
                t(`track.step.${s}`),
                partial ? h("span", { class: "visually-hidden" }, aside("", t("track.partial"))) : null,
              );
            }),
          ),
      o.payment_status === "refunded" ? h("span", { class: "badge text-bg-secondary me-2" }, t("track.refunded")) : null,
      o.payment_status === "partial"
        ? h(
            "div",
            { class: "paid-part small mb-1" },
            h("span", { class: "badge text-bg-warning me-2" }, t("track.partial")),
            t("track.paid_of", { paid: money(o.paid_amount, currency), total: money(o.total_amount, currency) }),
          )
        : null,
      h("div", { class: "small text-muted" }, facts.join(" · ")),
      o.carrier || o.tracking_number
        ? h(
            "div",
            { class: "small mt-1" },
            o.carrier ? h("span", { class: "me-3" }, labelled(t("track.carrier")), h("strong", { class: "carrier" }, o.carrier)) : null,
            o.tracking_number ? h("span", {}, labelled(t("track.tracking")), h("strong", { class: "tracking-number user-select-all" }, o.tracking_number)) : null,
          )
        : null,
    ),
  );
}

const PAY_STATUS_CLASS = {
  reported: "text-pay-reported",
  confirmed: "text-success",
  rejected: "text-danger",
  voided: "text-muted",
};

function paymentItem(p, currency) {
  const status = ["reported", "confirmed", "rejected", "voided"].includes(p.status) ? p.status : "reported";
  const facts = [
    p.paid_at ? t("track.pay.paid_on", { date: date(p.paid_at) }) : null,
    p.account_last5 ? t("track.pay.account", { last5: p.account_last5 }) : null,
    p.source === "seller" ? t("track.pay.by_seller") : null,
  ].filter(Boolean);
  return h(
    "li",
    { class: "list-group-item pay-item", dataset: { status } },
    h(
      "div",
      { class: "d-flex flex-wrap justify-content-between gap-2" },
      h("span", { class: "pay-amount" }, money(p.amount, currency)),
      h("span", { class: `pay-status fw-semibold ${PAY_STATUS_CLASS[status]}` }, t(`track.pay.status.${status}`)),
    ),
    h("div", { class: "small text-muted" }, facts.join(" · ")),
    status === "rejected" && p.reject_reason ? h("div", { class: "small pay-reason" }, t("track.pay.reason", { reason: p.reject_reason })) : null,
  );
}

function renderPayments() {
  const currency = data.currency;
  const balance = Number(data.balance || 0);
  const credit = Number(data.credit || 0);
  $("#pay-due").textContent = money(balance, currency);
  $("#pay-settled").classList.toggle("d-none", balance > 0);
  // Nothing due (orders and charges): nothing to report paying. A report being sent stays.
  $("#pay-open").classList.toggle("d-none", !(balance > 0));
  if (!(balance > 0) && !payBusy) openPayForm(false);
  const charged = openCharges(data.charges).reduce((sum, c) => sum + balanceCents(c), 0);
  const chargesLine = $("#pay-charges");
  chargesLine.textContent = charged > 0 ? t("track.pay.includes_charges", { amount: money(centsToNumber(charged), currency) }) : "";
  chargesLine.classList.toggle("d-none", !(charged > 0 && balance > 0));
  const creditLine = $("#pay-credit");
  creditLine.textContent = credit > 0 ? t("track.pay.credit", { amount: money(credit, currency) }) : "";
  creditLine.classList.toggle("d-none", !(credit > 0));
  const instructions = (data.payment_instructions || "").trim();
  $("#pay-instructions").textContent = instructions; // text only: the shop's words are never HTML
  $("#pay-instructions-box").classList.toggle("d-none", !instructions);
  $("#pay-currency").textContent = currency || "";
  const payments = data.payments || [];
  const shown = showAllPayments ? payments : payments.slice(0, PAYMENTS_SHOWN);
  $("#pay-list").replaceChildren(...shown.map((p) => paymentItem(p, currency)));
  $("#pay-history").classList.toggle("d-none", !payments.length);
  const more = $("#pay-more");
  more.textContent = t("track.pay.show_all", { n: payments.length });
  more.classList.toggle("d-none", shown.length >= payments.length);
  showPayError();
}

/** One parcel: method, carrier, tracking number (a link to the carrier's page when there is
 *  one, in a new tab), dates and the order numbers inside. All of it text, never HTML. */
function parcelCard(p) {
  const dates = [p.shipped_date ? t("track.shipped_on", { date: date(p.shipped_date) }) : null, p.delivered_date ? t("track.parcel_delivered_on", { date: date(p.delivered_date) }) : null].filter(Boolean);
  const number = p.tracking_number
    ? p.tracking_url
      ? h("a", { class: "tracking-number", href: p.tracking_url, target: "_blank", rel: "noopener noreferrer", "aria-label": t("track.parcel_link", { number: p.tracking_number }) }, p.tracking_number)
      : h("strong", { class: "tracking-number user-select-all" }, p.tracking_number)
    : null;
  return h(
    "article",
    { class: "card parcel-card", dataset: { parcelNo: String(p.parcel_no ?? "") } },
    h(
      "div",
      { class: "card-body py-2" },
      h(
        "div",
        { class: "d-flex flex-wrap justify-content-between gap-2" },
        h("h3", { class: "h6 mb-1 parcel-method" }, t(`ship.m.${p.method}`)),
        p.delivered_date ? h("span", { class: "badge text-bg-success align-self-start" }, t("track.step.delivered")) : h("span", { class: "badge text-bg-primary align-self-start" }, t("track.step.shipped")),
      ),
      p.carrier || number
        ? h(
            "div",
            { class: "small" },
            p.carrier ? h("span", { class: "me-3" }, labelled(t("track.carrier")), h("strong", { class: "carrier" }, p.carrier)) : null,
            number ? h("span", { class: "text-break" }, labelled(t("track.tracking")), number) : null,
          )
        : null,
      dates.length ? h("div", { class: "small text-muted parcel-dates" }, dates.join(" · ")) : null,
      h("div", { class: "small parcel-orders" }, t("track.parcel_orders", { list: (p.order_nos || []).map((n) => `#${n}`).join(t("common.list_sep")) })),
    ),
  );
}

/** One charge: its kind in words, the seller's note, the parcel it is for, and what is paid
 *  and still owed (or that it is paid). Text only. */
function chargeCard(c, currency) {
  const paid = Number(c.paid_amount) > 0;
  const owed = balanceCents(c);
  const facts = [c.parcel_no ? t("charge.parcel_no", { no: c.parcel_no }) : null, c.created_at ? t("track.charge.added_on", { date: date(c.created_at) }) : null].filter(Boolean);
  return h(
    "article",
    { class: "card charge-card", dataset: { kind: String(c.kind || ""), settled: String(owed === 0) } },
    h(
      "div",
      { class: "card-body py-2" },
      h(
        "div",
        { class: "d-flex justify-content-between gap-2" },
        h("h3", { class: "h6 mb-1 charge-kind" }, kindText(c.kind)),
        h("strong", { class: "text-nowrap charge-amount" }, money(c.amount, currency)),
      ),
      c.note ? h("div", { class: "small charge-note" }, c.note) : null,
      facts.length ? h("div", { class: "small text-muted" }, facts.join(" · ")) : null,
      h(
        "div",
        { class: "small mt-1" },
        owed === 0
          ? h("span", { class: "badge text-bg-success charge-settled" }, t("track.charge.settled"))
          : [
              paid ? h("span", { class: "me-3 charge-paid" }, t("track.charge.paid", { amount: money(c.paid_amount, currency) })) : null,
              h("span", { class: "fw-semibold charge-owed" }, t("track.charge.owed", { amount: money(centsToNumber(owed), currency) })),
            ],
      ),
    ),
  );
}

function renderCharges() {
  // What the server lists (the buyer's charges that are not voided), paid ones marked so.
  const charges = (data.charges || []).filter((c) => c.status !== "void");
  $("#charges-section").classList.toggle("d-none", !charges.length);
  $("#charge-cards").replaceChildren(...charges.map((c) => chargeCard(c, data.currency)));
}

function renderParcels() {
  const parcels = data.parcels || [];
  $("#parcels-section").classList.toggle("d-none", !parcels.length);
  $("#parcel-cards").replaceChildren(...parcels.map(parcelCard));
}

function render() {
  if (!data) return;
  $("#shop-name").textContent = data.shop_name;
  document.title = `${data.shop_name} · ${t("track.title")}`;
  $("#buyer-heading").textContent = t("track.hello", { name: data.buyer_name });
  // A form submission's link shows that submission only (whoever typed the email may not
  // be its owner): the page says so, and where the rest is.
  $("#scope-note").classList.toggle("d-none", data.scope !== "submission");
  // The buyer's own switch for batch notices by email: not on a submission's link.
  $("#notices-section").classList.toggle("d-none", data.scope === "submission");
  renderPayments();
  renderCharges();
  renderParcels();
  const cards = (data.orders || []).map((o) => card(o, data.currency));
  $("#order-cards").replaceChildren(...(cards.length ? cards : [h("p", { class: "text-muted" }, t("track.empty"))]));
  $("#orders-view").classList.remove("d-none");
}

// --- "I have paid" ----------------------------------------------------------------------

/** Today in the buyer's own calendar, YYYY-MM-DD. */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function fieldError(name, text) {
  const form = $("#pay-form");
  const input = form.elements[name];
  const box = $(`#${input.id}-error`);
  input.classList.toggle("is-invalid", Boolean(text));
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  box.textContent = text || "";
}

/** A server detail in the page's words: the field's label and the reason, never the
 *  server's English message. */
function detailText(d) {
  if (d.field === "account_last5") return t("track.pay.last5_invalid");
  const reason = detailLine({ ...d, field: undefined, row: undefined });
  return t("track.pay.field_error", { field: t(PAY_FIELDS[d.field]), reason });
}

/** Show payError (kept so a language switch shows it again in the new language). */
function showPayError() {
  for (const name of Object.keys(PAY_FIELDS)) fieldError(name, "");
  const box = $("#pay-form-msg");
  if (!payError) {
    box.replaceChildren();
    return;
  }
  const { err, client } = payError;
  if (client) {
    fieldError(client.field, t(client.key));
    notify(box, "danger", t("code.validation_error"));
    return;
  }
  const fields = (err.details || []).filter((d) => d && PAY_FIELDS[d.field]);
  for (const d of fields) fieldError(d.field, detailText(d));
  let message;
  if (err.code === "rate_limited") message = t("track.pay.rate_limited");
  else if (fields.length && fields.length === (err.details || []).length) message = t("code.validation_error");
  else message = describe(err);
  notify(box, "danger", message);
}

function openPayForm(open) {
  const form = $("#pay-form");
  form.classList.toggle("d-none", !open);
  $("#pay-open").setAttribute("aria-expanded", String(open));
  if (!open) return;
  $("#pay-msg").replaceChildren();
  const balance = Number(data?.balance || 0);
  if (!form.elements.amount.value) form.elements.amount.value = balance > 0 ? String(balance) : "";
  if (!form.elements.paid_at.value) form.elements.paid_at.value = today();
  form.elements.paid_at.max = today();
  form.elements.amount.focus();
}

function resetPayForm() {
  const form = $("#pay-form");
  form.reset();
  payKey = null;
  payError = null;
  showPayError();
}

async function submitPayment(ev) {
  ev.preventDefault();
  if (payBusy) return; // a double tap sends one report
  const form = $("#pay-form");
  const typed = typedAmount(form.elements.amount.value, data?.currency); // ６０ or NT$60 is 60
  const cents = typed.cents;
  if (!cents) {
    const key = typed.error === "not_an_amount" ? "detail.not_an_amount" : "track.pay.amount_invalid";
    payError = { client: { field: "amount", key } };
    showPayError();
    form.elements.amount.focus();
    return;
  }
  const body = { amount: centsToNumber(cents) };
  const paidAt = form.elements.paid_at.value;
  if (paidAt) body.paid_at = paidAt;
  const last5 = asciiDigits(form.elements.account_last5.value).trim();
  if (last5) body.account_last5 = last5;
  const note = form.elements.note.value.trim();
  if (note) body.note = note;
  payKey = payKey || (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  payBusy = true;
  const submit = $("#pay-submit");
  submit.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    const payment = await api.post(`/track/${encodeURIComponent(token)}/payments`, body, {
      auth: false,
      headers: { "Idempotency-Key": payKey },
    });
    // A repeat of the same key answers with the first report: list it once.
    const payments = data.payments || [];
    const same = (p) => p.created_at === payment.created_at && p.amount === payment.amount;
    if (!payments.some(same)) data.payments = [payment, ...payments];
    resetPayForm();
    openPayForm(false);
    renderPayments();
    notify($("#pay-msg"), "success", t("track.pay.sent"));
    $("#pay-open").focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && !err.code.startsWith("http_")) {
      load(); // the link was replaced or revoked meanwhile: say so and offer a new one
      return;
    }
    payError = { err: err instanceof ApiError ? err : new ApiError(500, "internal_error") };
    // The key stays: a retry after a lost answer must send it again (the report may have
    // been written). Correcting a refused field is an input, which starts a new key.
    showPayError();
    const firstBad = form.querySelector(".is-invalid");
    if (firstBad) firstBad.focus();
  } finally {
    payBusy = false;
    submit.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

async function copyInstructions() {
  const text = $("#pay-instructions").textContent;
  const msg = $("#pay-copy-msg");
  try {
    await navigator.clipboard.writeText(text);
    msg.className = "small text-success mt-1";
    msg.textContent = t("track.pay.copied");
  } catch {
    // No clipboard (an old browser, a denied permission): select the text for the buyer.
    const range = document.createRange();
    range.selectNodeContents($("#pay-instructions"));
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    msg.className = "small text-muted mt-1";
    msg.textContent = t("track.pay.copy_failed");
  }
}

function showRequestForm(message, kind) {
  const params = new URLSearchParams(location.search);
  const shop = params.get("shop");
  const form = $("#request-form");
  if (shop) {
    form.elements.shop_slug.value = shop;
    $("#shop-field").classList.add("d-none");
  }
  form.classList.remove("d-none");
  notify($("#track-msg"), kind, message);
}

// The token from the URL fragment: "" when there is none, null when it cannot be decoded
// (a malformed %-escape, e.g. a link cut off while copying: decodeURIComponent throws).
function tokenFromHash() {
  try {
    return decodeURIComponent(location.hash.replace(/^#/, "")).trim();
  } catch {
    return null;
  }
}

async function load() {
  token = tokenFromHash();
  // Another link opened in this tab: nothing typed for the previous one carries over.
  resetPayForm();
  openPayForm(false);
  $("#pay-msg").replaceChildren();
  showAllPayments = false;
  $("#orders-view").classList.add("d-none");
  $("#request-form").classList.add("d-none");
  $("#track-msg").replaceChildren();
  if (!token) {
    data = null;
    $("#loading").classList.add("d-none");
    showRequestForm(t(token === null ? "track.invalid" : "track.missing"), token === null ? "warning" : "info");
    return;
  }
  $("#loading").classList.remove("d-none");
  try {
    data = await api.get(`/track/${encodeURIComponent(token)}`, undefined, { auth: false });
    render();
  } catch (err) {
    data = null;
    if (err.status === 404 || err.status === 403) showRequestForm(t("track.invalid"), "warning");
    else notify($("#track-msg"), "danger", describe(err));
  } finally {
    $("#loading").classList.add("d-none");
  }
}

async function noticesByEmail(optOut) {
  const box = $("#notices-msg");
  try {
    await api.post(`/track/${encodeURIComponent(token)}/notices-opt-out`, { opt_out: optOut }, { auth: false });
    notify(box, "success", t(optOut ? "track.notices_off_done" : "track.notices_on_done"));
  } catch (err) {
    notify(box, "danger", describe(err));
  }
}
$("#notices-off").addEventListener("click", () => noticesByEmail(true));
$("#notices-on").addEventListener("click", () => noticesByEmail(false));

$("#request-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const body = { shop_slug: form.elements.shop_slug.value.trim(), email: form.elements.email.value.trim() };
  const btn = form.querySelector("[type=submit]");
  btn.disabled = true;
  try {
    await api.post("/track/request-link", body, { auth: false });
    notify($("#request-msg"), "success", t("track.sent"));
  } catch (err) {
    notify($("#request-msg"), "danger", describe(err));
  } finally {
    btn.disabled = false;
  }
});

$("#pay-open").addEventListener("click", () => openPayForm($("#pay-form").classList.contains("d-none")));
$("#pay-cancel").addEventListener("click", () => {
  resetPayForm();
  openPayForm(false);
  $("#pay-open").focus();
});
$("#pay-form").addEventListener("submit", submitPayment);
$("#pay-form").addEventListener("input", () => {
  if (!payBusy) payKey = null; // changed values: a new report, a new key
});
$("#pay-copy").addEventListener("click", copyInstructions);
$("#pay-more").addEventListener("click", () => {
  showAllPayments = true;
  renderPayments();
});

apply();
bindSwitcher($("#lang"));
onChange(render);
window.addEventListener("hashchange", load);
load();
