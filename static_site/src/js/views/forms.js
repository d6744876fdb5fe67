// The forms tab (表單, issue 15): the seller's group-buy order forms. A form names a batch,
// some items (each with an optional per-buyer limit), an optional closing time and whether
// buyers give a phone and an address; buyers open its link (form.html#<token>) and order
// for themselves. Every read of a form carries its link (`url`, the same until "New link",
// which makes another; the old one then stops working). A form made before links could be
// shown again has `url: null` until its "New link".
import { api, describe } from "../api.js";
import { $, ask, h, messageRow, notify, spinnerRow } from "../dom.js";
import { amountError, centsToNumber, dateTime, money, parseCents } from "../format.js";
import { apply, aside, t } from "../i18n.js";
import { currency, nav } from "../app.js";
import { PagedList } from "../paged.js";

const COLS = 6;
const list = new PagedList((page) => api.get("/forms", page));
const state = {
  items: null, // GET /items for the new form
  batches: [], // names from GET /batches
  fresh: null, // {id, kind, url} of the form just made or given a new link: shown on top
  busy: new Set(), // form ids with a change on its way
  editing: null, // the form open in the panel for a change (null: a new form)
};

const pane = () => $("#tab-forms");
const SHIPPING_MODES = ["none", "flat", "later"]; // a form's shipping rule (`shipping.mode`)
const MIN_RULES = ["cancel", "extend"]; // what an item below its minimum does at the close (`on_min_unmet`)

/** A whole number typed with ASCII or full-width digits ("５" is 5); null: not one. */
function wholeNumber(text) {
  const ascii = String(text).trim().replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  return /^\d+$/.test(ascii) ? Number(ascii) : null;
}

function minRuleChanged() {
  const el = $("#forms-new").elements;
  const extend = el.on_min_unmet.value === "extend";
  el.extend_days.disabled = !extend;
  if (!extend) {
    el.extend_days.value = "";
    el.extend_days.classList.remove("is-invalid");
  }
}

/** The fee is asked for a flat rule only (the API refuses it with the others). */
function shippingChanged() {
  const el = $("#forms-new").elements;
  const flat = el.shipping_mode.value === "flat";
  el.shipping_fee.disabled = !flat;
  if (!flat) {
    el.shipping_fee.value = "";
    el.shipping_fee.classList.remove("is-invalid");
  }
}

// --- the tab's frame (built once) --------------------------------------------------------

