// The ship tab (出貨): per buyer, the orders bought and in no parcel yet, of one batch when the
// batch filter says so (GET /parcels/ready?batch=; all ticked; the
// unpaid and partly paid ones marked so the seller can hold them back), and a form that packs
// the ticked ones into one parcel (method, carrier from the method's list or typed, tracking
// number, fee, recipient prefilled from the buyer, store for a convenience-store method),
// sent once with an Idempotency-Key. When a ticked order was placed through an order form
// with other delivery details than the buyer's (its `ship_to_differs`), both are shown side by
// side and the seller must choose one before packing (never a silent default). Below, the parcels, newest first, filtered by status:
// print the packing slip (A4 or label, with or without prices: fetched with the token,
// shown in a hidden <iframe srcdoc> and printed from there), mark delivered or returned (the
// box came back: its orders go back to Ready to ship), unpack (asks;
// never after delivery), edit the tracking number.
import { api, describe, request } from "../api.js";
import { $, ask, h, notify } from "../dom.js";
import { amountError, centsToNumber, date, money, parseCents } from "../format.js";
import { aside, lang, t } from "../i18n.js";
import { buyerContact, compact, currency, flash, itemText } from "../app.js";
import { PagedList } from "../paged.js";
import { copyMessageButton } from "./buyer-message.js";
import { ADDRESS_FREE_METHODS, CARRIERS, CVS_METHODS, PARCEL_METHODS, PARCEL_STATUSES } from "../constants.js";

const METHODS = PARCEL_METHODS;
const CVS = new Set(CVS_METHODS);
const NO_ADDRESS = new Set(ADDRESS_FREE_METHODS);
const STATUSES = PARCEL_STATUSES;
// CARRIERS (chalicelib/carriers.py): display names in both languages and the methods each
// serves. The server knows every one of these names (and its aliases) as that carrier.
const carrierName = (c) => (lang() === "zh-Hant" ? c.zh : c.en);
const carriersFor = (method) => CARRIERS.filter((c) => c.methods.includes(method)).map(carrierName);

const state = {
  ready: null, // [{customer_id, name, ..., orders}] (null: not loaded)
  readyError: null,
  readyAsked: 0, // the last GET /parcels/ready asked for (an older answer is dropped)
  batches: [], // the batch filter's names (GET /batches)
  forms: new Map(), // customer_id → {unticked: Set, values: {}, key, busy, msg}
  // The parcels list, filtered by status.
  parcels: new PagedList((page) => api.get("/parcels", { status: $("#ship-filter-status").value, ...page })),
  parcelsError: null,
  editing: null, // id of the parcel whose tracking number is being edited
  busy: new Set(), // ids of parcels with a request on its way
};

const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);
const cur = () => currency();
export const parcelName = (no) => t("ship.parcel_no", { no });

function formState(buyer) {
  if (!state.forms.has(buyer.customer_id)) {
    state.forms.set(buyer.customer_id, {
      unticked: new Set(),
      values: { method: "home", carrier: "", tracking_number: "", shipping_fee: "0", shipping_paid_by: "buyer", shipping_cost: "", name: buyer.name || "", phone: buyer.phone || "", address: buyer.address || "", store_name: "", store_id: "", note: "" },
      carrierAuto: true, // the carrier box holds what the method suggested (a new method replaces it)
      choice: null, // which delivery details the seller chose when they differ: "file" or a shipChoices key
      key: null,
      busy: false,
      msg: null,
    });
  }
  return state.forms.get(buyer.customer_id);
}

// --- loading and drawing ----------------------------------------------------------------------

export function bind() {
  const status = $("#ship-filter-status");
  status.addEventListener("change", () => loadParcels(true));
  $("#ship-filter-batch").addEventListener("change", () => loadReady());
  $("#ship-more").addEventListener("click", () => loadParcels(false));
  fillStatic();
}

export async function load() {
  performance.mark("ship-load");
  await Promise.all([loadReady(), loadParcels(true), loadBatches()]);
}

export function render() {
  fillStatic();
  renderReady();
  renderParcels();
}

export function reset() {
  state.ready = null;
  state.readyError = null;
  state.forms.clear();
  state.parcels.clear();
  state.parcelsError = null;
  state.editing = null;
  state.busy.clear();
  state.batches = [];
  $("#ship-filter-status").value = "";
  $("#ship-filter-batch").value = "";
  $("#ship-ready").replaceChildren();
  $("#ship-parcels").replaceChildren();
}

