// The reports tab: what each buyer owes (a click opens their orders; "record payment" and
// "copy message", a ready LINE message in the shop's language with what is owed, the
// payment instructions and a new tracking link), the purchase list (both follow the batch
// filter) and the monthly chart; each downloadable as CSV. Profit (issue 14): per batch or per
// month, a bar chart of revenue, cost and profit and a table with the margin; its counts of
// orders without a cost or a rate open those orders.
import { ApiError, api, describe, download } from "../api.js";
import { $, $$, ask, h, messageRow, spinnerRow } from "../dom.js";
import { money, month, percent } from "../format.js";
import { labelled, lang, locale, t } from "../i18n.js";
import { buyerContact, currency, flash, isStaff, itemText, nav } from "../app.js";
import { copyMessageButton } from "./buyer-message.js";
import { closeCharges, openCharges } from "./charges.js";
import { thumbOf } from "./item-photos.js";

const BUYER_COLS = 9;

const state = { buyers: null, items: null, monthly: null, profit: null };
const PROFIT_COLS = 9;
const batch = () => $("#rep-batch").value.trim();

export async function load() {
  const year = $("#rep-year");
  if (!year.options.length) {
    const now = new Date().getFullYear();
    year.replaceChildren(...[now, now - 1, now - 2].map((y) => h("option", { value: String(y) }, String(y))));
  }
  await Promise.all([loadBuyers(), loadItems(), loadMonthly(), loadProfit()]);
}

export function render() {
  renderBuyers();
  renderItems();
  renderMonthly();
  renderProfit();
}

export function reset() {
  state.buyers = state.items = state.monthly = state.profit = null;
  $("#rep-message").replaceChildren();
  closeCharges(); // a panel of the last seller's buyer
}

/** A failed report shows its message in place of the rows. */
function failed(body, cols, err) {
  body.replaceChildren(messageRow(cols, describe(err), "text-danger"));
}

async function loadBuyers() {
  $("#rep-buyers tbody").replaceChildren(spinnerRow(BUYER_COLS, t("common.loading")));
  $("#rep-buyers tfoot").replaceChildren();
  try {
    state.buyers = await api.get("/reports/buyers", { batch: batch() });
    renderBuyers();
  } catch (err) {
    failed($("#rep-buyers tbody"), BUYER_COLS, err);
  }
}

