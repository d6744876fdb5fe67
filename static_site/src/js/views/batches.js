// The batches tab (批次, issue 14): one row per batch (a trip: 2026-12 東京) with its orders,
// total, closed mark and the exchange rates it still lacks. A batch opens its page: what it
// earned (the totals of GET /reports/profit?batch=), the exchange rates of the currencies its
// costs were paid in (typed and sent as text, never turned into a JS float: "0.2115" stays
// "0.2115"), a note, Close / Reopen, and its orders with their cost and profit as the server
// worked them out (a click opens the order panel). Notices (issue 29): one notice to the
// batch's buyers, each with their own text to copy into LINE, a "sent" tick and whether it
// was emailed, and the earlier notices with who was reached.
import { api, describe } from "../api.js";
import { $, ask, h, messageRow, notify, spinnerRow } from "../dom.js";
import { date, money, percent } from "../format.js";
import { t } from "../i18n.js";
import { COST_CURRENCIES, currency, fail, isStaff, itemText, nav } from "../app.js";
import { PagedList } from "../paged.js";
import { oddRate } from "../rates.js";
import * as detail from "./order-detail.js";
import * as shopping from "./shopping.js";
import { replaceRow } from "./orders.js";

const LIST_COLS = 5;
const ORDER_COLS = 6;
// A rate: a positive decimal with at most 6 decimals, at most 100,000 (the server's
// currencies.MAX_RATE). Checked here as text; what is sent is the text as typed.
const RATE = /^\d{1,6}(?:\.\d{1,6})?$/;
const MAX_RATE = 100000;

const state = {
  batches: null, // GET /batches (null: not loaded yet)
  listError: null,
  name: null, // the open batch (null: the list is shown)
  profit: null, // its totals (GET /reports/profit?batch=)
  profitError: null,
  orders: null, // its orders as last read (a PagedList; null: loading, or ordersError)
  ordersError: null,
  draft: null, // {codes: ["JPY", …], rates: {JPY: "0.2115"}, note, touched}: the rates form
  busy: false, // a PATCH on its way
  last: null, // the batch last opened (focus goes back to it in the list)
  notices: null, // its notices (GET /batches/{name}/notices; null: loading, or noticesError)
  noticesError: null,
  noticeBusy: false, // a notice being prepared
};

const opened = () => (state.batches || []).find((b) => b.name === state.name) || null;

// --- loading --------------------------------------------------------------------------------

export function bind() {}

export async function load() {
  await loadList();
  if (state.name) await loadBatch();
}

export function reset() {
  Object.assign(state, { batches: null, listError: null, name: null, profit: null, orders: null, draft: null });
  shopping.close();
  $("#batch-page").replaceChildren();
  showPage(false);
}

export function render() {
  renderList();
  if (state.name && shopping.showing()) shopping.rerender();
  else if (state.name) renderPage();
}

async function loadList() {
  if (!state.batches) $("#batch-list tbody").replaceChildren(spinnerRow(LIST_COLS, t("common.loading")));
  try {
    state.batches = ((await api.get("/batches")) || []).filter((b) => b.name);
    state.listError = null;
  } catch (err) {
    state.listError = err;
  }
  renderList();
  if (state.name && opened() && !state.busy) {
    renderHead();
    // Opened before the list was in (from another tab): the form starts from the batch now.
    if (!state.draft?.touched) {
      state.draft = draftOf(opened());
      renderRates();
    }
  }
}