function fillStatic() {
  const status = $("#ship-filter-status");
  const chosen = status.value;
  status.replaceChildren(h("option", { value: "" }, t("common.all")), ...STATUSES.map((s) => h("option", { value: s }, t(`ship.status.${s}`))));
  status.value = chosen;
  const size = $("#ship-slip-size");
  const sizeChosen = size.value || "a4";
  size.replaceChildren(h("option", { value: "a4" }, t("ship.slip_a4")), h("option", { value: "label" }, t("ship.slip_label")));
  size.value = sizeChosen;
  const batch = $("#ship-filter-batch");
  const batchChosen = batch.value;
  const names = [...new Set([...state.batches, batchChosen].filter(Boolean))];
  batch.replaceChildren(h("option", { value: "" }, t("common.all")), ...names.map((n) => h("option", { value: n }, n)));
  batch.value = batchChosen;
}

/** The batch filter's choices: every batch, as the batches tab lists them (open ones first). */
async function loadBatches() {
  try {
    state.batches = (await api.get("/batches")).map((b) => b.name);
  } catch {
    return; // the filter keeps the names it had; the list itself says what failed
  }
  fillStatic();
}

async function loadReady() {
  const box = $("#ship-ready");
  if (!state.ready) box.replaceChildren(h("p", { class: "text-muted" }, h("span", { class: "spinner-border spinner-border-sm me-2", role: "status" }), t("common.loading")));
  const asked = ++state.readyAsked;
  const batch = $("#ship-filter-batch").value;
  try {
    const out = await api.get("/parcels/ready", compact({ batch }));
    if (asked !== state.readyAsked) return; // the filter changed meanwhile
    state.ready = out.buyers;
    state.readyError = null;
  } catch (err) {
    if (err.status === 401 || asked !== state.readyAsked) return;
    state.readyError = err;
  }
  // Forms of buyers with nothing left to ship go; the others keep what was typed (one
  // batch shown: the other buyers' forms stay for when every batch is shown again).
  const ids = new Set((state.ready || []).map((b) => b.customer_id));
  if (!batch) for (const id of [...state.forms.keys()]) if (!ids.has(id)) state.forms.delete(id);
  renderReady();
}

function renderReady() {
  const box = $("#ship-ready");
  if (state.readyError) {
    box.replaceChildren(h("p", { class: "text-danger" }, describe(state.readyError)));
    return;
  }
  if (!state.ready) return;
  if (!state.ready.length) {
    const batch = $("#ship-filter-batch").value;
    box.replaceChildren(h("p", { class: "text-muted", id: "ship-none-ready" }, batch ? t("ship.none_ready_batch", { batch }) : t("ship.none_ready")));
    return;
  }
  box.replaceChildren(...state.ready.map(buyerCard));
}

function payMark(o) {
  if (o.payment_status === "remitted" || Number(o.balance) <= 0) return null;
  const key = o.payment_status === "partial" ? "ship.partly_paid" : "ship.unpaid";
  return h("span", { class: "badge text-bg-warning ship-unpaid", title: t("ship.owes", { amount: money(o.balance, cur()) }) }, h("span", { "aria-hidden": "true" }, "⚠ "), t(key));
}