function renderBuyers() {
  if (!state.buyers) return;
  const body = $("#rep-buyers tbody");
  const cur = currency();
  const row = (r, label, cls = "", actions = null) =>
    h(
      "tr",
      { class: `${cls} ${Number(r.outstanding_amount) > 0 ? "outstanding" : ""}`, dataset: { customerId: r.customer_id || "" } },
      h("td", { "data-label": t("order.buyer") }, label),
      h("td", { class: "text-end", "data-label": t("rep.orders") }, String(r.order_count ?? "")),
      h("td", { class: "text-end", "data-label": t("rep.total") }, money(r.total_amount, cur)),
      h("td", { class: "text-end", "data-label": t("rep.remitted") }, money(r.remitted_amount, cur)),
      h("td", { class: "text-end outstanding-amount", "data-label": t("rep.outstanding") }, money(r.outstanding_amount, cur)),
      h("td", { class: "text-end credit-amount", "data-label": t("rep.credit") }, money(r.credit_amount ?? 0, cur), actions ? useCreditButton(r) : null),
      h("td", { class: "text-end", "data-label": t("rep.shipped") }, String(r.shipped_count ?? "")),
      h("td", { class: "text-end", "data-label": t("rep.unshipped") }, String(r.unshipped_count ?? "")),
      h("td", { class: "cell-actions text-end" }, actions),
    );
  const actions = (r) =>
    h(
      "div",
      { class: "d-flex flex-wrap gap-1 justify-content-end" },
      h(
        "button",
        {
          class: "btn btn-sm btn-outline-primary rep-record",
          type: "button",
          "aria-label": t("rep.record_for", { name: r.name }),
          onclick: () => nav.go("payments", { record_for: r.customer_id, name: r.name }),
        },
        t("rep.record"),
      ),
      h(
        "button",
        {
          class: "btn btn-sm btn-outline-secondary charges-open",
          type: "button",
          "aria-label": t("charge.open_label", { name: r.name }),
          onclick: () => openCharges(chargesBox(), r, { onChange: loadBuyers }),
        },
        t("charge.open"),
      ),
      copyMessageButton(r, $("#rep-message"), "rep-message-text", "rep-message"),
    );
  const buyerLink = (r) =>
    h(
      "span",
      {},
      h(
        "a",
        {
          href: `?tab=orders&customer_id=${encodeURIComponent(r.customer_id)}`,
          class: "buyer-orders",
          title: t("rep.open_orders"),
          onclick: (ev) => {
            ev.preventDefault();
            nav.go("orders", { customer_id: r.customer_id, batch_prefix: batch() });
          },
        },
        r.name,
      ),
      h("small", { class: "d-block text-muted buyer-contact" }, buyerContact(r.customer_id, r)),
    );
  const rows = state.buyers.rows || [];
  body.replaceChildren(...rows.map((r) => row(r, buyerLink(r), "", actions(r))));
  $("#rep-buyers tfoot").replaceChildren();
  if (!rows.length) body.replaceChildren(messageRow(BUYER_COLS, t("rep.empty")));
  else if (state.buyers.totals) $("#rep-buyers tfoot").replaceChildren(row(state.buyers.totals, t("rep.totals"), "fw-semibold"));
}

/** Credit and debts on one row: automatic credit passed those debts over (orders from a form
 *  in the buyer's name), so the seller may spend it on them, all open ones oldest first. */
function useCreditButton(r) {
  const credit = Number(r.credit_amount || 0);
  if (!(credit > 0 && Number(r.outstanding_amount) > 0) || !r.customer_id) return null;
  const cur = currency();
  return h(
    "button",
    {
      class: "btn btn-sm btn-outline-primary d-block ms-auto mt-1 use-credit-all",
      type: "button",
      "aria-label": t("held.use_all_label", { name: r.name }),
      onclick: async (ev) => {
        const btn = ev.currentTarget;
        if (!(await ask(t("held.use_all_ask", { name: r.name, amount: money(credit, cur) }), t("held.use_all_yes"), t("held.use_all_no"), { danger: false }))) return;
        btn.disabled = true;
        try {
          const got = await api.post("/payments/use-credit", { customer_id: r.customer_id });
          const what = { name: r.name, used: money(got.used, cur), left: money(got.credit, cur) };
          flash(Number(got.used) > 0 ? "success" : "info", Number(got.used) > 0 ? t("held.used_all", what) : t("held.none_used"));
          await loadBuyers();
        } catch (err) {
          btn.disabled = false;
          if (err.status !== 401) flash("danger", describe(err));
        }
      },
    },
    t("held.use_all"),
  );
}

/** The charges panel of a buyer of the report, under it (made on first use). */
function chargesBox() {
  let box = $("#rep-charges");
  if (!box) {
    box = h("div", { id: "rep-charges", class: "mt-2" });
    $("#rep-message").after(box);
  }
  return box;
}

async function loadItems() {
  $("#rep-items tbody").replaceChildren(spinnerRow(3, t("common.loading")));
  try {
    state.items = { ...(await api.get("/reports/items", { batch: batch() })), batch: batch() };
    renderItems();
  } catch (err) {
    failed($("#rep-items tbody"), 3, err);
  }
}