function frame() {
  const newForm = h(
    "form",
    { id: "forms-new", class: "card card-body mb-3 gap-2 d-none", novalidate: true, "aria-labelledby": "forms-new-title" },
    h("h3", { class: "h6 mb-0", id: "forms-new-title", "data-i18n": "forms.new_title" }),
    h(
      "div",
      { class: "row g-2" },
      h("div", { class: "col-12 col-md-6" }, h("label", { class: "form-label mb-0 w-100" }, h("span", { "data-i18n": "forms.title" }), h("input", { class: "form-control", name: "title", required: true, maxlength: "200", autocomplete: "off" }))),
      h(
        "div",
        { class: "col-12 col-md-6" },
        h("label", { class: "form-label mb-0 w-100" }, h("span", { "data-i18n": "forms.batch" }), h("input", { class: "form-control", name: "batch", required: true, maxlength: "100", list: "forms-batch-names", autocomplete: "off", "data-i18n-placeholder": "order.batch_ph" })),
        h("datalist", { id: "forms-batch-names" }),
      ),
      h("div", { class: "col-12" }, h("label", { class: "form-label mb-0 w-100" }, h("span", { "data-i18n": "forms.description" }), " ", h("span", { class: "text-muted small", "data-i18n": "common.optional_aside" }), h("textarea", { class: "form-control", name: "description", rows: "3", maxlength: "2000" }))),
    ),
    h(
      "fieldset",
      { class: "border rounded p-2" },
      h("legend", { class: "fs-6 float-none w-auto px-1 mb-0", "data-i18n": "forms.items" }),
      h("p", { class: "small text-muted mb-2", "data-i18n": "forms.items_help" }),
      h("div", { id: "forms-item-list", class: "forms-item-list d-grid gap-1", style: "max-height: 22rem; overflow: auto" }),
    ),
    h(
      "div",
      { class: "row g-2 align-items-end" },
      h("div", { class: "col-12 col-md-4" }, h("label", { class: "form-label mb-0 w-100" }, h("span", { "data-i18n": "forms.closes_at" }), " ", h("span", { class: "text-muted small", "data-i18n": "common.optional_aside" }), h("input", { class: "form-control", name: "closes_at", type: "datetime-local" }))),
      h(
        "div",
        { class: "col-12 col-md-4" },
        h("label", { class: "form-label mb-0 w-100", for: "forms-contact", "data-i18n": "forms.contact" }),
        h(
          "select",
          { class: "form-select", name: "contact", id: "forms-contact" },
          ["email", "phone", "line_id", "any"].map((c) => h("option", { value: c, "data-i18n": `forms.contact_${c}` })),
        ),
      ),
      h(
        "div",
        { class: "col-12 col-md-4 d-flex flex-wrap gap-3" },
        h("div", { class: "form-check form-switch" }, h("input", { class: "form-check-input", type: "checkbox", role: "switch", name: "ask_phone", id: "forms-ask-phone" }), h("label", { class: "form-check-label", for: "forms-ask-phone", "data-i18n": "forms.ask_phone" })),
        h("div", { class: "form-check form-switch" }, h("input", { class: "form-check-input", type: "checkbox", role: "switch", name: "ask_address", id: "forms-ask-address" }), h("label", { class: "form-check-label", for: "forms-ask-address", "data-i18n": "forms.ask_address" })),
      ),
    ),
    h(
      "div",
      { class: "row g-2 align-items-end" },
      h(
        "div",
        { class: "col-12 col-md-6" },
        h("label", { class: "form-label mb-0 w-100", for: "forms-shipping", "data-i18n": "forms.shipping" }),
        h(
          "select",
          { class: "form-select", name: "shipping_mode", id: "forms-shipping", onchange: shippingChanged },
          SHIPPING_MODES.map((m) => h("option", { value: m, "data-i18n": `forms.shipping_${m}` })),
        ),
      ),
      h(
        "div",
        { class: "col-12 col-md-6" },
        h("label", { class: "form-label mb-0 w-100", for: "forms-shipping-fee", "data-i18n": "forms.shipping_fee" }),
        h("input", { class: "form-control", name: "shipping_fee", id: "forms-shipping-fee", inputmode: "decimal", autocomplete: "off", disabled: true, "aria-describedby": "forms-shipping-help" }),
      ),
      h("p", { class: "col-12 small text-muted mb-0", id: "forms-shipping-help", "data-i18n": "forms.shipping_help" }),
    ),
    h(
      "div",
      { class: "row g-2 align-items-end" },
      h(
        "div",
        { class: "col-12 col-md-6" },
        h("label", { class: "form-label mb-0 w-100", for: "forms-min-rule", "data-i18n": "forms.min_rule" }),
        h(
          "select",
          { class: "form-select", name: "on_min_unmet", id: "forms-min-rule", onchange: minRuleChanged, "aria-describedby": "forms-min-help" },
          MIN_RULES.map((m) => h("option", { value: m, "data-i18n": `forms.min_rule_${m}` })),
        ),
      ),
      h(
        "div",
        { class: "col-12 col-md-6" },
        h("label", { class: "form-label mb-0 w-100", for: "forms-extend-days", "data-i18n": "forms.extend_days" }),
        h("input", { class: "form-control", name: "extend_days", id: "forms-extend-days", inputmode: "numeric", autocomplete: "off", disabled: true }),
      ),
      h("p", { class: "col-12 small text-muted mb-0", id: "forms-min-help", "data-i18n": "forms.min_help" }),
    ),
    h(
      "div",
      { class: "d-flex flex-wrap gap-2" },
      h("button", { class: "btn btn-primary", type: "submit", id: "forms-create", "data-i18n": "forms.create" }),
      h("button", { class: "btn btn-outline-secondary", type: "button", id: "forms-new-cancel", "data-i18n": "common.cancel" }),
    ),
    h("div", { id: "forms-new-msg", "aria-live": "polite" }),
  );
  return [
    h(
      "div",
      { class: "d-flex flex-wrap gap-2 align-items-center mb-2" },
      h("h2", { class: "h5 mb-0 me-auto", id: "forms-heading", "data-i18n": "forms.heading" }),
      h("button", { class: "btn btn-primary btn-sm", type: "button", id: "forms-new-open", "aria-expanded": "false", "aria-controls": "forms-new", "data-i18n": "forms.new" }),
    ),
    h("p", { class: "small text-muted", "data-i18n": "forms.help" }),
    h("div", { id: "forms-link-box" }),
    h("div", { id: "forms-msg", "aria-live": "polite" }),
    newForm,
    h(
      "div",
      { class: "table-responsive bg-white rounded border" },
      h(
        "table",
        { class: "table table-sm align-middle mb-0 stack", id: "forms-table", "aria-labelledby": "forms-heading" },
        h(
          "thead",
          { class: "table-light" },
          h(
            "tr",
            {},
            h("th", { "data-i18n": "forms.title" }),
            h("th", { "data-i18n": "forms.batch" }),
            h("th", { class: "text-end", "data-i18n": "forms.submissions" }),
            h("th", { class: "text-end", "data-i18n": "forms.orders" }),
            h("th", { "data-i18n": "order.status" }),
            h("th", {}, h("span", { class: "visually-hidden", "data-i18n": "pay.actions" })),
          ),
        ),
        h("tbody", { id: "forms-body" }),
      ),
    ),
    h("div", { class: "text-center my-2" }, h("button", { class: "btn btn-outline-secondary btn-sm d-none", id: "forms-more", type: "button", "data-i18n": "common.more" })),
  ];
}