function buyerCard(b) {
  const fs = formState(b);
  const id = b.customer_id;
  const owes = Number(b.balance) > 0;
  const orderBoxes = b.orders.map((o) =>
    h(
      "li",
      { class: "ship-order" },
      h(
        "label",
        { class: "ship-order-label" },
        h("input", {
          class: "form-check-input",
          type: "checkbox",
          name: "order",
          value: o.id,
          checked: !fs.unticked.has(o.id),
          onchange: (ev) => {
            if (ev.target.checked) fs.unticked.delete(o.id);
            else fs.unticked.add(o.id);
            fs.key = null;
            if (o.ship_to_differs) {
              // The choice offered depends on the ticked orders: ask again.
              if (fs.choice !== "file") fs.choice = null;
              renderReady();
              document.querySelector(`#ship-buyer-${b.customer_id} input[name=order][value="${o.id}"]`)?.focus();
              return;
            }
            updateCount(b);
          },
        }),
        h("span", { class: "ship-order-text" }, h("strong", {}, `#${o.order_no}`), ` ${itemText(o)} × ${o.quantity}`),
        h("span", { class: "ship-order-money text-nowrap" }, money(o.total_amount, cur())),
        payMark(o),
      ),
    ),
  );
  const v = fs.values;
  const field = (name, label, attrs = {}, col = "col-12 col-md-4") =>
    h(
      "div",
      { class: `${col} ship-field`, dataset: { field: name } },
      h(
        "label",
        { class: "form-label mb-0 w-100" },
        h("span", {}, label),
        h("input", { class: "form-control", name, value: v[name], autocomplete: "off", ...attrs }),
      ),
    );
  const listId = `ship-carriers-${id}`;
  const choices = shipChoices(b);
  if (fs.choice && fs.choice !== "file" && !choices.some((c) => c.key === fs.choice)) fs.choice = null;
  const form = h(
    "form",
    {
      class: "row g-2 ship-form",
      novalidate: true,
      onsubmit: (ev) => {
        ev.preventDefault();
        createParcel(b, form);
      },
      oninput: (ev) => {
        if (ev.target.name && ev.target.name in v) v[ev.target.name] = ev.target.value;
        if (ev.target.name === "carrier") fs.carrierAuto = false;
        if (!fs.busy) fs.key = null; // changed values: a new parcel, a new key
      },
    },
    h(
      "div",
      { class: "col-12 col-md-4" },
      h(
        "label",
        { class: "form-label mb-0 w-100" },
        h("span", {}, t("ship.method")),
        h(
          "select",
          {
            class: "form-select",
            name: "method",
            onchange: (ev) => {
              v.method = ev.target.value;
              const suggested = carriersFor(v.method);
              if (fs.carrierAuto || !v.carrier) {
                v.carrier = suggested.length === 1 ? suggested[0] : "";
                fs.carrierAuto = true;
              }
              renderReady();
              $(`#ship-buyer-${id} [name=method]`)?.focus();
            },
          },
          METHODS.map((m) => h("option", { value: m, selected: m === v.method }, t(`ship.m.${m}`))),
        ),
      ),
    ),
    field("carrier", t("order.carrier"), { list: listId }),
    h("datalist", { id: listId }, carriersFor(v.method).map((name) => h("option", { value: name }))),
    field("tracking_number", t("order.tracking"), { autocapitalize: "characters", spellcheck: "false" }),
    field("shipping_fee", t("ship.fee"), { inputmode: "decimal" }, "col-6 col-md-2"),
    payerField(v.shipping_paid_by, "col-6 col-md-2"),
    field("shipping_cost", t("ship.cost"), { inputmode: "decimal", "aria-describedby": `ship-cost-help-${id}` }, "col-6 col-md-2 owner-only"),
    h("div", { class: "col-12 form-text mt-0 ship-fee-help", id: `ship-cost-help-${id}` }, t("ship.fee_help"), " ", h("span", { class: "owner-only" }, t("ship.fee_help_profit"))),
    choices.length ? choiceBox(b, choices) : null,
    field("name", t("ship.recipient_name"), { autocomplete: "off" }, "col-6 col-md-3"),
    field("phone", t("ship.recipient_phone"), { type: "tel" }, "col-12 col-md-3"),
    NO_ADDRESS.has(v.method) ? null : field("address", t("ship.recipient_address"), {}, "col-12 col-md-4"),
    CVS.has(v.method) ? field("store_name", t("ship.store_name"), {}, "col-7 col-md-3") : null,
    CVS.has(v.method) ? field("store_id", t("ship.store_id"), { inputmode: "numeric" }, "col-5 col-md-2") : null,
    field("note", t("ship.note"), {}, "col-12 col-md-6"),
    h(
      "div",
      { class: "col-12 d-flex flex-wrap align-items-center gap-2" },
      h("span", { class: "small text-muted ship-count", "aria-live": "polite" }),
      h("button", { class: "btn btn-primary ms-auto ship-create", type: "submit", disabled: fs.busy }, t("ship.create")),
    ),
    h("div", { class: "col-12 ship-msg" }),
  );
  const headingId = `ship-buyer-title-${id}`;
  const messageBox = h("div", { class: "ship-message" });
  const card = h(
    "article",
    { class: "card mb-3 ship-buyer", id: `ship-buyer-${id}`, dataset: { customerId: id }, "aria-labelledby": headingId },
    h(
      "div",
      { class: "card-header d-flex flex-wrap gap-2 align-items-baseline" },
      h("h3", { class: "h6 mb-0 me-auto", id: headingId }, b.name, " ", h("small", { class: "fw-normal text-muted buyer-contact" }, buyerContact(b.customer_id, b))),
      h(
        "span",
        { class: `small ship-balance ${owes ? "owes fw-semibold" : "paid"}` },
        owes ? t("ship.buyer_owes", { amount: money(b.balance, cur()) }) : t("ship.buyer_paid"),
      ),
      copyMessageButton(b, messageBox, `ship-message-text-${id}`),
    ),
    h(
      "div",
      { class: "card-body" },
      messageBox,
      h("fieldset", {}, h("legend", { class: "visually-hidden" }, t("ship.orders_of", { name: b.name })), h("ul", { class: "list-unstyled mb-2 ship-orders" }, orderBoxes)),
      form,
    ),
  );
  if (fs.msg) notify(card.querySelector(".ship-msg"), fs.msg.kind, fs.msg.text);
  queueMicrotask(() => updateCount(b));
  return card;
}

