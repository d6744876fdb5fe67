// The shopping trip (採買, issue 30): a batch's shopping list for the phone in the store. Per
// item and variant (with the item's small photo): wanted / bought / short in big numbers,
// "+2 to stock" when units beyond the orders went into a tracked stock, a stepper for the units bought
// and a unit cost (in the trip's currency), "Record" (POST /batches/{name}/purchases; a
// line it covers has its orders marked bought by the server), the purchases recorded with
// an undo, and for a line short of units "Resolve shortage": the pending orders with
// checkboxes (buyer, quantity, ordered at), the first ordered ticked while units last, then
// a confirmation (POST /batches/{name}/shortages with an Idempotency-Key: a double tap or a
// retry resolves once). The answer says who was kept, who was cancelled, the credit made,
// and which buyers have no email (to tell by LINE). Opened from a batch's page (batches.js).
import { api, describe } from "../api.js";
import { $, ask, h, notify } from "../dom.js";
import { dateTime, halfWidth, money } from "../format.js";
import { t } from "../i18n.js";
import { currency, fillCurrencies } from "../app.js";

const state = {
  name: null, // the batch
  list: null, // GET /batches/{name}/shopping-list (null: loading, or error)
  error: null,
  busy: false,
  shortage: null, // {key, keep: Set, idem}: the line whose shortage panel is open
  back: null, // back to the batch's page
  copy: null, // copies a buyer's LINE text (batches.js, as a notice's)
};

const path = (tail) => `/batches/${encodeURIComponent(state.name)}/${tail}`;
const keyOf = (line) => `${line.item_id}:${line.variant_id ?? ""}`;

/** Units bought and not given to an order yet: what a shortage can share out (units that
 *  went to stock are stock, not the line's). */
function freeOf(line) {
  const pendingUnits = line.pending.reduce((sum, o) => sum + o.quantity, 0);
  return Math.max(0, line.bought - (line.to_stock || 0) - (line.wanted - pendingUnits));
}

/** First ordered first while the free units last (an order that does not fit is skipped,
 *  as the server's "first_ordered" does). */
function proposal(line) {
  let room = freeOf(line);
  const keep = new Set();
  for (const o of line.pending) {
    if (o.quantity <= room) {
      keep.add(o.order_id);
      room -= o.quantity;
    }
  }
  return keep;
}

/** Whether the shopping view fills the batch page now (batches.js re-renders it then). */
export const showing = () => state.name !== null;

export function close() {
  state.name = null;
  state.shortage = null;
}

/** Again in the page's language (the list as last read). */
export function rerender() {
  render();
  renderLines();
}

export async function open(name, { back, copy } = {}) {
  Object.assign(state, { name, list: null, error: null, shortage: null, back, copy });
  render();
  $("#trip-title")?.focus({ preventScroll: true });
  window.scrollTo({ top: 0 });
  await load();
}

async function load() {
  const name = state.name;
  try {
    const list = await api.get(path("shopping-list"));
    if (state.name !== name) return;
    state.list = list;
    state.error = null;
  } catch (err) {
    state.error = err;
  }
  renderLines();
}

function render() {
  $("#batch-page").replaceChildren(
    h(
      "div",
      { class: "shop-view", id: "shopping" },
      h(
        "div",
        { class: "d-flex flex-wrap align-items-center gap-2 mb-2" },
        h("button", { class: "btn btn-outline-secondary shop-back", type: "button", onclick: () => state.back?.() }, `← ${state.name}`),
        h("h2", { class: "h5 mb-0", id: "trip-title", tabindex: "-1" }, t("shop.title", { batch: state.name })),
      ),
      h("p", { class: "small text-muted mb-2" }, t("shop.help")),
      h("div", { id: "trip-totals", class: "mb-2" }),
      h("div", { id: "trip-msg", "aria-live": "polite" }),
      h("div", { id: "trip-lines", class: "d-grid gap-3" }, h("p", { class: "text-muted" }, t("common.loading"))),
    ),
  );
}