// --- the list ----------------------------------------------------------------------------

export async function load(reset = true) {
  const body = $("#forms-body");
  if (reset) {
    list.clear();
    body.replaceChildren(spinnerRow(COLS, t("common.loading")));
  }
  try {
    await list.load(reset);
    render();
  } catch (err) {
    if (reset) body.replaceChildren(messageRow(COLS, describe(err), "text-danger"));
    else if (err.status !== 401) notify($("#forms-msg"), "danger", describe(err));
  }
}

export function render() {
  renderItems();
  renderLink();
  if (state.editing) $("#forms-new-title").textContent = t("forms.edit_title", { title: state.editing.title || "" });
  if (!list.loaded) return;
  const body = $("#forms-body");
  body.replaceChildren(...list.items.map(formRow));
  if (!list.items.length) body.replaceChildren(messageRow(COLS, t("forms.empty")));
  $("#forms-more").classList.toggle("d-none", !list.more);
}

export function reset() {
  list.clear();
  state.items = null;
  state.fresh = null;
  $("#forms-link-box")?.replaceChildren();
}

/** Whether buyers can order now: not closed and its closing time not passed. */
function isOpen(f) {
  return !f.closed && !(f.closes_at && new Date(f.closes_at).getTime() <= Date.now());
}

function statusCell(f) {
  if (f.closed) return h("span", { class: "badge text-bg-secondary form-status" }, t("forms.closed"));
  if (!isOpen(f)) return h("span", {}, h("span", { class: "badge text-bg-secondary form-status" }, t("forms.time_up")), h("small", { class: "d-block text-muted" }, dateTime(f.closes_at)));
  return h(
    "span",
    {},
    h("span", { class: "badge text-bg-success form-status" }, t("forms.open")),
    f.closes_at ? h("small", { class: "d-block text-muted form-closes" }, t("forms.closes", { when: dateTime(f.closes_at) })) : null,
  );
}