/** The open batch's totals and orders (after a change of rates or of an order: again). */
async function loadBatch() {
  const name = state.name;
  // A list of its own per reading: one still on its way for another batch fills nothing shown.
  const list = new PagedList((page) => api.get("/orders", { batch: name, ...page }), { key: (o) => o.id });
  const [profit, orders, notices] = await Promise.allSettled([
    // Its totals are profit: the owner's (staff get no call, and the summary is hidden).
    isStaff() ? Promise.resolve(null) : api.get("/reports/profit", { batch: name }),
    list.load(),
    api.get(`/batches/${encodeURIComponent(name)}/notices`),
  ]);
  if (state.name !== name) return; // another batch opened meanwhile
  state.notices = notices.status === "fulfilled" ? notices.value?.items || [] : null;
  state.noticesError = notices.status === "rejected" ? notices.reason : null;
  renderNotices();
  state.profit = profit.status === "fulfilled" ? profit.value?.totals || null : null;
  state.profitError = profit.status === "rejected" ? profit.reason : null;
  state.orders = orders.status === "fulfilled" ? list : null;
  state.ordersError = orders.status === "rejected" ? orders.reason : null;
  renderSummary();
  renderOrders();
}

async function moreOrders() {
  const list = state.orders;
  if (!list) return;
  try {
    await list.load(false);
    if (state.orders === list) renderOrders();
  } catch (err) {
    if (err.status !== 401) notify($("#batch-msg"), "danger", describe(err));
  }
}

// --- the list of batches ----------------------------------------------------------------------

function statusBadge(b) {
  return b.closed
    ? h("span", { class: "badge text-bg-secondary batch-closed" }, t("batch.closed"))
    : h("span", { class: "badge text-bg-success batch-open" }, t("batch.open"));
}

function ratesCell(b) {
  const missing = b.missing_rates || [];
  const known = Object.entries(b.rates || {}).map(([code, rate]) => h("span", { class: "text-nowrap me-2" }, `${code} ${rate}`));
  return h(
    "span",
    { class: "batch-rates" },
    known,
    missing.length ? h("span", { class: "badge text-bg-warning batch-missing" }, `⚠ ${t("batch.missing_rates", { list: missing.join(t("common.list_sep")) })}`) : null,
    !known.length && !missing.length ? h("span", { class: "text-muted small" }, t("batch.no_foreign")) : null,
  );
}

function renderList() {
  const body = $("#batch-list tbody");
  if (state.listError) {
    body.replaceChildren(messageRow(LIST_COLS, describe(state.listError), "text-danger"));
    return;
  }
  if (!state.batches) return;
  if (!state.batches.length) {
    body.replaceChildren(messageRow(LIST_COLS, t("batch.empty")));
    return;
  }
  body.replaceChildren(
    ...state.batches.map((b) =>
      h(
        "tr",
        { dataset: { batch: b.name }, class: b.missing_rates?.length ? "batch-needs-rate" : "" },
        h(
          "td",
          { "data-label": t("order.batch"), class: "cell-batch-name" },
          h("button", { class: "btn btn-link p-0 text-start batch-open-btn", type: "button", onclick: () => open(b.name) }, b.name),
        ),
        h("td", { class: "text-end", "data-label": t("rep.orders") }, String(b.order_count ?? "")),
        h("td", { class: "text-end text-nowrap", "data-label": t("rep.total") }, money(b.total_amount, currency())),
        h("td", { "data-label": t("order.status") }, statusBadge(b)),
        h("td", { "data-label": t("batch.rates"), class: "owner-only" }, ratesCell(b)),
      ),
    ),
  );
}

// --- one batch ----------------------------------------------------------------------------------

function showPage(on) {
  $("#batch-list-box").classList.toggle("d-none", on);
  $("#batch-page").classList.toggle("d-none", !on);
}

/** Open a batch's page (from the list, or from another tab). */
export async function open(name) {
  shopping.close();
  state.name = name;
  state.profit = state.orders = state.notices = null;
  state.profitError = state.ordersError = state.noticesError = null;
  const b = opened();
  state.draft = draftOf(b);
  showPage(true);
  renderPage();
  $("#batch-page-title").focus({ preventScroll: true });
  window.scrollTo({ top: 0 });
  await loadBatch();
}

function back() {
  shopping.close();
  state.name = null;
  state.draft = null;
  showPage(false);
  $("#batch-page").replaceChildren();
  loadList();
  $(`#batch-list tr[data-batch="${CSS.escape(state.last || "")}"] .batch-open-btn`)?.focus();
}