const DETAILS = ["name", "phone", "address"];

/** What the ticked orders' order forms said about delivery that the buyer's details do not:
 * one entry per distinct ship_to, with its orders' numbers. */
function shipChoices(b) {
  const typed = new Map();
  for (const o of ticked(b)) {
    if (!o.ship_to_differs || !o.ship_to) continue;
    const key = JSON.stringify(DETAILS.map((k) => o.ship_to[k] || ""));
    if (!typed.has(key)) typed.set(key, { key, details: o.ship_to, orderNos: [] });
    typed.get(key).orderNos.push(o.order_no);
  }
  return [...typed.values()];
}

/** The buyer's details and the typed ones side by side, each a radio; none chosen at first. */
function choiceBox(b, choices) {
  const fs = formState(b);
  const id = b.customer_id;
  const option = (value, title, details) =>
    h(
      "div",
      { class: "col-12 col-md-6" },
      h(
        "label",
        { class: `card h-100 p-2 ship-choice-option ${fs.choice === value ? "border-primary" : ""}`, dataset: { choice: value === "file" ? "file" : "typed" } },
        h(
          "span",
          { class: "d-flex gap-2 align-items-center fw-semibold" },
          h("input", {
            class: "form-check-input m-0",
            type: "radio",
            name: `ship-choice-${id}`,
            value,
            checked: fs.choice === value,
            onchange: () => choose(b, value, details),
          }),
          title,
        ),
        h(
          "dl",
          { class: "row small mb-0 mt-1" },
          DETAILS.flatMap((k) => [
            h("dt", { class: "col-4 text-muted fw-normal" }, t(`ship.recipient_${k}`)),
            // What the form says differently is in bold.
            h("dd", { class: `col-8 mb-0 text-break ship-choice-${k} ${value !== "file" && details[k] && details[k] !== (b[k] || "") ? "fw-semibold" : ""}` }, details[k] || "—"),
          ]),
        ),
      ),
    );
  return h(
    "fieldset",
    { class: "col-12 ship-choice", "aria-describedby": `ship-choice-help-${id}` },
    h("legend", { class: "fs-6 fw-semibold mb-1" }, t("ship.choose_recipient")),
    h("p", { class: "small text-muted mb-2", id: `ship-choice-help-${id}` }, t("ship.choose_help")),
    h(
      "div",
      { class: "row g-2" },
      option("file", t("ship.on_file"), { name: b.name, phone: b.phone, address: b.address }),
      ...choices.map((c) => option(c.key, t("ship.typed_on_form", { orders: c.orderNos.map((n) => `#${n}`).join(t("common.list_sep")) }), c.details)),
    ),
  );
}

/** The chosen details fill the recipient fields (still editable before packing). */
function choose(b, value, details) {
  const fs = formState(b);
  fs.choice = value;
  for (const k of DETAILS) fs.values[k] = details[k] || "";
  fs.key = null;
  fs.msg = null;
  renderReady();
  document.querySelector(`#ship-buyer-${b.customer_id} .ship-choice input[value="${CSS.escape(value)}"]`)?.focus();
}

function ticked(b) {
  const fs = formState(b);
  return b.orders.filter((o) => !fs.unticked.has(o.id));
}

function updateCount(b) {
  const card = document.getElementById(`ship-buyer-${b.customer_id}`);
  if (!card) return;
  const chosen = ticked(b);
  const cents = chosen.reduce((sum, o) => sum + (parseCents(String(o.total_amount)) ?? 0), 0);
  card.querySelector(".ship-count").textContent = t("ship.count", { n: chosen.length, total: money(centsToNumber(cents), cur()) });
  card.querySelector(".ship-create").disabled = formState(b).busy || !chosen.length;
}