function renderLines() {
  const box = $("#trip-lines");
  if (!box) return;
  if (state.error) {
    box.replaceChildren(h("p", { class: "text-danger" }, describe(state.error)));
    return;
  }
  const list = state.list;
  if (!list) return;
  const tot = list.totals;
  $("#trip-totals").replaceChildren(
    h("div", { class: "shop-counts" }, count(t("shop.wanted"), tot.wanted), count(t("shop.bought"), tot.bought), count(t("shop.short"), tot.short, tot.short ? "text-danger" : "")),
  );
  if (!list.lines.length) {
    box.replaceChildren(h("p", { class: "text-muted" }, t("shop.empty")));
    return;
  }
  box.replaceChildren(...list.lines.map(lineCard));
}

function count(label, n, cls = "") {
  return h("div", { class: "shop-count" }, h("div", { class: `shop-count-n ${cls}` }, String(n)), h("div", { class: "small text-muted" }, label));
}

function lineCard(line) {
  const key = keyOf(line);
  const cur = line.cost_currency || currency();
  const qty = h("input", {
    class: "form-control form-control-lg text-center shop-qty",
    name: "quantity",
    inputmode: "numeric",
    autocomplete: "off",
    value: String(line.short || 1),
    "aria-label": t("shop.qty_bought"),
  });
  const step = (d) => {
    const n = Number(halfWidth(qty.value).trim()) || 0;
    qty.value = String(Math.max(1, n + d));
  };
  const cost = h("input", {
    class: "form-control form-control-lg shop-cost",
    name: "unit_cost",
    inputmode: "decimal",
    autocomplete: "off",
    placeholder: t("shop.unit_cost"),
    value: line.unit_cost ?? "",
    "aria-label": t("shop.unit_cost"),
  });
  const curSelect = h("select", { class: "form-select form-select-lg shop-currency", name: "cost_currency", "aria-label": t("field.cost_currency") });
  fillCurrencies(curSelect, cur);
  const msg = h("div", { class: "shop-line-msg", "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "d-grid gap-2 shop-buy",
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        record(line, qty.value, cost.value, curSelect.value, msg);
      },
    },
    h(
      "div",
      { class: "input-group input-group-lg" },
      h("button", { class: "btn btn-outline-secondary shop-minus", type: "button", "aria-label": t("shop.less"), onclick: () => step(-1) }, "−"),
      qty,
      h("button", { class: "btn btn-outline-secondary shop-plus", type: "button", "aria-label": t("shop.more"), onclick: () => step(1) }, "+"),
    ),
    h("div", { class: "input-group input-group-lg owner-only" }, cost, curSelect),
    h("button", { class: "btn btn-primary btn-lg shop-record", type: "submit" }, t("shop.record")),
  );
  // The item's small photo as the form and the buyer page show it (none: no image at all).
  const photo = line.photo_url
    ? h("img", { class: "shop-photo rounded flex-shrink-0", src: line.photo_url, alt: "", width: "48", height: "48", loading: "lazy", decoding: "async" })
    : null;
  const title = [
    photo,
    h("span", { class: "shop-item-name" }, line.item_name, line.variant_label ? h("span", { class: "badge text-bg-light border ms-2 shop-variant" }, line.variant_label) : null),
  ];
  // Units beyond the line's orders went into the item's stock (a tracked stock only).
  const stocked = line.to_stock ? h("p", { class: "mb-2 fw-semibold text-success shop-to-stock" }, t("shop.to_stock", { n: line.to_stock })) : null;
  const free = freeOf(line);
  return h(
    "section",
    { class: `card card-body shop-line ${line.short ? "shop-line-short" : "shop-line-done"}`, dataset: { key, item: line.item_id, variant: line.variant_id ?? "" } },
    h("h3", { class: "h6 mb-2 shop-item d-flex align-items-center gap-2" }, ...title),
    h(
      "div",
      { class: "shop-counts mb-2" },
      count(t("shop.wanted"), line.wanted),
      count(t("shop.bought"), line.bought),
      count(t("shop.short"), line.short, line.short ? "text-danger" : ""),
    ),
    stocked,
    msg,
    line.pending.length ? form : h("p", { class: "text-success mb-2 shop-all-bought" }, `✓ ${t("shop.all_bought")}`),
    line.purchases.length ? purchases(line) : null,
    line.short && line.pending.length
      ? h(
          "button",
          { class: "btn btn-outline-danger btn-lg mt-2 shop-shortage-open", type: "button", onclick: () => openShortage(line) },
          t("shop.resolve", { free }),
        )
      : null,
    state.shortage?.key === key ? shortagePanel(line) : null,
  );
}