function formRow(f) {
  const url = f.url;
  const busy = state.busy.has(f.id);
  const btn = (cls, text, onclick, extra = {}) => h("button", { class: `btn btn-sm ${cls}`, type: "button", disabled: busy, onclick, ...extra }, text);
  const items = (f.items || []).map((i) => (i.min_quantity ? t("forms.row_item_min", { item: i.item_name, ordered: i.ordered ?? 0, min: i.min_quantity, outcome: i.outcome ? t(`forms.outcome_${i.outcome}`) : "" }).trim() : i.item_name)).join(t("common.list_sep"));
  // Buyers whose orders the close cancelled and who got no email: the seller tells them by LINE.
  const toTell = (f.cancelled_buyers || []).filter((b) => !b.emailed).map((b) => b.name);
  const mode = f.shipping?.mode;
  const shipping = mode === "flat" ? t("forms.row_shipping_flat", { fee: money(f.shipping.fee, currency()) }) : mode === "later" ? t("forms.row_shipping_later") : "";
  return h(
    "tr",
    { dataset: { id: f.id } },
    h(
      "td",
      { "data-label": t("forms.title"), class: "form-title-cell" },
      h("span", { class: "d-block text-start" }, h("strong", { class: "form-title text-break" }, f.title || "—"), h("small", { class: "d-block text-muted text-break form-items" }, items), shipping ? h("small", { class: "d-block text-muted form-shipping" }, shipping) : null, toTell.length ? h("small", { class: "d-block text-danger form-to-tell" }, t("forms.to_tell", { names: toTell.join(t("common.list_sep")) })) : null, h("div", { class: "form-waitlist small" })),
    ),
    h("td", { "data-label": t("forms.batch"), class: "form-batch text-nowrap" }, f.batch || ""),
    h("td", { "data-label": t("forms.submissions"), class: "text-end form-submissions" }, String(f.submission_count ?? 0)),
    h("td", { "data-label": t("forms.orders"), class: "text-end form-orders" }, String(f.order_count ?? 0)),
    h("td", { "data-label": t("order.status"), class: "form-state" }, statusCell(f)),
    h(
      "td",
      { class: "cell-wide" },
      h(
        "div",
        { class: "d-flex flex-wrap gap-1 justify-content-end" },
        url
          ? btn("btn-outline-primary form-copy", t("forms.copy"), () => copy(url, $("#forms-msg")), { "aria-label": t("forms.copy_label", { title: f.title || "" }) })
          : h("small", { class: "text-muted align-self-center form-no-url" }, t("forms.no_url")),
        btn("btn-outline-secondary form-edit", t("common.edit"), () => openNew(true, f), { "aria-label": t("forms.edit_label", { title: f.title || "" }) }),
        btn("btn-outline-secondary form-new-link", t("forms.new_link"), () => newLink(f), { "aria-label": t("forms.new_link_label", { title: f.title || "" }) }),
        btn(f.closed ? "btn-outline-success form-reopen" : "btn-outline-danger form-close", t(f.closed ? "forms.reopen" : "forms.close"), () => setClosed(f, !f.closed), {
          "aria-label": t(f.closed ? "forms.reopen_label" : "forms.close_label", { title: f.title || "" }),
        }),
        btn("btn-outline-secondary form-waitlist-open", t("forms.waitlist"), (ev) => showWaitlist(f, ev.target.closest("tr")), { "aria-label": t("forms.waitlist_label", { title: f.title || "" }) }),
        btn("btn-link form-see-orders", t("forms.see_orders"), () => nav.go("orders", { form_id: f.id, form_title: f.title || "" }), { "aria-label": t("forms.see_orders_label", { title: f.title || "" }) }),
      ),
    ),
  );
}

function replaceForm(f) {
  const i = list.items.findIndex((x) => x.id === f.id);
  if (i >= 0) list.items[i] = { ...list.items[i], ...f };
  else list.items.unshift(f);
  render();
}

async function setClosed(f, closed) {
  state.busy.add(f.id);
  render();
  try {
    const out = await api.patch(`/forms/${f.id}`, { closed });
    state.busy.delete(f.id);
    replaceForm(out);
    notify($("#forms-msg"), "success", t(closed ? "forms.closed_done" : "forms.reopened_done", { title: out.title || "" }));
  } catch (err) {
    state.busy.delete(f.id);
    render();
    if (err.status !== 401) notify($("#forms-msg"), "danger", describe(err));
  }
}

async function newLink(f) {
  const sure = await ask(t("forms.new_link_ask", { title: f.title || "" }), t("forms.new_link_yes"), t("common.cancel"));
  if (!sure) return;
  state.busy.add(f.id);
  render();
  try {
    const out = await api.post(`/forms/${f.id}/link`);
    state.fresh = { id: f.id, kind: "new_link", url: out.url };
    state.busy.delete(f.id);
    replaceForm({ id: f.id, url: out.url });
    $("#forms-link-box .form-link-url")?.focus();
  } catch (err) {
    state.busy.delete(f.id);
    render();
    if (err.status !== 401) notify($("#forms-msg"), "danger", describe(err));
  }
}