async function createParcel(b, form) {
  const fs = formState(b);
  if (fs.busy) return; // a second tap while the first is on its way
  const v = fs.values;
  const box = form.querySelector(".ship-msg");
  const chosen = ticked(b);
  if (!chosen.length) {
    notify(box, "danger", t("ship.nothing_ticked"));
    return;
  }
  const fee = parseCents(v.shipping_fee, currency());
  if (fee === null) {
    form.elements.shipping_fee.classList.add("is-invalid");
    notify(box, "danger", amountError(v.shipping_fee, currency(), t("ship.fee")));
    return;
  }
  form.elements.shipping_fee.classList.remove("is-invalid");
  const cost = v.shipping_cost.trim() === "" ? null : parseCents(v.shipping_cost, currency());
  if (cost === null && v.shipping_cost.trim() !== "") {
    form.elements.shipping_cost.classList.add("is-invalid");
    notify(box, "danger", amountError(v.shipping_cost, currency(), t("ship.cost")));
    return;
  }
  form.elements.shipping_cost.classList.remove("is-invalid");
  if (shipChoices(b).length && !fs.choice) {
    // The order form and the buyer's record disagree: the seller says which one.
    notify(box, "danger", t("ship.choose_first"));
    form.querySelector(".ship-choice input")?.focus();
    return;
  }
  const recipient = compact({
    name: v.name.trim(),
    phone: v.phone.trim(),
    address: NO_ADDRESS.has(v.method) ? "" : v.address.trim(),
    store_name: CVS.has(v.method) ? v.store_name.trim() : "",
    store_id: CVS.has(v.method) ? v.store_id.trim() : "",
  });
  const body = compact({
    customer_id: b.customer_id,
    order_ids: chosen.map((o) => o.id),
    method: v.method,
    carrier: v.carrier.trim(),
    tracking_number: v.tracking_number.trim(),
    shipping_fee: centsToNumber(fee),
    shipping_paid_by: v.shipping_paid_by,
    shipping_cost: cost === null ? "" : centsToNumber(cost),
    note: v.note.trim(),
  });
  if (Object.keys(recipient).length) body.recipient = recipient;
  fs.key = fs.key || newKey();
  fs.busy = true;
  fs.msg = null;
  const btn = form.querySelector(".ship-create");
  btn.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    const parcel = await api.post("/parcels", body, { headers: { "Idempotency-Key": fs.key } });
    state.forms.delete(b.customer_id);
    flash("success", t("ship.created", { parcel: parcelName(parcel.parcel_no), name: b.name, n: parcel.order_ids.length }));
    await Promise.all([loadReady(), loadParcels(true)]);
    const row = document.querySelector(`#ship-parcels [data-id="${parcel.id}"]`);
    if (row) row.classList.add("ship-new");
    return;
  } catch (err) {
    if (err.status === 401) return;
    // The key stays: a retry after a lost answer must not make a second parcel.
    fs.msg = { kind: "danger", text: describe(err) };
    notify(box, "danger", fs.msg.text);
    if (err.status === 409 && err.code !== "idempotency_key_in_use") {
      fs.key = null; // refused, nothing written: the next try is a new request
      loadReady();
    }
  } finally {
    fs.busy = false;
    form.removeAttribute("aria-busy");
    if (document.body.contains(btn)) updateCount(b);
  }
}

// --- the parcels ------------------------------------------------------------------------------

async function loadParcels(resetList) {
  const box = $("#ship-parcels");
  if (resetList && !state.parcels.loaded) box.replaceChildren(h("p", { class: "text-muted" }, t("common.loading")));
  try {
    await state.parcels.load(resetList);
    state.parcelsError = null;
  } catch (err) {
    if (err.status === 401) return;
    if (!resetList) {
      flash("danger", describe(err));
      return;
    }
    state.parcelsError = err;
  }
  renderParcels();
}

function renderParcels() {
  const box = $("#ship-parcels");
  if (state.parcelsError) {
    box.replaceChildren(h("p", { class: "text-danger" }, describe(state.parcelsError)));
    return;
  }
  if (!state.parcels.loaded) return;
  $("#ship-more").classList.toggle("d-none", !state.parcels.more);
  if (!state.parcels.items.length) {
    box.replaceChildren(h("p", { class: "text-muted" }, t($("#ship-filter-status").value ? "ship.no_parcels_filtered" : "ship.no_parcels")));
    return;
  }
  box.replaceChildren(...state.parcels.items.map(parcelCard));
}

/** The tracking number, a link to the carrier's page when there is one (text, never HTML). */
export function trackingLink(p, cls = "") {
  if (!p.tracking_number) return null;
  if (!p.tracking_url) return h("span", { class: `tracking-number user-select-all ${cls}` }, p.tracking_number);
  return h("a", { class: `tracking-number ${cls}`, href: p.tracking_url, target: "_blank", rel: "noopener noreferrer" }, p.tracking_number);
}