function purchases(line) {
  return h(
    "details",
    { class: "mt-2 shop-purchases" },
    h("summary", {}, t("shop.purchases", { n: line.purchases.length })),
    h(
      "ul",
      { class: "list-unstyled mb-0" },
      ...line.purchases.map((p) =>
        h(
          "li",
          { class: "d-flex align-items-center gap-2 py-1" },
          h(
            "span",
            { class: "me-auto" },
            `×${p.quantity}`,
            p.unit_cost !== null && p.unit_cost !== undefined ? ` · ${money(p.unit_cost, p.cost_currency)}` : "",
            p.to_stock ? ` · ${t("shop.to_stock", { n: p.to_stock })}` : "",
            ` · ${dateTime(p.at)}`,
          ),
          h("button", { class: "btn btn-sm btn-outline-secondary shop-undo", type: "button", onclick: () => undo(line, p) }, t("shop.undo")),
        ),
      ),
    ),
  );
}

async function record(line, qtyText, costText, cur, msg) {
  if (state.busy) return;
  const q = halfWidth(qtyText).trim();
  if (!/^\d+$/.test(q) || Number(q) < 1) {
    notify(msg, "danger", t("shop.bad_qty"));
    return;
  }
  const body = { item_id: line.item_id, quantity: Number(q) };
  if (line.variant_id) body.variant_id = line.variant_id;
  if (halfWidth(costText).trim()) Object.assign(body, { unit_cost: costText.trim(), cost_currency: cur });
  state.busy = true;
  try {
    const out = await api.post(path("purchases"), body);
    await load();
    const after = $(`#trip-lines [data-key="${CSS.escape(keyOf(line))}"] .shop-line-msg`);
    if (after) notify(after, "success", out.purchased.length ? t("shop.now_bought", { n: out.purchased.length }) : t("shop.recorded", { n: body.quantity }));
  } catch (err) {
    if (err.status !== 401) notify(msg, "danger", describe(err));
  } finally {
    state.busy = false;
  }
}

async function undo(line, p) {
  if (!(await ask(t("shop.undo_ask", { n: p.quantity, item: line.item_name }), t("shop.undo"), t("common.cancel")))) return;
  try {
    await api.del(path(`purchases/${p.id}`));
    await load();
  } catch (err) {
    if (err.status !== 401) notify($("#trip-msg"), "danger", describe(err));
  }
}

// --- a shortage --------------------------------------------------------------------------------

function openShortage(line) {
  // One key per opening: a double tap or a retry after a lost answer resolves once.
  state.shortage = { key: keyOf(line), keep: proposal(line), idem: crypto.randomUUID() };
  renderLines();
  $(`#trip-lines [data-key="${CSS.escape(keyOf(line))}"] .shop-shortage`)?.scrollIntoView({ block: "nearest" });
}

function shortagePanel(line) {
  const s = state.shortage;
  const free = freeOf(line);
  const kept = () => line.pending.filter((o) => s.keep.has(o.order_id)).reduce((sum, o) => sum + o.quantity, 0);
  const sum = h("p", { class: "mb-2 shop-keep-sum" });
  const confirm = h("button", { class: "btn btn-danger btn-lg shop-shortage-confirm", type: "button", onclick: () => resolve(line) }, t("shop.confirm"));
  const refresh = () => {
    const n = kept();
    sum.textContent = t("shop.keep_sum", { kept: n, free });
    sum.className = `mb-2 shop-keep-sum ${n > free ? "text-danger" : ""}`;
    confirm.disabled = n > free;
  };
  const rows = line.pending.map((o) => {
    const box = h("input", {
      class: "form-check-input shop-keep",
      type: "checkbox",
      id: `keep-${o.order_id}`,
      value: o.order_id,
      checked: s.keep.has(o.order_id),
      onchange: (e) => {
        if (e.target.checked) s.keep.add(o.order_id);
        else s.keep.delete(o.order_id);
        refresh();
      },
    });
    return h(
      "li",
      { class: "form-check shop-keep-row py-2 border-bottom", dataset: { order: o.order_id } },
      box,
      h(
        "label",
        { class: "form-check-label d-flex flex-wrap gap-2 w-100", for: `keep-${o.order_id}` },
        h("span", { class: "fw-semibold me-auto shop-keep-buyer" }, o.buyer_name),
        h("span", {}, `×${o.quantity}`),
        h("span", { class: "small text-muted w-100" }, t("shop.ordered_at", { no: o.order_no, at: dateTime(o.created_at) })),
      ),
    );
  });
  refresh();
  return h(
    "div",
    { class: "shop-shortage mt-3 border-top pt-2" },
    h("h4", { class: "h6" }, t("shop.shortage_title")),
    h("p", { class: "small text-muted" }, t("shop.shortage_help")),
    h("ul", { class: "list-unstyled mb-2" }, ...rows),
    sum,
    h(
      "div",
      { class: "d-grid gap-2" },
      confirm,
      h("button", { class: "btn btn-outline-secondary btn-lg shop-shortage-cancel", type: "button", onclick: () => ((state.shortage = null), renderLines()) }, t("common.cancel")),
    ),
  );
}