function renderItems() {
  if (!state.items) return;
  $("#rep-items-batch").textContent = state.items.batch ? t("rep.for_batch", { batch: state.items.batch }) : "";
  const body = $("#rep-items tbody");
  const rows = state.items.rows || [];
  body.replaceChildren(
    ...rows.map((r) =>
      h(
        "tr",
        {},
        h("td", { "data-label": t("item.name") }, h("span", {}, thumbOf(null, r.item_name), itemText(r))),
        h("td", { class: "text-end", "data-label": t("rep.quantity") }, String(r.quantity ?? "")),
        h("td", { class: "text-end", "data-label": t("rep.pending") }, String(r.order_count ?? "")),
      ),
    ),
  );
  if (!rows.length) body.replaceChildren(messageRow(3, t("rep.empty")));
}

let chartLib = null;
let chart = null;

/** Chart.js is loaded only when the reports tab is opened: it is not part of first load. */
function loadChartJs() {
  chartLib ||= new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = new URL("../../vendor/chart.umd.min.js", import.meta.url).href;
    s.onload = () => resolve(window.Chart);
    s.onerror = () => {
      chartLib = null;
      reject(new ApiError(0, "network", t("err.network")));
    };
    document.head.append(s);
  });
  return chartLib;
}

async function loadMonthly() {
  const msg = $("#rep-monthly-msg");
  msg.replaceChildren(h("div", { class: "text-muted small" }, t("common.loading")));
  try {
    const [out] = await Promise.all([api.get("/reports/monthly", { year: $("#rep-year").value }), loadChartJs()]);
    state.monthly = out;
    renderMonthly();
  } catch (err) {
    msg.replaceChildren(h("div", { class: "text-danger" }, describe(err)));
  }
}

function renderMonthly() {
  if (!state.monthly || !window.Chart) return;
  const rows = state.monthly.rows || [];
  $("#rep-monthly-msg").replaceChildren(rows.length ? "" : h("div", { class: "text-muted small" }, t("rep.empty")));
  const data = {
    labels: rows.map((r) => month(r.month)),
    datasets: [
      { label: t("rep.total"), data: rows.map((r) => r.total_amount), backgroundColor: "#0d6efd" },
      { label: t("rep.remitted"), data: rows.map((r) => r.remitted_amount), backgroundColor: "#198754" },
    ],
  };
  chart?.destroy();
  chart = new window.Chart($("#rep-monthly"), {
    type: "bar",
    data,
    options: {
      maintainAspectRatio: false,
      animation: false,
      plugins: { tooltip: { callbacks: { label: (c) => labelled(c.dataset.label, money(c.parsed.y, currency())) } } },
    },
  });
  $("#rep-monthly").setAttribute("aria-label", t("rep.monthly"));
}

// --- profit (issue 14) -------------------------------------------------------------------------

let profitChart = null;
const profitBy = () => $("[name=rep-profit-by]:checked")?.value || "batch";
const profitRange = () => ({ from: $("#rep-profit-from").value || undefined, to: $("#rep-profit-to").value || undefined });

async function loadProfit() {
  if (isStaff()) return; // the owner's (the box is hidden; the API answers staff 403)
  const msg = $("#rep-profit-msg");
  msg.replaceChildren(h("div", { class: "text-muted small" }, t("common.loading")));
  $("#rep-profit tbody").replaceChildren(spinnerRow(PROFIT_COLS, t("common.loading")));
  $("#rep-profit tfoot").replaceChildren();
  try {
    const [out] = await Promise.all([api.get("/reports/profit", profitRange()), loadChartJs()]);
    state.profit = out;
    renderProfit();
  } catch (err) {
    msg.replaceChildren(h("div", { class: "text-danger" }, describe(err)));
    failed($("#rep-profit tbody"), PROFIT_COLS, err);
  }
}

/** "2026-12" → "Dec 2026" / "2026年12月". */
function monthYear(value) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(value));
  if (!m) return month(value);
  return new Intl.DateTimeFormat(locale(), { year: "numeric", month: "short", timeZone: "UTC" }).format(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}