/** What the rates form starts from: every currency the orders use or a rate exists for. */
function draftOf(b) {
  const rates = { ...(b?.rates || {}) };
  const codes = [...new Set([...(b?.currencies || []), ...Object.keys(rates)])];
  return { codes, rates, note: b?.note || "" };
}

function renderPage() {
  state.last = state.name;
  const page = $("#batch-page");
  page.replaceChildren(
    h(
      "div",
      { class: "d-flex flex-wrap align-items-center gap-2 mb-2" },
      h("button", { class: "btn btn-sm btn-outline-secondary", type: "button", id: "batch-back", onclick: back }, `← ${t("batch.all")}`),
      h("h2", { class: "h5 mb-0 batch-name", id: "batch-page-title", tabindex: "-1" }, state.name),
      h("span", { id: "batch-status" }),
      h(
        "button",
        { class: "btn btn-primary ms-auto batch-shopping", type: "button", onclick: () => shopping.open(state.name, { back: () => open(state.name), copy: copyText }) },
        t("batch.shopping"),
      ),
    ),
    h("div", { id: "batch-msg", "aria-live": "polite" }),
    h("div", { id: "batch-missing" }),
    h("div", { class: "row g-3 mb-3" },
      h("div", { class: "col-12 col-lg-6 owner-only" }, h("section", { class: "card card-body h-100", id: "batch-summary", "aria-labelledby": "batch-summary-title" })),
      h("div", { class: "col-12 col-lg-6 owner-only" }, h("form", { class: "card card-body gap-2", id: "batch-rates", novalidate: true, "aria-labelledby": "batch-rates-title" })),
    ),
    h("section", { class: "card card-body mb-3", id: "batch-notices", "aria-labelledby": "batch-notices-title" }),
    h(
      "section",
      { "aria-labelledby": "batch-orders-title" },
      h(
        "div",
        { class: "d-flex flex-wrap gap-2 align-items-center mb-2" },
        h("h3", { class: "h6 mb-0 me-auto", id: "batch-orders-title" }, t("batch.orders")),
        h("button", { class: "btn btn-sm btn-link", type: "button", onclick: () => nav.go("orders", { batch_prefix: state.name }) }, t("batch.in_orders_tab")),
      ),
      h(
        "div",
        { class: "table-responsive bg-white rounded border" },
        h(
          "table",
          { class: "table table-sm align-middle mb-0 stack", id: "batch-orders" },
          h(
            "thead",
            { class: "table-light" },
            h(
              "tr",
              {},
              h("th", {}, t("order.no")),
              h("th", {}, t("order.buyer")),
              h("th", {}, t("order.item")),
              h("th", { class: "text-end" }, t("order.total")),
              h("th", { class: "text-end owner-only" }, t("order.cost_amount")),
              h("th", { class: "text-end owner-only" }, t("order.profit")),
            ),
          ),
          h("tbody", {}),
        ),
      ),
      h("div", { class: "text-center my-2" }, h("button", { class: "btn btn-outline-secondary btn-sm d-none", id: "batch-orders-more", type: "button", onclick: moreOrders }, t("common.more"))),
    ),
  );
  renderHead();
  renderSummary();
  renderRates();
  renderNotices();
  renderOrders();
}

function renderHead() {
  const b = opened();
  $("#batch-status")?.replaceChildren(b ? statusBadge(b) : "");
  const missing = b?.missing_rates || [];
  $("#batch-missing")?.replaceChildren(
    missing.length
      ? h("div", { class: "alert alert-warning py-2", role: "status" }, t("batch.missing_help", { list: missing.join(t("common.list_sep")) }))
      : "",
  );
}

function fact(label, value, cls = "") {
  return h("div", { class: "batch-fact" }, h("dt", {}, label), h("dd", { class: cls }, value));
}

