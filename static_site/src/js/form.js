// The buyer's order form (form.html#<token>, issue 15 團購表單): a seller's group-buy form,
// opened by anyone with the link, no login. The buyer picks quantities, gives a name and the
// contact the form asks for (`contact`: an email, a phone, a LINE ID, or any one of them;
// and a phone or address when the seller asks), and lands on their own tracking page.
// The token sits in the URL fragment: it goes only into the API path, never to a server log
// or a Referer. Everything the seller or the buyer typed is shown as text, never as HTML.
import { api, ApiError, describe, detailLine } from "./api.js";
import { $, h, notify } from "./dom.js";
import { centsToNumber, dateTime, money } from "./format.js";
import { apply, bindSwitcher, lang, LANGS, onChange, setLang, t } from "./i18n.js";

const FIELDS = ["name", "email", "phone", "line_id", "address", "note"];
const CONTACTS = ["email", "phone", "line_id"];
const MAX_ANY = 99; // the stepper's top when neither stock nor a per-buyer limit is set

let token = "";
let form = null; // GET /f/{token}
const qty = new Map(); // item_id → quantity chosen
const lineErrors = new Map(); // item_id → {key, vars}
let errors = null; // {fields: {name: text key + vars}, lines: {key, vars}|null, message: {key|text}}
let closed = false;
let busy = false;
// One Idempotency-Key per page load: a double tap, or a retry after an answer that never
// came, sends the same key, so the buyer gets one set of orders.
const idempotencyKey = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;