/** A row's name: the batch ("no batch" for orders in none) or the month. */
function profitKey(r) {
  if (r.month) return monthYear(r.month);
  return r.batch === null || r.batch === undefined ? t("profit.no_batch") : r.batch;
}

/** The orders behind a row: the batch's, or the month's (its first to its last day). */
function profitOrders(r) {
  if (r.batch) return { batch_prefix: r.batch };
  const m = /^(\d{4})-(\d{2})$/.exec(String(r.month || ""));
  if (!m) return null;
  const last = new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
  return { from: `${r.month}-01`, to: `${r.month}-${String(last).padStart(2, "0")}` };
}

/** "2 without cost · 1 without a rate": buttons that open those orders (text for totals). */
function missingCell(r, linked) {
  const parts = [];
  const target = linked ? profitOrders(r) : null;
  const label = profitKey(r);
  for (const [count, key, cls] of [
    [r.missing_cost_count, "profit.missing_cost", "profit-missing-cost"],
    [r.missing_rate_count, "profit.missing_rate", "profit-missing-rate"],
  ]) {
    if (!count) continue;
    const text = t(key, { n: count });
    parts.push(
      target
        ? h(
            "button",
            { class: `btn btn-sm btn-outline-warning text-warning-emphasis ${cls}`, type: "button", "aria-label": labelled(label, text), title: t("profit.open_orders"), onclick: () => nav.go("orders", target) },
            text,
          )
        : h("span", { class: `badge text-bg-warning ${cls}` }, text),
    );
  }
  return h("div", { class: "d-flex flex-wrap gap-1 profit-missing" }, parts.length ? parts : h("span", { class: "text-muted small" }, "—"));
}

/** The chart reads as a timeline, oldest to newest left to right. The table lists batches
 *  newest first (the server's order) and months oldest first; "no batch" stays last. */
function chartOrder(rows, by) {
  if (by === "month") return [...rows].sort((a, b) => String(a.month).localeCompare(String(b.month)));
  const named = rows.filter((r) => r.batch !== null && r.batch !== undefined).reverse();
  return [...named, ...rows.filter((r) => r.batch === null || r.batch === undefined)];
}