/** Who did it (issue 31): the owner in the page's words, a member by email. */
const person = (name) => (name === "owner" ? t("history.by.owner") : name);

/** Who packed, shipped (when not the packer) and delivered or took back the parcel. */
function parcelWho(p) {
  return [
    ["packed_by", p.created_by],
    ["shipped_by", p.shipped_by !== p.created_by ? p.shipped_by : null],
    ["delivered_by", p.delivered_by],
    ["returned_by", p.returned_by],
  ]
    .filter(([, name]) => name)
    .map(([key, name]) => t(`ship.${key}`, { who: person(name) }))
    .join(" · ");
}

function parcelCard(p) {
  const busy = state.busy.has(p.id);
  const r = p.recipient || {};
  const name = parcelName(p.parcel_no);
  const who = [r.name, r.phone].filter(Boolean).join(" · ");
  const store = r.store_id ? aside(r.store_name || "", r.store_id).trim() : r.store_name || "";
  const where = CVS.has(p.method) ? store : r.address || "";
  const statusClass = { shipped: "text-bg-primary", delivered: "text-bg-success", returned: "text-bg-secondary" }[p.status] || "text-bg-secondary";
  const actions = h(
    "div",
    { class: "d-flex flex-wrap gap-2 ship-actions" },
    h("button", { class: "btn btn-sm btn-outline-primary ship-print", type: "button", disabled: busy, "aria-label": `${t("ship.print")} · ${name}`, onclick: () => printSlip(p) }, t("ship.print")),
    p.status === "shipped"
      ? h("button", { class: "btn btn-sm btn-outline-success ship-deliver", type: "button", disabled: busy, "aria-label": `${t("ship.deliver")} · ${name}`, onclick: () => markDelivered(p) }, t("ship.deliver"))
      : null,
    p.status === "shipped"
      ? h("button", { class: "btn btn-sm btn-outline-dark ship-return", type: "button", disabled: busy, "aria-label": `${t("ship.return")} · ${name}`, onclick: () => markReturned(p) }, t("ship.return"))
      : null,
    h("button", { class: "btn btn-sm btn-outline-secondary ship-edit", type: "button", disabled: busy, "aria-expanded": String(state.editing === p.id), "aria-label": `${t("ship.edit")} · ${name}`, onclick: () => toggleEdit(p) }, t("ship.edit")),
    h(
      "button",
      {
        class: "btn btn-sm btn-outline-danger ship-unpack",
        type: "button",
        disabled: busy || p.status !== "shipped",
        title: p.status === "shipped" ? null : t("ship.unpack_never"),
        "aria-label": `${t("ship.unpack")} · ${name}`,
        onclick: () => unpack(p),
      },
      t("ship.unpack"),
    ),
  );
  return h(
    "article",
    { class: "card ship-parcel", dataset: { id: p.id, parcelNo: String(p.parcel_no), status: p.status } },
    h(
      "div",
      { class: "card-body" },
      h(
        "div",
        { class: "d-flex flex-wrap gap-2 align-items-baseline mb-1" },
        h("h3", { class: "h6 mb-0" }, name),
        h("span", { class: "fw-semibold" }, p.buyer_name || ""),
        h("span", { class: `badge ${statusClass} ship-status` }, t(`ship.status.${p.status}`)),
        h("span", { class: "ms-auto small text-muted" }, [t("ship.shipped_on", { date: date(p.shipped_date) }), p.delivered_date ? t("ship.delivered_on", { date: date(p.delivered_date) }) : ""].filter(Boolean).join(" · ")),
      ),
      h(
        "dl",
        { class: "row small mb-2 ship-facts" },
        h("dt", { class: "col-4 col-md-2 text-muted fw-normal" }, t("ship.orders")),
        h("dd", { class: "col-8 col-md-10 mb-1 ship-order-nos" }, p.order_nos.map((n) => `#${n}`).join(t("common.list_sep"))),
        h("dt", { class: "col-4 col-md-2 text-muted fw-normal" }, t("ship.method")),
        h("dd", { class: "col-8 col-md-10 mb-1" }, [t(`ship.m.${p.method}`), p.carrier].filter(Boolean).join(" · ")),
        h("dt", { class: "col-4 col-md-2 text-muted fw-normal" }, t("order.tracking")),
        h("dd", { class: "col-8 col-md-10 mb-1 text-break" }, trackingLink(p) || "—"),
        h("dt", { class: "col-4 col-md-2 text-muted fw-normal" }, t("ship.recipient")),
        h("dd", { class: "col-8 col-md-10 mb-1 text-break ship-recipient" }, [who, where].filter(Boolean).join(" · ") || "—"),
        Number(p.shipping_fee) > 0 ? h("dt", { class: "col-4 col-md-2 text-muted fw-normal" }, t("ship.fee")) : null,
        Number(p.shipping_fee) > 0 ? h("dd", { class: "col-8 col-md-10 mb-1 ship-fee" }, `${money(p.shipping_fee, cur())} · ${t(`ship.fee_by.${p.shipping_paid_by || "buyer"}`)}`) : null,
        p.shipping_cost != null ? h("dt", { class: "col-4 col-md-2 text-muted fw-normal" }, t("ship.cost")) : null,
        p.shipping_cost != null ? h("dd", { class: "col-8 col-md-10 mb-1 ship-cost" }, money(p.shipping_cost, cur())) : null,
        p.note ? h("dt", { class: "col-4 col-md-2 text-muted fw-normal" }, t("ship.note")) : null,
        p.note ? h("dd", { class: "col-8 col-md-10 mb-1 text-break" }, p.note) : null,
        parcelWho(p) ? h("dt", { class: "col-4 col-md-2 text-muted fw-normal" }, t("ship.who")) : null,
        parcelWho(p) ? h("dd", { class: "col-8 col-md-10 mb-1 text-break ship-who" }, parcelWho(p)) : null,
      ),
      actions,
      state.editing === p.id ? editForm(p) : null,
      h("div", { class: "ship-parcel-msg mt-2", "aria-live": "polite" }),
    ),
  );
}