function renderSummary() {
  const box = $("#batch-summary");
  if (!box) return;
  const title = h("h3", { class: "h6", id: "batch-summary-title" }, t("batch.summary"));
  if (state.profitError) {
    box.replaceChildren(title, h("p", { class: "text-danger mb-0" }, describe(state.profitError)));
    return;
  }
  const p = state.profit;
  if (!p) {
    box.replaceChildren(title, h("p", { class: "text-muted mb-0" }, t("common.loading")));
    return;
  }
  const cur = currency();
  const known = p.costed_count ?? 0;
  const gaps = [];
  if (p.missing_cost_count) gaps.push(t("profit.missing_cost", { n: p.missing_cost_count }));
  if (p.missing_rate_count) gaps.push(t("profit.missing_rate", { n: p.missing_rate_count }));
  box.replaceChildren(
    title,
    h(
      "dl",
      { class: "batch-facts mb-2" },
      fact(t("rep.orders"), String(p.order_count ?? 0)),
      fact(t("profit.revenue"), money(p.revenue ?? 0, cur)),
      fact(t("profit.cost"), p.cost === null || p.cost === undefined ? "—" : money(p.cost, cur), "batch-cost"),
      fact(t("profit.shipping_fees"), money(p.shipping_fees ?? 0, cur)),
      fact(t("profit.shipping_cost"), money(p.shipping_cost ?? 0, cur), "batch-shipping-cost"),
      fact(t("profit.profit"), known ? money(p.profit ?? 0, cur) : "—", `fw-semibold batch-profit ${Number(p.profit) < 0 ? "text-danger" : ""}`),
      fact(t("profit.margin"), p.margin === null || p.margin === undefined ? "—" : percent(p.margin), "batch-margin"),
    ),
    h(
      "p",
      { class: `small mb-0 ${gaps.length ? "text-warning-emphasis" : "text-muted"}`, id: "batch-counted" },
      gaps.length
        ? t("profit.counted_and", { a: t("profit.counted", { known, n: p.order_count ?? 0 }), b: t("profit.not_counted", { list: gaps.join(t("common.list_sep")) }) })
        : t("profit.counted", { known, n: p.order_count ?? 0 }),
    ),
  );
}

// --- the rates form -----------------------------------------------------------------------------

