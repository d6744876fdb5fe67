// The reports tab: what each buyer owes (a click opens their orders; "record payment" and
// "copy message", a ready LINE message in the shop's language with what is owed, the
// payment instructions and a new tracking link), the purchase list (both follow the batch
// filter) and the monthly chart; each downloadable as CSV.
import { ApiError, api, describe, download } from "../api.js";
import { $, $$, ask, h, messageRow, notify, spinnerRow } from "../dom.js";
import { money, month } from "../format.js";
import { lang, t, tIn } from "../i18n.js";
import { currency, flash, nav, shop } from "../app.js";

const BUYER_COLS = 9;

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
  $("#rep-message").replaceChildren();
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
      h("td", { class: "text-end credit-amount", "data-label": t("rep.credit") }, money(r.credit_amount ?? 0, cur)),
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
        { class: "btn btn-sm btn-outline-secondary rep-message", type: "button", "aria-label": t("rep.copy_msg_for", { name: r.name }), onclick: () => copyMessage(r) },
        t("rep.copy_msg"),
      ),
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
  body.replaceChildren(...rows.map((r) => row(r, buyerLink(r), "", actions(r))));
  $("#rep-buyers tfoot").replaceChildren();
  if (!rows.length) body.replaceChildren(messageRow(BUYER_COLS, t("rep.empty")));
  else if (state.buyers.totals) $("#rep-buyers tfoot").replaceChildren(row(state.buyers.totals, t("rep.totals"), "fw-semibold"));
}

/** The LINE message for buyer `r`: what they owe on which orders, how to pay, their link. */
export function paymentMessage({ language, name, owed, orderNos, instructions, url }) {
  const cur = currency();
  const sep = tIn(language, "msg.sep");
  const parts = [
    owed > 0
      ? tIn(language, "msg.due", { name, amount: money(owed, cur), orders: orderNos.map((n) => `#${n}`).join(sep) })
      : tIn(language, "msg.nothing", { name }),
  ];
  if (instructions) parts.push(tIn(language, "msg.instructions", { text: instructions }));
  if (url) parts.push(tIn(language, "msg.link", { url }));
  return parts.join("");
}

/** "Copy message": asks first (a new tracking link retires the one the buyer has), then
 *  shows the message in a box (readonly, to select by hand) and copies it. */
async function copyMessage(r) {
  const box = $("#rep-message");
  const ok = await ask(t("rep.msg_confirm", { name: r.name }), t("rep.msg_yes"), t("confirm.back"), { danger: false });
  if (!ok) return;
  box.replaceChildren(h("div", { class: "text-muted small my-2" }, h("span", { class: "spinner-border spinner-border-sm me-2", role: "status" }), t("common.loading")));
  try {
    const query = (status) => api.get("/orders", { customer_id: r.customer_id, payment_status: status, sort: "order_no", limit: 200 });
    const [unpaid, partial, link, me] = await Promise.all([
      query("unpaid"),
      query("partial"),
      api.post(`/customers/${r.customer_id}/tracking-link`, undefined),
      api.get("/auth/me"),
    ]);
    shop.seller = me;
    const orders = [...unpaid.items, ...partial.items].filter((o) => Number(o.balance) > 0).sort((a, b) => a.order_no - b.order_no);
    const owedCents = orders.reduce((sum, o) => sum + Math.round(Number(o.balance) * 100), 0);
    const text = paymentMessage({
      language: me.language || lang(),
      name: r.name,
      owed: owedCents / 100,
      orderNos: orders.map((o) => o.order_no),
      instructions: (me.payment_instructions || "").trim(),
      url: link.url,
    });
    const area = h("textarea", { class: "form-control", id: "rep-message-text", readonly: true, rows: "5" });
    area.value = text;
    const status = h("div", { class: "small mt-1", role: "status" });
    const alert = notify(
      box,
      "info",
      h("label", { class: "form-label fw-semibold mb-1 w-100", for: "rep-message-text" }, t("rep.msg_title", { name: r.name })),
      area,
      status,
    );
    alert.classList.add("mt-2");
    alert.firstElementChild.classList.add("flex-grow-1");
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = t("rep.msg_copied");
    } catch {
      status.textContent = t("rep.msg_copy_failed");
      area.focus({ preventScroll: true });
      area.select();
    }
    alert.scrollIntoView({ block: "nearest" }); // below the buyers: on a phone, off screen
  } catch (err) {
    if (err.status !== 401) notify(box, "danger", describe(err));
  }
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