function toggleEdit(p) {
  state.editing = state.editing === p.id ? null : p.id;
  renderParcels();
  if (state.editing) $(`#ship-parcels [data-id="${p.id}"] .ship-edit-form [name=tracking_number]`)?.focus();
}

function editForm(p) {
  const listId = `ship-edit-carriers-${p.id}`;
  const carrier = h("input", { class: "form-control", name: "carrier", value: p.carrier || "", list: listId, autocomplete: "off" });
  const number = h("input", { class: "form-control", name: "tracking_number", value: p.tracking_number || "", autocomplete: "off", spellcheck: "false" });
  const fee = h("input", { class: "form-control", name: "shipping_fee", value: String(p.shipping_fee ?? 0), inputmode: "decimal", autocomplete: "off" });
  const cost = h("input", { class: "form-control", name: "shipping_cost", value: p.shipping_cost == null ? "" : String(p.shipping_cost), inputmode: "decimal", autocomplete: "off" });
  const payer = payerField(p.shipping_paid_by || "buyer", "col-6 col-md-4", "small");
  const form = h(
    "form",
    {
      class: "row g-2 mt-1 ship-edit-form",
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const feeCents = parseCents(fee.value, currency());
        const costCents = cost.value.trim() === "" ? null : parseCents(cost.value, currency());
        const bad = [feeCents === null ? fee : null, cost.value.trim() !== "" && costCents === null ? cost : null];
        fee.classList.toggle("is-invalid", Boolean(bad[0]));
        cost.classList.toggle("is-invalid", Boolean(bad[1]));
        if (bad[0] || bad[1]) {
          const label = bad[0] ? t("ship.fee") : t("ship.cost");
          notify(form.querySelector(".ship-edit-msg"), "danger", amountError((bad[0] || bad[1]).value, currency(), label));
          (bad[0] || bad[1]).focus();
          return;
        }
        const body = {
          carrier: carrier.value.trim() || null,
          tracking_number: number.value.trim() || null,
          shipping_fee: centsToNumber(feeCents),
          shipping_paid_by: form.elements.shipping_paid_by.value,
          shipping_cost: costCents === null ? null : centsToNumber(costCents),
        };
        const ok = await change(p, () => api.patch(`/parcels/${p.id}`, body), "common.saved");
        if (ok) state.editing = null;
        renderParcels();
      },
    },
    h("div", { class: "col-12 col-md-4" }, h("label", { class: "form-label mb-0 w-100 small" }, h("span", {}, t("order.carrier")), carrier)),
    h("datalist", { id: listId }, carriersFor(p.method).map((name) => h("option", { value: name }))),
    h("div", { class: "col-12 col-md-4" }, h("label", { class: "form-label mb-0 w-100 small" }, h("span", {}, t("order.tracking")), number)),
    h("div", { class: "col-6 col-md-4" }, h("label", { class: "form-label mb-0 w-100 small" }, h("span", {}, t("ship.fee")), fee)),
    payer,
    h("div", { class: "col-6 col-md-4" }, h("label", { class: "form-label mb-0 w-100 small" }, h("span", {}, t("ship.cost")), cost)),
    h("div", { class: "col-12 ship-edit-msg" }),
    h(
      "div",
      { class: "col-12 col-md-4 d-flex gap-2 align-items-end" },
      h("button", { class: "btn btn-sm btn-primary ship-edit-save", type: "submit" }, t("common.save")),
      h(
        "button",
        {
          class: "btn btn-sm btn-outline-secondary",
          type: "button",
          onclick: () => {
            state.editing = null;
            renderParcels();
          },
        },
        t("common.cancel"),
      ),
    ),
  );
  return form;
}

