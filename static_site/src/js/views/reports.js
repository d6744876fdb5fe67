// The reports tab: what each buyer owes (a click opens their orders), the purchase list
// (both follow the batch filter) and the monthly chart; each downloadable as CSV.
import { ApiError, api, describe, download } from "../api.js";
import { $, $$, h, messageRow, spinnerRow } from "../dom.js";
import { money, month } from "../format.js";
import { lang, t } from "../i18n.js";
import { currency, flash, nav } from "../app.js";

const state = { buyers: null, items: null, monthly: null };
const batch = () => $("#rep-batch").value.trim();

export async function load() {
  const year = $("#rep-year");
  if (!year.options.length) {
    const now = new Date().getFullYear();
    year.replaceChildren(...[now, now - 1, now - 2].map((y) => h("option", { value: String(y) }, String(y))));
  }
  await Promise.all([loadBuyers(), loadItems(), loadMonthly()]);
}

export function render() {
  renderBuyers();
  renderItems();
  renderMonthly();
}

export function reset() {
  state.buyers = state.items = state.monthly = null;
}

/** A failed report shows its message in place of the rows. */
function failed(body, cols, err) {
  body.replaceChildren(messageRow(cols, describe(err), "text-danger"));
}

async function loadBuyers() {
  $("#rep-buyers tbody").replaceChildren(spinnerRow(7, t("common.loading")));
  $("#rep-buyers tfoot").replaceChildren();
  try {
    state.buyers = await api.get("/reports/buyers", { batch: batch() });
    renderBuyers();
  } catch (err) {
    failed($("#rep-buyers tbody"), 7, err);
  }
}

function renderBuyers() {
  if (!state.buyers) return;
  const body = $("#rep-buyers tbody");
  const cur = currency();
  const row = (r, label, cls = "") =>
    h(
      "tr",
      { class: `${cls} ${Number(r.outstanding_amount) > 0 ? "outstanding" : ""}`, dataset: { customerId: r.customer_id || "" } },
      h("td", { "data-label": t("order.buyer") }, label),
      h("td", { class: "text-end", "data-label": t("rep.orders") }, String(r.order_count ?? "")),
      h("td", { class: "text-end", "data-label": t("rep.total") }, money(r.total_amount, cur)),
      h("td", { class: "text-end", "data-label": t("rep.remitted") }, money(r.remitted_amount, cur)),
      h("td", { class: "text-end outstanding-amount", "data-label": t("rep.outstanding") }, money(r.outstanding_amount, cur)),
      h("td", { class: "text-end", "data-label": t("rep.shipped") }, String(r.shipped_count ?? "")),
      h("td", { class: "text-end", "data-label": t("rep.unshipped") }, String(r.unshipped_count ?? "")),
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
      h("small", { class: "d-block text-muted" }, r.email),
    );
  const rows = state.buyers.rows || [];
  body.replaceChildren(...rows.map((r) => row(r, buyerLink(r))));
  $("#rep-buyers tfoot").replaceChildren();
  if (!rows.length) body.replaceChildren(messageRow(7, t("rep.empty")));
  else if (state.buyers.totals) $("#rep-buyers tfoot").replaceChildren(row(state.buyers.totals, t("rep.totals"), "fw-semibold"));
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
        h("td", { "data-label": t("item.name") }, r.item_name),
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
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.parsed.y, currency())}` } } },
    },
  });
  $("#rep-monthly").setAttribute("aria-label", t("rep.monthly"));
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