function renderRates() {
  const form = $("#batch-rates");
  if (!form) return;
  const b = opened();
  const d = state.draft;
  const closed = Boolean(b?.closed);
  const cur = currency();
  const missing = new Set(b?.missing_rates || []);
  const rows = d.codes.map((code) => {
    const input = h("input", {
      class: `form-control rate-input ${missing.has(code) && !d.rates[code] ? "border-warning" : ""}`,
      id: `rate-${code}`,
      name: `rate-${code}`,
      type: "text",
      inputmode: "decimal",
      autocomplete: "off",
      value: d.rates[code] ?? "",
      placeholder: missing.has(code) ? t("batch.rate_needed") : "",
      disabled: closed || state.busy,
      dataset: { currency: code },
    });
    input.addEventListener("input", () => {
      d.rates[code] = input.value;
      d.touched = true;
      input.classList.remove("is-invalid");
    });
    return h(
      "div",
      { class: "rate-row", dataset: { currency: code } },
      h("label", { class: "rate-label text-nowrap", for: `rate-${code}` }, t("batch.rate_label", { code })),
      input,
      h("span", { class: "text-nowrap" }, cur),
      h(
        "button",
        {
          class: "btn btn-sm btn-outline-secondary rate-remove",
          type: "button",
          disabled: closed || state.busy,
          "aria-label": t("batch.rate_remove", { code }),
          title: t("batch.rate_remove", { code }),
          onclick: () => removeRate(code),
        },
        "×",
      ),
    );
  });
  const addable = COST_CURRENCIES.filter((c) => c !== cur && !d.codes.includes(c));
  const add = h("select", { class: "form-select form-select-sm w-auto", id: "batch-add-currency", "aria-label": t("batch.add_currency_label"), disabled: closed || state.busy });
  add.replaceChildren(...addable.map((c) => h("option", { value: c }, c)));
  const note = h("textarea", { class: "form-control", name: "note", rows: "2", maxlength: "1000" });
  note.value = d.note;
  note.addEventListener("input", () => {
    d.note = note.value;
    d.touched = true;
  });
  const parts = [
    h("h3", { class: "h6 mb-0", id: "batch-rates-title" }, t("batch.rates")),
    h("p", { class: "small text-muted mb-0" }, t("batch.rates_help", { currency: cur })),
    closed ? h("p", { class: "small alert alert-secondary py-1 px-2 mb-0", id: "batch-closed-help" }, t("batch.closed_help")) : null,
    rows.length ? h("div", { class: "d-grid gap-2", id: "batch-rate-rows" }, rows) : h("p", { class: "small text-muted mb-0" }, t("batch.no_foreign")),
    addable.length
      ? h(
          "div",
          { class: "d-flex flex-wrap gap-2 align-items-center" },
          add,
          h("button", { class: "btn btn-sm btn-outline-primary", type: "button", id: "batch-add-rate", disabled: closed || state.busy, onclick: () => addRate(add.value) }, t("batch.add_currency")),
        )
      : null,
    h("label", { class: "form-label mb-0 w-100" }, h("span", {}, t("order.note")), note),
    h(
      "div",
      { class: "d-flex flex-wrap gap-2" },
      h("button", { class: "btn btn-primary", type: "submit", id: "batch-save", disabled: state.busy }, t("common.save")),
      h(
        "button",
        { class: `btn ms-auto ${closed ? "btn-outline-primary" : "btn-outline-secondary"}`, type: "button", id: "batch-close", disabled: state.busy, onclick: () => setClosed(!closed) },
        t(closed ? "batch.reopen" : "batch.close"),
      ),
    ),
  ];
  form.replaceChildren(...parts.filter(Boolean));
  form.onsubmit = (ev) => {
    ev.preventDefault();
    saveRates();
  };
}

function addRate(code) {
  if (!code || state.draft.codes.includes(code)) return;
  state.draft.codes.push(code);
  state.draft.touched = true;
  renderRates();
  $(`#rate-${code}`)?.focus();
}

/** × empties a rate (sent as null on save); a currency no order uses leaves the form. */
function removeRate(code) {
  const d = state.draft;
  d.rates[code] = "";
  d.touched = true;
  if (!(opened()?.currencies || []).includes(code)) d.codes = d.codes.filter((c) => c !== code);
  renderRates();
}

/** The PATCH body of the form (only what changed), or null (with the field marked) when a
 *  rate is not a positive decimal with at most 6 decimals. */
function changes() {
  const b = opened() || {};
  const d = state.draft;
  const closed = Boolean(b.closed);
  const out = {};
  const rates = {};
  if (!closed) {
    for (const code of new Set([...d.codes, ...Object.keys(b.rates || {})])) {
      const typed = d.codes.includes(code) ? String(d.rates[code] ?? "").trim() : "";
      const before = b.rates?.[code] ?? null;
      if (typed === "") {
        if (before !== null) rates[code] = null;
        continue;
      }
      if (!RATE.test(typed) || !/[1-9]/.test(typed) || Number(typed) > MAX_RATE) {
        $(`#rate-${code}`)?.classList.add("is-invalid");
        $(`#rate-${code}`)?.focus();
        notify($("#batch-msg"), "danger", t("batch.rate_error", { code }));
        return null;
      }
      if (typed !== before) rates[code] = typed; // the typed text, as typed: never a float
    }
    if (Object.keys(rates).length) out.rates = rates;
  }
  const note = d.note.trim();
  if (note !== (b.note || "")) out.note = note || null;
  return out;
}