function renderProfit() {
  const by = profitBy();
  $("#rep-profit-key").textContent = t(by === "month" ? "rep.month" : "order.batch");
  if (!state.profit || !window.Chart) return;
  const cur = currency();
  const rows = (by === "month" ? state.profit.by_month : state.profit.by_batch) || [];
  const known = (v) => (v === null || v === undefined ? "—" : money(v, cur));
  const row = (r, label, cls = "", linked = true) =>
    h(
      "tr",
      { class: cls, dataset: { key: r.batch ?? r.month ?? "" } },
      h(
        "td",
        { "data-label": t(by === "month" ? "rep.month" : "order.batch"), class: "profit-key" },
        linked && r.batch
          ? h(
              "a",
              {
                href: "?tab=batches",
                class: "batch-link",
                title: t("profit.open_batch"),
                onclick: (ev) => {
                  ev.preventDefault();
                  nav.go("batches", { open: r.batch });
                },
              },
              label,
            )
          : label,
      ),
      h("td", { class: "text-end", "data-label": t("rep.orders") }, String(r.order_count ?? 0)),
      h("td", { class: "text-end text-nowrap", "data-label": t("profit.revenue") }, known(r.revenue)),
      h("td", { class: "text-end text-nowrap", "data-label": t("profit.cost") }, known(r.cost)),
      h("td", { class: "text-end text-nowrap", "data-label": t("profit.shipping_fees") }, known(r.shipping_fees)),
      h("td", { class: "text-end text-nowrap profit-shipping-cost", "data-label": t("profit.shipping_cost") }, known(r.shipping_cost ?? 0)),
      h("td", { class: `text-end text-nowrap profit-amount ${Number(r.profit) < 0 ? "text-danger" : ""}`, "data-label": t("profit.profit") }, r.costed_count ? known(r.profit) : "—"),
      h("td", { class: "text-end profit-margin", "data-label": t("profit.margin") }, r.margin === null || r.margin === undefined ? "—" : percent(r.margin)),
      h("td", { "data-label": t("profit.missing") }, missingCell(r, linked)),
    );
  const body = $("#rep-profit tbody");
  body.replaceChildren(...rows.map((r) => row(r, profitKey(r))));
  $("#rep-profit tfoot").replaceChildren();
  if (!rows.length) body.replaceChildren(messageRow(PROFIT_COLS, t("rep.empty")));
  else if (state.profit.totals) $("#rep-profit tfoot").replaceChildren(row(state.profit.totals, t("rep.totals"), "fw-semibold", false));
  $("#rep-profit-msg").replaceChildren(rows.length ? "" : h("div", { class: "text-muted small" }, t("rep.empty")));
  const money0 = (v) => (v === null || v === undefined ? null : Number(v));
  const bars = chartOrder(rows, by);
  const data = {
    labels: bars.map(profitKey),
    datasets: [
      { label: t("profit.revenue"), data: bars.map((r) => money0(r.revenue)), backgroundColor: "#0d6efd", maxBarThickness: 56 },
      { label: t("profit.cost"), data: bars.map((r) => money0(r.cost)), backgroundColor: "#fd7e14", maxBarThickness: 56 },
      { label: t("profit.profit"), data: bars.map((r) => (r.costed_count ? money0(r.profit) : null)), backgroundColor: "#198754", maxBarThickness: 56 },
    ],
  };
  profitChart?.destroy();
  profitChart = new window.Chart($("#rep-profit-chart"), {
    type: "bar",
    data,
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { ticks: { autoSkip: false, maxRotation: 45 } } },
      plugins: { tooltip: { callbacks: { label: (c) => labelled(c.dataset.label, money(c.parsed.y, cur)) } } },
    },
  });
  $("#rep-profit-chart").setAttribute("aria-label", t(by === "month" ? "profit.chart_month" : "profit.chart_batch"));
}

/** "buyers-2026-12_Tokyo.csv": the report's name, and the batch when one is chosen. */
export function csvName(report, batchName, year) {
  const safe = (s) => s.replace(/[\\/:*?"<>|\s]+/g, "_").replace(/^_+|_+$/g, "");
  const parts = [report];
  if (batchName) parts.push(safe(batchName));
  if (year) parts.push(year);
  return `${parts.join("-")}.csv`;
}

export function bind() {
  let timer;
  $("#rep-batch").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => Promise.all([loadBuyers(), loadItems()]), 300);
  });
  $("#rep-year").addEventListener("change", loadMonthly);
  for (const radio of $$("[name=rep-profit-by]")) radio.addEventListener("change", renderProfit);
  for (const id of ["#rep-profit-from", "#rep-profit-to"]) $(id).addEventListener("change", loadProfit);
  for (const btn of $$("[data-profit-csv]")) {
    btn.addEventListener("click", async () => {
      const by = btn.dataset.profitCsv;
      const query = { format: "csv", by, headers: lang() === "en" ? "en" : "zh", ...profitRange() };
      try {
        await download("/reports/profit", query, csvName(`profit-${by}`, null, [query.from, query.to].filter(Boolean).join("_")));
      } catch (err) {
        if (err.status !== 401) flash("danger", describe(err));
      }
    });
  }
  for (const btn of $$("[data-csv]")) {
    btn.addEventListener("click", async () => {
      const path = btn.dataset.csv;
      const report = path.split("/").pop();
      const query = { format: "csv", headers: lang() === "en" ? "en" : "zh" };
      if (report !== "monthly") query.batch = batch();
      if (report === "monthly") query.year = $("#rep-year").value;
      try {
        await download(path, query, csvName(report, query.batch, query.year));
      } catch (err) {
        if (err.status !== 401) flash("danger", describe(err));
      }
    });
  }
}