// --- the link just made ------------------------------------------------------------------

/** Copy a link; the answer goes in `box` (an alert in the list's box, plain text next to
 *  the link itself). */
async function copy(url, box, input) {
  const say = (kind, text) => {
    if (input) {
      box.className = `small mt-1 ${kind === "success" ? "fw-semibold" : ""}`; // the alert's own colour: readable on it
      box.textContent = text;
    } else notify(box, kind, text);
  };
  try {
    await navigator.clipboard.writeText(url);
    say("success", t("forms.copied"));
  } catch {
    // No clipboard (permission, an old browser): select the link for the seller to copy.
    if (input) {
      input.focus();
      input.select();
    }
    say("warning", t("forms.copy_failed"));
  }
}

function renderLink() {
  const box = $("#forms-link-box");
  const fresh = state.fresh;
  const url = fresh?.url;
  if (!url) {
    box.replaceChildren();
    return;
  }
  const f = list.items.find((x) => x.id === fresh.id) || {};
  const input = h("input", { class: "form-control font-monospace form-link-url", readonly: true, value: url, "aria-label": t("forms.link_label"), onfocus: (ev) => ev.target.select() });
  const msg = h("div", { class: "small mt-1", "aria-live": "polite" });
  box.replaceChildren(
    h(
      "div",
      { class: "alert alert-success form-link", role: "status" },
      h("div", { class: "fw-semibold mb-1" }, t(fresh.kind === "new_link" ? "forms.link_new" : "forms.link_made", { title: f.title || "" })),
      h(
        "div",
        { class: "input-group" },
        input,
        h("button", { class: "btn btn-primary form-link-copy", type: "button", onclick: () => copy(url, msg, input) }, t("forms.copy")),
        h("a", { class: "btn btn-outline-secondary", href: url, target: "_blank", rel: "noopener noreferrer" }, t("forms.open_link")),
      ),
      h("div", { class: "small text-muted mt-1" }, t("forms.link_once")),
      msg,
    ),
  );
}

// --- a new form --------------------------------------------------------------------------

async function loadChoices() {
  try {
    const [items, batches] = await Promise.all([api.get("/items", { limit: 200 }), api.get("/batches").catch(() => [])]);
    state.items = items.items || [];
    state.batches = (Array.isArray(batches) ? batches : batches?.items || []).filter((b) => b && b.name && !b.closed).map((b) => b.name);
    $("#forms-batch-names").replaceChildren(...state.batches.map((name) => h("option", { value: name })));
    renderItems();
  } catch (err) {
    if (err.status !== 401) notify($("#forms-new-msg"), "danger", describe(err));
  }
}

let choices = null; // the pending loadChoices()