function tokenFromHash() {
  try {
    return decodeURIComponent(location.hash.replace(/^#/, "")).trim();
  } catch {
    return null;
  }
}

/** The most one buyer can take of an item: stock left and the seller's per-buyer limit. */
function maxOf(item) {
  const limits = [item.remaining, item.max_per_buyer].filter((n) => n !== null && n !== undefined).map(Number);
  return limits.length ? Math.max(0, Math.min(...limits)) : MAX_ANY;
}

const cents = (amount) => Math.round(Number(amount || 0) * 100);

/** The form's shipping rule: {mode: "none" | "flat" | "later", fee} (none for an older API). */
const shipping = () => (["flat", "later"].includes(form?.shipping?.mode) ? form.shipping : { mode: "none", fee: null });

/** The flat fee the submission adds (one per order sent, whatever its lines), in cents. */
const shippingCents = () => (shipping().mode === "flat" ? cents(shipping().fee) : 0);

function totalCents() {
  let sum = 0;
  for (const item of form?.items || []) sum += cents(item.price) * (qty.get(item.item_id) || 0);
  return sum > 0 ? sum + shippingCents() : 0;
}

/** What the buyer is told about shipping: a flat fee per order, or billed after weighing. */
function shippingText() {
  const rule = shipping();
  if (rule.mode === "flat") return t("form.shipping_flat", { fee: money(rule.fee, form.currency) });
  if (rule.mode === "later") return t("form.shipping_later");
  return "";
}

// --- drawing ---------------------------------------------------------------------------

function itemCard(item) {
  const max = maxOf(item);
  const n = Math.min(qty.get(item.item_id) || 0, max);
  qty.set(item.item_id, n);
  const id = `of-q-${item.item_id}`;
  const nameId = `of-n-${item.item_id}`;
  const errId = `of-e-${item.item_id}`;
  const soldOut = item.remaining !== null && item.remaining !== undefined && Number(item.remaining) <= 0;
  const facts = [
    item.remaining !== null && item.remaining !== undefined
      ? h("span", { class: `badge ${soldOut ? "text-bg-secondary" : Number(item.remaining) <= 3 ? "text-bg-warning" : "text-bg-light border"} of-remaining` }, soldOut ? t("form.sold_out") : t("form.remaining", { n: item.remaining }))
      : null,
    item.max_per_buyer ? h("span", { class: "small text-muted of-limit" }, t("form.max_per_buyer", { n: item.max_per_buyer })) : null,
  ].filter(Boolean);
  const progress = minProgress(item);
  const input = h("input", {
    class: "form-control px-1",
    id,
    type: "number",
    inputmode: "numeric",
    min: "0",
    max: String(max),
    step: "1",
    value: String(n),
    disabled: soldOut || closed,
    "aria-labelledby": nameId,
    "aria-describedby": errId,
  });
  const set = (value) => {
    const v = Math.max(0, Math.min(max, Number.isFinite(value) ? Math.trunc(value) : 0));
    qty.set(item.item_id, v);
    lineErrors.delete(item.item_id);
    if (errors?.lines && v > 0) {
      errors.lines = null;
      $("#of-lines-error").textContent = "";
    }
    settle();
    input.value = String(v);
    renderLineState(item, card);
    renderTotal();
  };
  input.addEventListener("change", () => set(Number.parseInt(input.value, 10)));
  input.addEventListener("input", () => {
    const v = Number.parseInt(input.value, 10);
    if (Number.isFinite(v)) {
      qty.set(item.item_id, Math.max(0, Math.min(max, v)));
      renderTotal();
    }
  });
  const minus = h("button", { class: "btn btn-outline-secondary of-minus", type: "button", "aria-label": t("form.less", { item: item.item_name }), disabled: soldOut || closed, onclick: () => set((qty.get(item.item_id) || 0) - 1) }, "−");
  const plus = h("button", { class: "btn btn-outline-primary of-plus", type: "button", "aria-label": t("form.more", { item: item.item_name }), disabled: soldOut || closed, onclick: () => set((qty.get(item.item_id) || 0) + 1) }, "+");
  const card = h(
    "div",
    { class: "card of-item", dataset: { itemId: item.item_id } },
    h(
      "div",
      { class: "card-body py-2 px-3" },
      h(
        "div",
        { class: "d-flex align-items-center gap-2" },
        item.photo_url ? h("img", { class: "of-photo rounded", src: item.photo_url, alt: item.item_name, width: "64", height: "64", loading: "lazy", decoding: "async" }) : null,
        h(
          "div",
          { class: "me-auto" },
          h("div", { class: "fw-semibold of-name", id: nameId }, item.item_name),
          h("div", { class: "of-price" }, money(item.price, form.currency)),
          facts.length ? h("div", { class: "d-flex flex-wrap gap-2 align-items-center mt-1" }, facts) : null,
        ),
        h("div", { class: "input-group of-stepper w-auto" }, minus, input, plus),
      ),
      progress,
      soldOut && !closed ? waitlistButton(item) : null,
      h("div", { class: "text-danger small mt-1 of-line-error", id: errId, role: "alert" }),
    ),
  );
  renderLineState(item, card);
  return card;
}

// 補貨通知我: the small form loads on the tap (form-waitlist.js), not with the page.
function waitlistButton(item) {
  const open = async () => {
    const { waitlistBox } = await import("./form-waitlist.js");
    button.replaceWith(waitlistBox(item, token, contactMode()));
  };
  const button = h("button", { class: "btn btn-outline-primary mt-2 of-notify", type: "button", onclick: open }, t("form.w_notify"));
  return h("div", { class: "of-waitlist" }, button);
}

/** 成團 progress: units ordered by everyone against the item's minimum (null: none). */
function minProgress(item) {
  if (!item.min_quantity) return null;
  const ordered = Number(item.ordered) || 0;
  const min = Number(item.min_quantity);
  const reached = ordered >= min;
  const bar = h("div", { class: `progress-bar ${reached ? "bg-success" : ""}` });
  bar.style.width = `${Math.min(100, Math.round((100 * ordered) / min))}%`; // CSSOM: no inline style attribute
  return h(
    "div",
    { class: "of-min mt-2" },
    h(
      "div",
      { class: "d-flex flex-wrap justify-content-between gap-1 small" },
      h("span", { class: "of-min-count" }, t("form.min_progress", { ordered, min })),
      reached
        ? h("span", { class: "badge text-bg-success of-min-reached" }, t("form.min_reached"))
        : h("span", { class: "text-muted of-min-needed" }, t("form.min_needed", { n: min - ordered })),
    ),
    h(
      "div",
      {
        class: "progress mt-1",
        role: "progressbar",
        "aria-label": t("form.min_label", { item: item.item_name }),
        "aria-valuenow": String(Math.min(ordered, min)),
        "aria-valuemin": "0",
        "aria-valuemax": String(min),
      },
      bar,
    ),
  );
}

function renderLineState(item, card) {
  const n = qty.get(item.item_id) || 0;
  const max = maxOf(item);
  card.classList.toggle("chosen", n > 0);
  card.querySelector(".of-minus").disabled = closed || n <= 0;
  card.querySelector(".of-plus").disabled = closed || n >= max;
  const err = lineErrors.get(item.item_id);
  card.querySelector(".of-line-error").textContent = err ? t(err.key, err.vars) : "";
  card.querySelector("input").classList.toggle("is-invalid", Boolean(err));
}

function renderTotal() {
  if (!form) return;
  const c = totalCents();
  const count = [...qty.values()].reduce((a, b) => a + b, 0);
  $("#of-total").textContent = money(centsToNumber(c), form.currency);
  const rule = shipping().mode;
  const note = rule === "flat" ? (c > 0 ? t("form.total_with_shipping", { fee: money(shipping().fee, form.currency) }) : "") : rule === "later" ? t("form.total_shipping_later") : "";
  $("#of-total-shipping").textContent = note;
  $("#of-total-shipping").classList.toggle("d-none", !note);
  $("#of-submit").disabled = busy || closed;
  $("#of-submit").dataset.count = String(count);
}

function fieldError(name, text) {
  const input = $(`#of-${name}`);
  const box = $(`#of-${name}-error`);
  if (!input || !box) return;
  input.classList.toggle("is-invalid", Boolean(text));
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  box.textContent = text || "";
}

const say = (m) => (m ? (m.key ? t(m.key, m.vars) : m.text) : "");

function renderErrors() {
  for (const name of FIELDS) fieldError(name, errors?.fields?.[name] ? say(errors.fields[name]) : "");
  $("#of-lines-error").textContent = errors?.lines ? say(errors.lines) : "";
  const box = $("#of-submit-msg");
  if (errors?.message) notify(box, "danger", say(errors.message));
  else box.replaceChildren();
}

/** What the form finds the buyer by: "email" | "phone" | "line_id" | "any". */
const contactMode = () => (["email", "phone", "line_id", "any"].includes(form?.contact) ? form.contact : "email");

/** Whether the page shows the field of contact `c`: the one the form asks, all three for
 *  "any", and the phone when the seller asks for it besides. */
const shown = (c) => contactMode() === "any" || contactMode() === c || (c === "phone" && Boolean(form?.ask_phone));

function render() {
  if (!form) return;
  $("#of-shop").textContent = form.shop_name || t("form.page_title");
  document.title = [form.title, form.shop_name].filter(Boolean).join(" · ") || t("form.page_title");
  $("#of-title").textContent = form.title || t("form.page_title");
  $("#of-description").textContent = form.description || ""; // the seller's words: text only
  $("#of-description").classList.toggle("d-none", !form.description);
  $("#of-closes").textContent = form.closes_at ? t("form.closes", { when: dateTime(form.closes_at) }) : "";
  $("#of-closes").classList.toggle("d-none", !form.closes_at);
  $("#of-shipping").textContent = shippingText();
  $("#of-shipping").classList.toggle("d-none", !shippingText());
  const mode = contactMode();
  for (const c of CONTACTS) {
    $(`#of-${c}-box`).classList.toggle("d-none", !shown(c));
    $(`#of-${c}`).required = mode === c || (c === "phone" && Boolean(form.ask_phone));
  }
  $("#of-contact-any").classList.toggle("d-none", mode !== "any");
  remindState();
  $("#of-address-box").classList.toggle("d-none", !form.ask_address);
  $("#of-address").required = Boolean(form.ask_address);
  const items = form.items || [];
  $("#of-items").replaceChildren(...(items.length ? items.map(itemCard) : [h("p", { class: "text-muted" }, t("form.no_items"))]));
  renderTotal();
  renderErrors();
  $("#of-form").classList.remove("d-none");
}

/** Reminders go by email only (a LINE-only buyer is not offered them): the box is in the
 *  email field's box, shown with it, and can be ticked once an email is typed. */
function remindState() {
  const box = $("#of-remind");
  box.disabled = !$("#of-email").value.trim();
  if (box.disabled) box.checked = false;
}

/** The shop's bag (the page's icon), drawn in SVG: no emoji font is needed. */
function bagIcon() {
  const NS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  const svg = el("svg", { viewBox: "0 0 32 32", class: "of-closed-icon mx-auto mb-2", "aria-hidden": "true", focusable: "false" });
  svg.append(
    el("rect", { width: "32", height: "32", rx: "6", fill: "#6c757d" }),
    el("path", { d: "M9 12h14l-1.5 12h-11z", fill: "white" }),
    el("path", { d: "M12 12a4 4 0 0 1 8 0", stroke: "white", "stroke-width": "2", fill: "none" }),
  );
  return svg;
}

function showClosed() {
  closed = true;
  form = null;
  $("#of-form").classList.add("d-none");
  const box = $("#of-page-msg");
  box.replaceChildren(
    h(
      "div",
      { class: "card card-body text-center py-5 of-closed" },
      bagIcon(),
      h("h1", { class: "h5" }, t("form.closed_title")),
      h("p", { class: "text-muted mb-0" }, t("form.closed_text")),
    ),
  );
  document.title = t("form.closed_title");
}

let pageState = null; // "closed" | "invalid" | "error" | null, for a language switch

function showPage() {
  if (pageState === "closed") showClosed();
  else if (pageState === "invalid") {
    $("#of-form").classList.add("d-none");
    notify($("#of-page-msg"), "warning", t("form.invalid"));
  }
}

// --- loading and sending ---------------------------------------------------------------

/** The shop's language for the form, unless the buyer picked one on this site before. */
function useFormLanguage(language) {
  if (localStorage.getItem("lang") || !language || !LANGS[language] || language === lang()) return;
  setLang(language);
  $("#of-lang").value = language;
}

async function load() {
  token = tokenFromHash();
  form = null;
  closed = false;
  pageState = null;
  errors = null;
  qty.clear();
  lineErrors.clear();
  $("#of-form").classList.add("d-none");
  $("#of-page-msg").replaceChildren();
  if (!token) {
    $("#of-loading").classList.add("d-none");
    pageState = "invalid";
    showPage();
    return;
  }
  $("#of-loading").classList.remove("d-none");
  try {
    const data = await api.get(`/f/${encodeURIComponent(token)}`, undefined, { auth: false });
    useFormLanguage(data.language);
    // A variant is a line of its own (form-variants.js, loaded only for a form that has some).
    if (data.items.some((i) => i.variants?.length)) data.items = (await import("./form-variants.js")).flatten(data.items);
    form = data;
    render();
  } catch (err) {
    if (err instanceof ApiError && err.status === 410) pageState = "closed";
    else if (err instanceof ApiError && (err.status === 404 || err.status === 403 || err.status === 400)) pageState = "invalid";
    if (pageState) showPage();
    else notify($("#of-page-msg"), "danger", describe(err));
  } finally {
    $("#of-loading").classList.add("d-none");
  }
}

let sentLines = []; // the item_id of each line of the last submission, in the order sent

/** The line an error names: "lines[1].quantity" (the second line sent), else by item_id or
 *  by the item's name. */
function itemOf(d) {
  const items = form?.items || [];
  const m = /^lines\[(\d+)\]/.exec(String(d.field || ""));
  const id = (m ? sentLines[Number(m[1])] : null) || d.item_id;
  return items.find((i) => id && i.item_id === id) || items.find((i) => d.item_name && i.item_name === d.item_name) || null;
}

/** A server error as field, line and page messages, in the page's words. */
function fromServer(err) {
  const out = { fields: {}, lines: null, message: null };
  const d0 = (err.details || [])[0] || {};
  if (err.code === "item_unavailable" && itemOf(d0)) {
    lineErrors.set(itemOf(d0).item_id, { key: "form.err.unavailable", vars: {} });
    out.message = { key: "form.err.check_lines" };
    return out;
  }
  if (err.code === "insufficient_stock" || err.code === "over_limit") {
    const item = itemOf(d0);
    const key = err.code === "insufficient_stock" ? (Number(d0.in_stock) > 0 ? "form.err.stock" : "form.err.sold_out") : Number(d0.already) > 0 ? "form.err.over_limit_already" : "form.err.over_limit";
    const vars = { item: d0.item_name || item?.item_name || "", n: d0.in_stock ?? "", needed: d0.needed ?? "", max: d0.max_per_buyer ?? "", already: d0.already ?? "", left: Math.max(0, Number(d0.max_per_buyer || 0) - Number(d0.already || 0)) };
    if (item) {
      lineErrors.set(item.item_id, { key, vars });
      // What the server says is left becomes the stepper's top.
      if (err.code === "insufficient_stock" && d0.in_stock !== undefined) item.remaining = Number(d0.in_stock);
    } else out.lines = { key, vars };
    out.message = { key: "form.err.check_lines" };
    return out;
  }
  if (err.code === "form_closed") {
    pageState = "closed";
    return out;
  }
  if (err.code === "rate_limited") {
    out.message = { key: "form.err.rate_limited" };
    return out;
  }
  if (err.status === 400 && (err.details || []).length) {
    const other = [];
    for (const d of err.details) {
      const field = String(d.field || "").split(/[.[]/)[0];
      if (FIELDS.includes(field)) {
        const required = ["missing", "required", "required_by_form", "string_too_short", "cannot_be_null"].includes(d.code);
        const key =
          d.code === "contact_required" ? "form.err.contact_any"
          : required ? "form.err.required"
          : d.code === "invalid_phone" ? "form.err.phone"
          : d.code === "invalid_line_id" ? "form.err.line_id"
          : field === "email" ? "form.err.email"
          : null;
        out.fields[field] = key ? { key } : { text: detailLine({ ...d, field: undefined, row: undefined }) };
      } else if (field === "lines") {
        const item = itemOf(d);
        const text = { text: detailLine({ ...d, field: undefined, row: undefined }) };
        if (item) lineErrors.set(item.item_id, { key: "form.err.line", vars: { reason: text.text } });
        else out.lines = d.code === "missing" || d.code === "too_short" || d.code === "empty" ? { key: "form.err.no_lines" } : { key: "form.err.line", vars: { reason: text.text } };
      } else other.push(d);
    }
    out.message = other.length ? { text: describe(new ApiError(err.status, err.code, "", other)) } : { key: "code.validation_error" };
    return out;
  }
  out.message = { text: describe(err) };
  return out;
}

/** The "please check" message goes once nothing is marked any more. */
function settle() {
  const left = errors && (errors.lines || Object.keys(errors.fields || {}).length || lineErrors.size);
  if (errors && !left && errors.message?.key && ["code.validation_error", "form.err.check_lines"].includes(errors.message.key)) {
    errors.message = null;
    $("#of-submit-msg").replaceChildren();
  }
}

/** Checks the page can make without the server: something chosen, a name, the contact
 *  the form asks for (with "any": one of the three), an email that looks like one. */
function checkHere(values) {
  const out = { fields: {}, lines: null, message: null };
  if (![...qty.values()].some((n) => n > 0)) out.lines = { key: "form.err.no_lines" };
  if (!values.name) out.fields.name = { key: "form.err.required" };
  const mode = contactMode();
  if (mode === "any" && !CONTACTS.some((c) => values[c])) out.fields.email = { key: "form.err.contact_any" };
  if (mode !== "any" && !values[mode]) out.fields[mode] = { key: "form.err.required" };
  else if (values.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email)) out.fields.email = { key: "form.err.email" };
  if (form.ask_phone && !values.phone) out.fields.phone = { key: "form.err.required" };
  if (form.ask_address && !values.address) out.fields.address = { key: "form.err.required" };
  const bad = out.lines || Object.keys(out.fields).length;
  if (bad) out.message = { key: "code.validation_error" };
  return bad ? out : null;
}

/** Full-width letters and digits (an input method's ａ＠ｂ．ｃｏｍ) as ASCII, for the email. */
function ascii(text) {
  return String(text || "").replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

function firstProblem() {
  const bad = document.querySelector("#of-form .is-invalid");
  if (bad) bad.focus();
  else if ($("#of-lines-error").textContent) $("#of-items-title").scrollIntoView({ block: "start" });
}

async function submit(ev) {
  ev.preventDefault();
  if (busy || closed || !form) return;
  const el = $("#of-form").elements;
  const values = {
    name: el.name.value.trim(),
    email: shown("email") ? ascii(el.email.value).trim() : "",
    phone: shown("phone") ? el.phone.value.trim() : "",
    line_id: shown("line_id") ? el.line_id.value.trim() : "",
    address: form.ask_address ? el.address.value.trim() : "",
    note: el.note.value.trim(),
  };
  el.email.value = values.email; // ａｍｙ＠… typed with an input method, shown as sent
  lineErrors.clear();
  errors = checkHere(values);
  if (errors) {
    render();
    firstProblem();
    return;
  }
  const body = {
    name: values.name,
    lines: (form.items || []).filter((i) => qty.get(i.item_id) > 0).map((i) => ({ item_id: i.item_id, ...i.line, quantity: qty.get(i.item_id) })),
  };
  sentLines = (form.items || []).filter((i) => qty.get(i.item_id) > 0).map((i) => i.item_id);
  for (const c of CONTACTS) if (values[c]) body[c] = values[c];
  if (values.address) body.address = values.address;
  if (values.note) body.note = values.note;
  if (values.email && el.remind.checked) body.remind = true;
  busy = true;
  const button = $("#of-submit");
  button.disabled = true;
  button.replaceChildren(h("span", { class: "spinner-border spinner-border-sm me-2", "aria-hidden": "true" }), t("form.sending"));
  $("#of-form").setAttribute("aria-busy", "true");
  try {
    const out = await api.post(`/f/${encodeURIComponent(token)}/orders`, body, { auth: false, headers: { "Idempotency-Key": idempotencyKey } });
    let next = null;
    try {
      next = new URL(out?.tracking_url || "", location.href);
    } catch {
      next = null;
    }
    if (next && (next.protocol === "https:" || next.protocol === "http:")) {
      location.assign(next.href); // the buyer's own tracking page, with the new orders
      return;
    }
    errors = { fields: {}, lines: null, message: null };
    $("#of-form").classList.add("d-none");
    notify($("#of-page-msg"), "success", t("form.done", { nos: (out?.order_nos || []).map((n) => `#${n}`).join(t("common.list_sep")) }));
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError(500, "internal_error");
    errors = fromServer(e);
    if (pageState === "closed") {
      showClosed();
      return;
    }
    render();
    firstProblem();
  } finally {
    busy = false;
    $("#of-form").removeAttribute("aria-busy");
    button.replaceChildren(t("form.submit"));
    renderTotal();
  }
}

$("#of-form").addEventListener("submit", submit);
$("#of-form").addEventListener("input", (ev) => {
  // A corrected field loses its mark.
  const name = ev.target.name;
  if (name === "email") remindState();
  if (errors?.fields?.[name]) {
    delete errors.fields[name];
    fieldError(name, "");
    settle();
  }
});

apply();
bindSwitcher($("#of-lang"));
onChange(() => {
  if (form) {
    render();
    const button = $("#of-submit");
    if (busy) button.replaceChildren(h("span", { class: "spinner-border spinner-border-sm me-2", "aria-hidden": "true" }), t("form.sending"));
  } else showPage();
});
window.addEventListener("hashchange", load);
load();