/** Put the server's batch in the list and the form. */
function takeBatch(batch) {
  if (!batch?.name) return;
  const list = state.batches || [];
  const i = list.findIndex((x) => x.name === batch.name);
  if (i >= 0) list[i] = batch;
  else list.push(batch);
  state.batches = list;
  if (state.name === batch.name) state.draft = draftOf(batch);
}

async function patch(body, done) {
  state.busy = true;
  renderRates();
  const box = $("#batch-msg");
  box.replaceChildren(); // the last save's message is not this one's
  try {
    const batch = await api.patch(`/batches/${encodeURIComponent(state.name)}`, body);
    takeBatch(batch);
    state.busy = false;
    renderHead();
    renderRates();
    renderList();
    notify(box, "success", done);
    await loadBatch();
  } catch (err) {
    state.busy = false;
    renderRates();
    if (err.status !== 401) fail(box, err);
  }
}

async function saveRates() {
  const body = changes();
  if (body === null) return;
  if (!Object.keys(body).length) {
    notify($("#batch-msg"), "info", t("detail.nothing"));
    return;
  }
  if (!(await ratesLookRight(body.rates))) return;
  await patch(body, t("common.saved"));
}

/** A new rate that looks inverted or far off (rates.js: 1 JPY = 4.7 TWD) asks first, saying
 *  what it probably should be; "Fix it" saves nothing and puts the cursor in that rate. */
async function ratesLookRight(rates = {}) {
  const shop = currency();
  for (const [code, rate] of Object.entries(rates)) {
    const odd = rate === null ? null : oddRate(code, shop, rate);
    if (!odd) continue;
    const text = t(`batch.rate_${odd.kind}`, { code, rate, shop, about: odd.about, suggest: odd.suggest });
    if (!(await ask(text, t("batch.rate_keep"), t("batch.rate_fix"), { danger: false }))) {
      $(`#rate-${code}`)?.classList.add("is-invalid");
      $(`#rate-${code}`)?.focus();
      return false;
    }
  }
  return true;
}

async function setClosed(closed) {
  await patch({ closed }, t(closed ? "batch.closed_msg" : "batch.reopened_msg", { name: state.name }));
}

// --- notices to the batch's buyers (issue 29) ---------------------------------------------------

const KINDS = ["arrived", "payment_due", "custom"];
const noticesPath = (...rest) => [`/batches/${encodeURIComponent(state.name)}/notices`, ...rest].join("/");

function renderNotices() {
  const box = $("#batch-notices");
  if (!box) return;
  const kind = h("select", { class: "form-select", id: "notice-kind", name: "kind" }, KINDS.map((k) => h("option", { value: k }, t(`notice.kind_${k}`))));
  const message = h("textarea", { class: "form-control", id: "notice-message", name: "message", rows: "3", maxlength: "2000", placeholder: t("notice.message_placeholder") });
  const form = h(
    "form",
    { class: "d-grid gap-2 mb-3", id: "notice-form", novalidate: true },
    h("div", { class: "row g-2" },
      h("div", { class: "col-12 col-sm-4" }, h("label", { class: "form-label mb-1", for: "notice-kind" }, t("notice.kind")), kind),
      h("div", { class: "col-12 col-sm-8" }, h("label", { class: "form-label mb-1", for: "notice-message" }, t("notice.message")), message),
    ),
    h("p", { class: "small text-muted mb-0" }, t("notice.help")),
    h("div", {}, h("button", { class: "btn btn-primary", type: "submit", id: "notice-create", disabled: state.noticeBusy }, t("notice.create"))),
    h("div", { id: "notice-msg", "aria-live": "polite" }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    createNotice(kind.value, message.value);
  });
  let list;
  if (state.noticesError) list = h("p", { class: "text-danger mb-0" }, describe(state.noticesError));
  else if (!state.notices) list = h("p", { class: "text-muted mb-0" }, t("common.loading"));
  else if (!state.notices.length) list = h("p", { class: "text-muted mb-0", id: "notice-none" }, t("notice.none"));
  else list = h("div", { class: "d-grid gap-2", id: "notice-list" }, state.notices.map((n, i) => noticeBox(n, i === 0)));
  box.replaceChildren(h("h3", { class: "h6", id: "batch-notices-title" }, t("notice.title")), form, list);
}