async function resolve(line) {
  const s = state.shortage;
  if (!s || state.busy) return;
  const keepIds = line.pending.filter((o) => s.keep.has(o.order_id)).map((o) => o.order_id);
  const dropped = line.pending.filter((o) => !s.keep.has(o.order_id));
  const names = dropped.map((o) => o.buyer_name).join(t("common.list_sep"));
  if (!(await ask(t("shop.confirm_ask", { n: dropped.length, names: names || "—" }), t("shop.confirm"), t("common.cancel")))) return;
  const body = { item_id: line.item_id, keep: keepIds };
  if (line.variant_id) body.variant_id = line.variant_id;
  state.busy = true;
  try {
    const out = await api.post(path("shortages"), body, { headers: { "Idempotency-Key": s.idem } });
    state.shortage = null;
    await load();
    showOutcome(out);
  } catch (err) {
    if (err.status !== 401) notify($("#trip-msg"), "danger", describe(err));
  } finally {
    state.busy = false;
  }
}

function showOutcome(out) {
  const cur = currency();
  const byLine = out.cancelled.filter((c) => !c.emailed);
  notify(
    $("#trip-msg"),
    "success",
    h("div", { class: "shop-outcome" },
      h("p", { class: "mb-1" }, t("shop.kept", { list: out.kept.map((k) => k.buyer_name).join(t("common.list_sep")) || "—" })),
      h("p", { class: "mb-1" }, t("shop.cancelled", { list: out.cancelled.map((c) => c.buyer_name).join(t("common.list_sep")) || "—" })),
      out.credit ? h("p", { class: "mb-1 shop-credit" }, t("shop.credit", { amount: money(out.credit, cur) })) : null,
      byLine.length ? h("p", { class: "mb-0 shop-tell-line" }, t("shop.tell_by_line", { list: byLine.map((c) => c.buyer_name).join(t("common.list_sep")) })) : null,
      out.failed.length ? h("p", { class: "mb-0 text-danger" }, t("shop.failed", { n: out.failed.length })) : null,
      ...out.cancelled.filter((c) => c.line_text).map(lineTextRow),
    ),
  );
}

/** A cancelled buyer's LINE text to copy (every one: an emailed buyer may read LINE first). */
function lineTextRow(c) {
  const r = { name: c.buyer_name, line_text: c.line_text };
  const box = h("div", {});
  return h(
    "div",
    { class: "shop-line-text mt-2", dataset: { order: c.order_id } },
    h(
      "div",
      { class: "d-flex align-items-center gap-2" },
      h("strong", { class: "me-auto" }, c.buyer_name),
      c.emailed ? h("span", { class: "badge text-bg-success" }, t("notice.emailed")) : h("span", { class: "badge text-bg-light border" }, t("notice.line_only")),
      h(
        "button",
        { class: "btn btn-outline-primary shop-copy", type: "button", "aria-label": t("notice.copy_for", { name: c.buyer_name }), onclick: () => state.copy?.(r, box, `shop-text-${c.order_id}`) },
        t("notice.copy"),
      ),
    ),
    box,
  );
}