/** Who pays the parcel's shipping fee: the buyer (billed to them as a charge) or the seller. */
function payerField(value, col, size = "") {
  return h(
    "div",
    { class: `${col} ship-field`, dataset: { field: "shipping_paid_by" } },
    h(
      "label",
      { class: `form-label mb-0 w-100 ${size}` },
      h("span", {}, t("ship.paid_by")),
      h(
        "select",
        { class: "form-select", name: "shipping_paid_by" },
        ["buyer", "seller"].map((who) => h("option", { value: who, selected: who === value }, t(`ship.paid_by.${who}`))),
      ),
    ),
  );
}

/** Run one change of parcel p; the list follows. Resolves true when it went through. */
async function change(p, call, doneKey, vars = {}) {
  state.busy.add(p.id);
  renderParcels();
  try {
    const out = await call();
    const i = state.parcels.items.findIndex((x) => x.id === p.id);
    if (out && i >= 0) state.parcels.items[i] = out;
    flash("success", t(doneKey, { parcel: parcelName(p.parcel_no), ...vars }));
    return true;
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
    return false;
  } finally {
    state.busy.delete(p.id);
    renderParcels();
  }
}

async function markDelivered(p) {
  await change(p, () => api.patch(`/parcels/${p.id}`, { status: "delivered" }), "ship.delivered_msg");
  loadParcels(true);
}

/** The box came back (refused, not picked up): its orders can go out again. */
async function markReturned(p) {
  const nos = p.order_nos.map((n) => `#${n}`).join(t("common.list_sep"));
  const ok = await ask(t("ship.return_confirm", { parcel: parcelName(p.parcel_no), orders: nos }), t("ship.return_yes"), t("ship.unpack_no"));
  if (!ok) return;
  const done = await change(p, () => api.patch(`/parcels/${p.id}`, { status: "returned" }), "ship.returned_msg", { orders: nos });
  if (done) await Promise.all([loadReady(), loadParcels(true)]);
}

async function unpack(p) {
  const nos = p.order_nos.map((n) => `#${n}`).join(t("common.list_sep"));
  const ok = await ask(t("ship.unpack_confirm", { parcel: parcelName(p.parcel_no), orders: nos }), t("ship.unpack_yes"), t("ship.unpack_no"));
  if (!ok) return;
  const done = await change(p, () => api.del(`/parcels/${p.id}`), "ship.unpacked_msg", { orders: nos });
  if (done) await Promise.all([loadReady(), loadParcels(true)]);
}

// --- printing ---------------------------------------------------------------------------------

/** Fetch the slip (with the token), put it in the hidden frame and open the print dialog. */
async function printSlip(p) {
  const size = $("#ship-slip-size").value || "a4";
  const prices = $("#ship-slip-prices").checked;
  const frame = $("#ship-print-frame");
  frame.dataset.ready = "";
  state.busy.add(p.id);
  renderParcels();
  try {
    const html = await request("GET", `/parcels/${p.id}/packing-slip`, { query: { size, prices: prices ? "true" : "false" } });
    await new Promise((resolve) => {
      frame.addEventListener("load", resolve, { once: true });
      frame.srcdoc = html; // about:srcdoc, not a blob: (the site's CSP allows no framed URLs)
    });
    performance.mark("ship-slip-ready");
    frame.dataset.ready = "1";
    frame.dataset.size = size;
    frame.dataset.prices = String(prices);
    frame.contentWindow.focus();
    frame.contentWindow.print();
    frame.dataset.printed = String(Number(frame.dataset.printed || 0) + 1);
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  } finally {
    state.busy.delete(p.id);
    renderParcels();
  }
}