function reach(n) {
  const c = n.counts || {};
  return t("notice.reach", { n: c.recipients ?? 0, emailed: c.emailed ?? 0, sent: c.line_sent ?? 0 });
}

function noticeBox(n, open) {
  return h(
    "details",
    { class: "notice border rounded p-2", open, dataset: { id: n.id } },
    h(
      "summary",
      { class: "notice-head" },
      h("span", { class: "fw-semibold me-2" }, t(`notice.kind_${n.kind}`)),
      h("span", { class: "text-muted small me-2" }, date(n.created_at)),
      h("span", { class: "small notice-reach" }, reach(n)),
      n.message ? h("div", { class: "small text-muted text-truncate" }, n.message) : null,
    ),
    h("ul", { class: "list-group list-group-flush mt-2" }, n.recipients.map((r) => recipientRow(n, r))),
  );
}

function emailBadge(r) {
  if (r.emailed) return h("span", { class: "badge text-bg-success notice-emailed" }, t("notice.emailed"));
  if (r.email_state === "skipped") return h("span", { class: "badge text-bg-light notice-no-email" }, t("notice.line_only"));
  return h("span", { class: "badge text-bg-warning notice-email-pending" }, t("notice.email_pending"));
}

function recipientRow(n, r) {
  const fallback = h("div", { class: "notice-fallback" });
  const tick = h("input", {
    class: "form-check-input notice-sent",
    type: "checkbox",
    id: `sent-${n.id}-${r.customer_id}`,
    checked: Boolean(r.line_sent_at),
    disabled: Boolean(r.line_sent_at),
  });
  tick.addEventListener("change", () => markSent(n, r, tick));
  return h(
    "li",
    { class: "list-group-item px-0 notice-recipient", dataset: { customer: r.customer_id } },
    h(
      "div",
      { class: "d-flex flex-wrap align-items-center gap-2" },
      h("strong", { class: "me-auto notice-name" }, r.name),
      h("span", { class: "text-nowrap notice-balance" }, Number(r.balance) ? money(r.balance, currency()) : t("notice.nothing_due")),
      emailBadge(r),
      h("button", { class: "btn btn-sm btn-outline-primary notice-copy", type: "button", "aria-label": t("notice.copy_for", { name: r.name }), onclick: () => copyText(r, fallback, `notice-text-${n.id}-${r.customer_id}`) }, t("notice.copy")),
      h("div", { class: "form-check mb-0" }, tick, h("label", { class: "form-check-label", for: tick.id }, t("notice.sent"))),
    ),
    fallback,
  );
}

async function copyText(r, box, id) {
  const area = h("textarea", { class: "form-control mt-2 notice-text", id, readonly: true, rows: "6", "aria-label": t("notice.text_for", { name: r.name }) });
  area.value = r.line_text;
  const status = h("div", { class: "small mt-1", role: "status" });
  box.replaceChildren(area, status);
  try {
    await navigator.clipboard.writeText(r.line_text);
    status.textContent = t("notice.copied");
  } catch {
    // No clipboard (a permission, an old browser): the text is selected to copy by hand.
    status.textContent = t("rep.msg_copy_failed");
    area.focus({ preventScroll: true });
    area.select();
  }
}

async function markSent(n, r, tick) {
  tick.disabled = true;
  try {
    const out = await api.post(noticesPath(n.id, "sent"), { customer_ids: [r.customer_id] });
    const i = state.notices?.findIndex((x) => x.id === out.id) ?? -1;
    if (i >= 0) state.notices[i] = out;
    const box = $(`#batch-notices details[data-id="${CSS.escape(n.id)}"] .notice-reach`);
    if (box) box.textContent = reach(out);
  } catch (err) {
    tick.checked = false;
    tick.disabled = false;
    if (err.status !== 401) notify($("#notice-msg"), "danger", describe(err));
  }
}