/** A timestamp as a datetime-local value in the seller's own clock ("2026-12-20T21:00"). */
function localInput(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Tick a form's items (and their limits) in the panel's list. */
function pickItems(items) {
  const chosen = new Map((items || []).map((i) => [i.item_id, i]));
  for (const row of document.querySelectorAll("#forms-item-list [data-item-id]")) {
    const entry = chosen.get(row.dataset.itemId);
    const max = row.querySelector(".form-item-max");
    row.querySelector(".form-item-pick").checked = Boolean(entry);
    max.disabled = !entry;
    max.value = entry?.max_per_buyer ? String(entry.max_per_buyer) : "";
    max.classList.remove("is-invalid");
    const min = row.querySelector(".form-item-min");
    min.disabled = !entry;
    min.value = entry?.min_quantity ? String(entry.min_quantity) : "";
    min.classList.remove("is-invalid");
  }
}

function renderItems() {
  const list = $("#forms-item-list");
  if (!list) return;
  if (!state.items) {
    list.replaceChildren(h("div", { class: "text-muted small" }, t("common.loading")));
    return;
  }
  if (!state.items.length) {
    list.replaceChildren(h("div", { class: "text-muted small" }, t("forms.no_items")));
    return;
  }
  // Keep what was ticked and typed across a redraw (a language change).
  const before = new Map([...list.querySelectorAll("[data-item-id]")].map((row) => [row.dataset.itemId, { on: row.querySelector(".form-item-pick").checked, max: row.querySelector(".form-item-max").value, min: row.querySelector(".form-item-min").value }]));
  list.replaceChildren(
    ...state.items.map((i) => {
      const was = before.get(i.id) || { on: false, max: "", min: "" };
      const pickId = `forms-pick-${i.id}`;
      const stock = i.stock === null || i.stock === undefined ? t("item.untracked") : t("forms.stock", { n: i.stock });
      const max = h("input", { class: "form-control form-control-sm form-item-max", type: "number", min: "1", step: "1", inputmode: "numeric", value: was.max, disabled: !was.on, placeholder: t("forms.no_limit"), "aria-label": t("forms.max_label", { item: i.item_name }), style: "width: 7.5rem" });
      // 成團門檻: text, so full-width digits typed on a phone are read too.
      const min = h("input", { class: "form-control form-control-sm form-item-min", inputmode: "numeric", autocomplete: "off", value: was.min, disabled: !was.on, placeholder: t("forms.no_min"), "aria-label": t("forms.min_label", { item: i.item_name }), style: "width: 7.5rem" });
      const pick = h("input", {
        class: "form-check-input form-item-pick",
        type: "checkbox",
        id: pickId,
        checked: was.on,
        onchange: (ev) => {
          max.disabled = !ev.target.checked;
          min.disabled = !ev.target.checked;
        },
      });
      return h(
        "div",
        { class: "d-flex flex-wrap align-items-center gap-2 border-bottom py-1", dataset: { itemId: i.id } },
        h("div", { class: "form-check mb-0 me-auto text-break" }, pick, h("label", { class: "form-check-label", for: pickId }, h("span", { class: "form-item-name" }, i.item_name), " ", h("small", { class: "text-muted" }, `${money(i.price, currency())} · ${stock}`))),
        max,
        min,
      );
    }),
  );
}

/** Open the panel for a new form, or (`f`) to change that form; close it (open false). */
async function openNew(open, f = null) {
  const panel = $("#forms-new");
  panel.classList.toggle("d-none", !open);
  $("#forms-new-open").setAttribute("aria-expanded", String(open && !f));
  if (!open) {
    state.editing = null;
    return;
  }
  const wasEditing = state.editing;
  state.editing = f;
  $("#forms-new-msg").replaceChildren();
  $("#forms-msg").replaceChildren(); // the last action's word is not about this one
  $("#forms-new-title").dataset.i18n = f ? "forms.edit_title" : "forms.new_title";
  $("#forms-new-title").textContent = f ? t("forms.edit_title", { title: f.title || "" }) : t("forms.new_title");
  $("#forms-create").dataset.i18n = f ? "common.save" : "forms.create";
  $("#forms-create").textContent = t(f ? "common.save" : "forms.create");
  const el = panel.elements;
  el.batch.disabled = Boolean(f); // a form stays in its batch
  if (f || wasEditing) {
    for (const input of panel.querySelectorAll("input, textarea")) input.classList.remove("is-invalid");
    el.title.value = f?.title || "";
    el.batch.value = f?.batch || "";
    el.description.value = f?.description || "";
    el.closes_at.value = localInput(f?.closes_at);
    el.closes_at.dataset.was = el.closes_at.value;
    el.ask_phone.checked = Boolean(f?.ask_phone);
    el.ask_address.checked = Boolean(f?.ask_address);
    el.contact.value = f?.contact || "email";
    el.shipping_mode.value = SHIPPING_MODES.includes(f?.shipping?.mode) ? f.shipping.mode : "none";
    shippingChanged();
    if (f?.shipping?.mode === "flat") el.shipping_fee.value = String(f.shipping.fee ?? "");
    el.on_min_unmet.value = MIN_RULES.includes(f?.on_min_unmet) ? f.on_min_unmet : "cancel";
    minRuleChanged();
    if (f?.on_min_unmet === "extend") el.extend_days.value = String(f.extend_days ?? "");
  }
  el.title.focus();
  if (!state.items) {
    choices ||= loadChoices().finally(() => {
      choices = null;
    });
    await choices;
  }
  if (state.editing === f && (f || wasEditing)) pickItems(f?.items || []);
  if (f) panel.scrollIntoView({ block: "start", behavior: "smooth" });
}

async function create(ev) {
  ev.preventDefault();
  const f = ev.target;
  const box = $("#forms-new-msg");
  const title = f.elements.title.value.trim();
  const batch = f.elements.batch.value.trim();
  f.elements.title.classList.toggle("is-invalid", !title);
  f.elements.batch.classList.toggle("is-invalid", !batch && !state.editing);
  const items = [];
  let badMax = null;
  let badMin = null;
  for (const row of f.querySelectorAll("#forms-item-list [data-item-id]")) {
    if (!row.querySelector(".form-item-pick").checked) continue;
    const maxInput = row.querySelector(".form-item-max");
    const text = maxInput.value.trim();
    const n = Number(text);
    const ok = text === "" || (Number.isInteger(n) && n >= 1);
    maxInput.classList.toggle("is-invalid", !ok);
    if (!ok) badMax ||= row.querySelector(".form-item-name").textContent;
    const entry = text === "" ? { item_id: row.dataset.itemId } : { item_id: row.dataset.itemId, max_per_buyer: n };
    const minInput = row.querySelector(".form-item-min");
    const minText = minInput.value.trim();
    const min = wholeNumber(minText);
    const minOk = minText === "" || (min !== null && min >= 1);
    minInput.classList.toggle("is-invalid", !minOk);
    if (!minOk) badMin ||= row.querySelector(".form-item-name").textContent;
    if (minText !== "" && minOk) entry.min_quantity = min;
    items.push(entry);
  }
  const problems = [];
  if (!title) problems.push(t("forms.err.title"));
  if (!batch && !state.editing) problems.push(t("forms.err.batch"));
  if (!items.length) problems.push(t("forms.err.items"));
  if (items.length > 50) problems.push(t("forms.err.too_many"));
  if (badMax) problems.push(t("forms.err.max", { item: badMax }));
  if (badMin) problems.push(t("forms.err.min", { item: badMin }));
  const onMinUnmet = f.elements.on_min_unmet.value;
  let extendDays = null;
  if (onMinUnmet === "extend") {
    extendDays = wholeNumber(f.elements.extend_days.value);
    const ok = extendDays !== null && extendDays >= 1 && extendDays <= 30;
    f.elements.extend_days.classList.toggle("is-invalid", !ok);
    if (!ok) problems.push(t("forms.err.extend_days"));
  }
  const shipping = { mode: f.elements.shipping_mode.value };
  if (shipping.mode === "flat") {
    const text = f.elements.shipping_fee.value;
    const cents = parseCents(text, currency()); // ６０ or NT$60 is 60
    const ok = cents !== null && cents > 0;
    f.elements.shipping_fee.classList.toggle("is-invalid", !ok);
    if (ok) shipping.fee = centsToNumber(cents);
    else problems.push(amountError(text, currency(), t("forms.shipping_fee")) || t("forms.err.shipping_fee"));
  }
  let closesAt = null;
  if (f.elements.closes_at.value) {
    const when = new Date(f.elements.closes_at.value); // the seller's own clock
    const unchanged = state.editing && f.elements.closes_at.value === f.elements.closes_at.dataset.was;
    if (Number.isNaN(when.getTime()) || (when.getTime() <= Date.now() && !unchanged)) problems.push(t("forms.err.closes_at"));
    else closesAt = unchanged ? state.editing.closes_at : when.toISOString();
  }
  if (problems.length) {
    notify(box, "danger", h("ul", { class: "mb-0 ps-3" }, problems.map((p) => h("li", {}, p))));
    return;
  }
  const body = { title, batch, items, contact: f.elements.contact.value, ask_phone: f.elements.ask_phone.checked, ask_address: f.elements.ask_address.checked, shipping, on_min_unmet: onMinUnmet };
  if (extendDays !== null) body.extend_days = extendDays;
  const description = f.elements.description.value.trim();
  if (description) body.description = description;
  if (closesAt) body.closes_at = closesAt;
  const submit = $("#forms-create");
  submit.disabled = true;
  if (state.editing) {
    const editing = state.editing;
    // Everything the panel shows, so a cleared description or closing time is cleared.
    const patch = { ...body, description: description || null, closes_at: closesAt };
    delete patch.batch;
    try {
      const out = await api.patch(`/forms/${editing.id}`, patch);
      box.replaceChildren();
      openNew(false);
      f.reset();
      renderItemsReset();
      shippingChanged();
      replaceForm(out);
      notify($("#forms-msg"), "success", t("forms.saved", { title: out.title || "" }));
    } catch (err) {
      if (err.status !== 401) notify(box, "danger", describe(err));
    } finally {
      submit.disabled = false;
    }
    return;
  }
  try {
    const out = await api.post("/forms", body);
    state.fresh = out.url ? { id: out.id, kind: "made", url: out.url } : null;
    box.replaceChildren();
    f.reset();
    renderItemsReset();
    shippingChanged();
    openNew(false);
    replaceForm(out);
    $("#forms-link-box .form-link-url")?.focus();
  } catch (err) {
    if (err.status !== 401) notify(box, "danger", describe(err));
  } finally {
    submit.disabled = false;
  }
}

function renderItemsReset() {
  minRuleChanged();
  for (const input of document.querySelectorAll("#forms-item-list .form-item-max, #forms-item-list .form-item-min")) {
    input.value = "";
    input.disabled = true;
    input.classList.remove("is-invalid");
  }
}

export function bind() {
  pane().replaceChildren(...frame());
  $("#forms-new-open").addEventListener("click", () => openNew($("#forms-new").classList.contains("d-none") || Boolean(state.editing)));
  $("#forms-new-cancel").addEventListener("click", () => {
    openNew(false);
    $("#forms-new-open").focus();
  });
  $("#forms-new").addEventListener("submit", create);
  $("#forms-new").addEventListener("input", (ev) => ev.target.classList.remove("is-invalid"));
  $("#forms-more").addEventListener("click", () => load(false));
  apply(pane());
}

/** The form's waitlist (補貨候補) under its title: each entry's place or outcome; a waiting
 * buyer can be skipped; a served one without email, or one the form's close ended, is
 * marked for the seller to tell. */
async function showWaitlist(f, row) {
  const box = row?.querySelector(".form-waitlist");
  if (!box) return;
  box.replaceChildren(t("common.loading"));
  let out;
  try {
    out = await api.get(`/forms/${f.id}/waitlist`);
  } catch (err) {
    box.replaceChildren(h("span", { class: "text-danger" }, describe(err)));
    return;
  }
  const entries = out.items || [];
  if (!entries.length) {
    box.replaceChildren(h("span", { class: "text-muted form-waitlist-empty" }, t("forms.waitlist_empty")));
    return;
  }
  const line = (e) => {
    const state =
      e.status === "waiting"
        ? t("forms.waitlist_waiting", { n: e.position })
        : e.status === "served"
          ? t(e.emailed === false ? "forms.waitlist_served_tell" : "forms.waitlist_served", { no: e.order_no ?? "" })
          : e.status === "closed"
            ? t(e.emailed === false ? "forms.waitlist_closed_tell" : "forms.waitlist_closed")
            : t("forms.waitlist_skipped");
    const skip =
      e.status === "waiting"
        ? h("button", { class: "btn btn-sm btn-link p-0 ms-2 form-waitlist-skip", type: "button", "aria-label": t("forms.waitlist_skip_label", { name: e.name }), onclick: () => skipEntry(f, e, row) }, t("forms.waitlist_skip"))
        : null;
    return h("li", { class: "form-waitlist-entry", dataset: { id: e.id, status: e.status } }, t("forms.waitlist_entry", { name: e.name, contact: e.contact, item: e.variant_label ? aside(e.item_name || "", e.variant_label) : e.item_name || "", quantity: e.quantity }), h("span", { class: ["served", "closed"].includes(e.status) && e.emailed === false ? "text-danger" : "" }, state), skip);
  };
  box.replaceChildren(h("strong", {}, t("forms.waitlist")), h("ol", { class: "mb-1 ps-3" }, entries.map(line)));
}

async function skipEntry(f, e, row) {
  try {
    await api.del(`/forms/${f.id}/waitlist/${e.id}`);
  } catch (err) {
    notify($("#forms-msg"), "danger", describe(err));
  }
  await showWaitlist(f, row);
}