async function createNotice(kind, message) {
  if (state.noticeBusy) return;
  const text = message.trim();
  if (kind === "custom" && !text) {
    notify($("#notice-msg"), "danger", t("notice.message_needed"));
    $("#notice-message")?.focus();
    return;
  }
  state.noticeBusy = true;
  $("#notice-create").disabled = true;
  const name = state.name;
  try {
    // One key per click: a retry of this request (a lost answer) emails nobody twice.
    const key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
    const out = await api.post(noticesPath(), text ? { kind, message: text } : { kind }, { headers: { "Idempotency-Key": key } });
    if (state.name !== name) return;
    state.notices = [out, ...(state.notices || []).filter((x) => x.id !== out.id)];
    state.noticeBusy = false;
    renderNotices();
    notify($("#notice-msg"), "success", t("notice.created", { n: out.counts.recipients, emailed: out.counts.emailed }));
  } catch (err) {
    state.noticeBusy = false;
    const button = $("#notice-create");
    if (button) button.disabled = false;
    if (err.status !== 401) notify($("#notice-msg"), "danger", describe(err));
  }
}

// --- the batch's orders -----------------------------------------------------------------------

function moneyOrWhy(amount, why) {
  if (amount !== null && amount !== undefined) return h("span", { class: Number(amount) < 0 ? "text-danger" : "" }, money(amount, currency()));
  return h("span", {}, "— ", h("small", { class: "text-muted d-inline-block cost-why" }, why));
}

function renderOrders() {
  const body = $("#batch-orders tbody");
  if (!body) return;
  $("#batch-orders-more")?.classList.toggle("d-none", !state.orders?.more);
  if (state.ordersError) {
    body.replaceChildren(messageRow(ORDER_COLS, describe(state.ordersError), "text-danger"));
    return;
  }
  if (!state.orders) {
    body.replaceChildren(spinnerRow(ORDER_COLS, t("common.loading")));
    return;
  }
  if (!state.orders.items.length) {
    body.replaceChildren(messageRow(ORDER_COLS, t("order.empty_filtered")));
    return;
  }
  body.replaceChildren(
    ...state.orders.items.map((o) => {
      const why = detail.costHint(o);
      const cancelled = ["cancelled"].includes(o.fulfillment_status) || o.payment_status === "refunded";
      return h(
        "tr",
        { dataset: { id: o.id, orderNo: String(o.order_no) }, class: cancelled ? "text-muted" : "" },
        h(
          "td",
          { "data-label": t("order.no") },
          h("button", { class: "btn btn-link p-0 order-open", type: "button", "aria-label": t("detail.open", { no: o.order_no }), onclick: () => openOrder(o) }, `#${o.order_no}`),
          cancelled ? h("small", { class: "ms-2 badge text-bg-light" }, t(o.payment_status === "refunded" ? "pay.refunded" : "ful.cancelled")) : null,
        ),
        h("td", { "data-label": t("order.buyer") }, o.buyer_name),
        h("td", { "data-label": t("order.item") }, `${itemText(o)} × ${o.quantity}`),
        h("td", { class: "text-end text-nowrap", "data-label": t("order.total") }, money(o.total_amount, currency())),
        h("td", { class: "text-end cell-cost owner-only", "data-label": t("order.cost_amount") }, moneyOrWhy(o.cost_amount, why)),
        h("td", { class: "text-end cell-profit owner-only", "data-label": t("order.profit") }, moneyOrWhy(o.profit, detail.profitHint(o))),
      );
    }),
  );
}

function openOrder(o) {
  detail.open(o, (order) => {
    replaceRow(order); // the orders tab's row too, if it is listed there
    state.orders?.replace(order);
    if (state.name) {
      renderOrders();
      loadList();
      loadBatch();
    }
  });
}
