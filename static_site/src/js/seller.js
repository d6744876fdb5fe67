// The seller workspace (index.html): log in, orders, buyers, items, reports.
import { api, ApiError, clearSession, describe, download, getSeller, getToken, logout, onSessionExpired, request, setSession } from "./api.js";
import { $, $$, h, messageRow, notify, spinnerRow } from "./dom.js";
import { centsToNumber, date, money, month, parseCents } from "./format.js";
import { apply, bindSwitcher, onChange, t } from "./i18n.js";

const PAYMENT = ["unpaid", "remitted", "refunded"];
const FULFILLMENT = ["pending", "purchased", "shipped", "delivered", "cancelled"];
const LOW_STOCK = 3;
const PAGE = 100;
const DRAFTS = "drafts";
const DRAFT_FORMS = ["order-form", "customer-form", "item-form", "order-filters"];

const state = {
  seller: getSeller(),
  tab: "orders",
  orders: new Map(),
  ordersCursor: null,
  selected: new Set(),
  customers: [],
  customersCursor: null,
  items: [],
  itemsCursor: null,
  links: new Map(),
  firstRender: null,
};

const currency = () => state.seller?.currency || "TWD";
const flash = (kind, ...content) => notify($("#flash"), kind, ...content);
const fail = (box, err) => notify(box, "danger", describe(err));

function formData(form) {
  const data = {};
  for (const el of form.elements) {
    if (!el.name || el.type === "file") continue;
    // Passwords go exactly as typed: a space is part of a password.
    data[el.name] = el.type === "checkbox" ? el.checked : el.type === "password" ? el.value : el.value.trim();
  }
  return data;
}

/** Drop empty optional fields; the API treats a missing field as "not given". */
function compact(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== "" && v !== undefined && v !== null));
}

function moneyField(form, name, box) {
  const cents = parseCents(form.elements[name].value);
  if (cents === null) {
    form.elements[name].classList.add("is-invalid");
    notify(box, "danger", `${t(`order.${name}`) || name}: ${t("err.invalid_money")}`);
    return null;
  }
  form.elements[name].classList.remove("is-invalid");
  return cents;
}

// --- session --------------------------------------------------------------------------

function saveDrafts() {
  const drafts = { tab: state.tab };
  for (const id of DRAFT_FORMS) drafts[id] = formData(document.getElementById(id));
  sessionStorage.setItem(DRAFTS, JSON.stringify(drafts));
}

function restoreDrafts() {
  const raw = sessionStorage.getItem(DRAFTS);
  if (!raw) return;
  sessionStorage.removeItem(DRAFTS);
  const drafts = JSON.parse(raw);
  for (const id of DRAFT_FORMS) {
    const form = document.getElementById(id);
    for (const [name, value] of Object.entries(drafts[id] || {})) {
      const el = form.elements[name];
      if (!el || el.type === "hidden") continue;
      if (el.type === "checkbox") el.checked = value;
      else el.value = value;
    }
  }
  if (Object.values(drafts["order-form"] || {}).some((v) => v && v !== "1" && v !== "0")) $("#new-order-box").open = true;
  if (drafts.tab) state.tab = drafts.tab;
}

const AUTH_FORMS = ["login-form", "signup-form", "forgot-form", "reset-form"];

function showAuthForm(id) {
  for (const form of AUTH_FORMS) $(`#${form}`).classList.toggle("d-none", form !== id);
}

function showAuth(message, kind = "warning") {
  showAuthForm(resetToken() ? "reset-form" : "login-form");
  $("#boot").classList.add("d-none");
  $("#app-view").classList.add("d-none");
  $("#logout").classList.add("d-none");
  $("#auth-view").classList.remove("d-none");
  $("#brand").textContent = t("app.title");
  if (message) notify($("#auth-msg"), kind, message);
  else $("#auth-msg").replaceChildren();
}

/** The emailed "choose a new password" link: index.html#reset=<token>. */
function resetToken() {
  const match = /^#reset=([A-Za-z0-9_-]+)$/.exec(location.hash);
  return match ? match[1] : null;
}

async function showApp() {
  $("#boot").classList.add("d-none");
  $("#auth-view").classList.add("d-none");
  $("#app-view").classList.remove("d-none");
  $("#logout").classList.remove("d-none");
  restoreDrafts();
  if (state.seller) $("#brand").textContent = state.seller.shop_name;
  switchTab(state.tab);
  loadPickers();
  try {
    state.seller = await api.get("/auth/me");
    setSession(null, state.seller);
    $("#brand").textContent = state.seller.shop_name;
    updateTotal();
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
}

onSessionExpired(() => {
  saveDrafts();
  clearSession();
  showAuth(t("auth.expired"));
});

async function afterAuth(out, seller) {
  clearSession();
  setSession(out.token, seller, out.refresh_token);
  state.seller = seller || null;
  state.orders.clear();
  await showApp();
}

function bindAuth() {
  for (const btn of $$("[data-show]")) {
    btn.addEventListener("click", () => {
      showAuthForm(btn.dataset.show);
      $("#auth-msg").replaceChildren();
    });
  }
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      const out = await api.post("/auth/login", formData(form), { auth: false });
      form.elements.password.value = "";
      await afterAuth(out, null);
    } catch (err) {
      fail($("#auth-msg"), err);
    } finally {
      btn.disabled = false;
    }
  });
  $("#signup-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      const out = await api.post("/auth/signup", formData(form), { auth: false });
      form.elements.password.value = "";
      await afterAuth(out, out.seller);
    } catch (err) {
      notify($("#auth-msg"), "danger", err.status === 401 ? err.message : describe(err));
    } finally {
      btn.disabled = false;
    }
  });
  $("#forgot-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      await api.post("/auth/password-reset/request", formData(form), { auth: false });
      showAuthForm("login-form");
      notify($("#auth-msg"), "info", t("auth.reset_sent"));
    } catch (err) {
      fail($("#auth-msg"), err);
    } finally {
      btn.disabled = false;
    }
  });
  $("#reset-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      const body = { token: resetToken(), ...formData(form) };
      await api.post("/auth/password-reset", body, { auth: false });
      form.reset();
      history.replaceState(null, "", location.pathname + location.search);
      clearSession();
      showAuth(t("auth.reset_done"), "success");
    } catch (err) {
      fail($("#auth-msg"), err);
      if (err.code === "invalid_reset_token") {
        history.replaceState(null, "", location.pathname + location.search);
        showAuthForm("forgot-form");
      }
    } finally {
      btn.disabled = false;
    }
  });
  $("#logout").addEventListener("click", async () => {
    await logout();
    sessionStorage.removeItem(DRAFTS);
    state.seller = null;
    for (const id of DRAFT_FORMS) document.getElementById(id).reset();
    showAuth();
  });
}

// --- tabs -----------------------------------------------------------------------------

const loaders = {
  orders: () => loadOrders(true),
  customers: () => loadCustomers(true),
  items: () => loadItems(true),
  reports: () => loadReports(),
};

function switchTab(name) {
  state.tab = name;
  for (const btn of $$("[data-tab]")) btn.classList.toggle("active", btn.dataset.tab === name);
  for (const pane of $$(".tab-pane")) pane.classList.toggle("d-none", pane.id !== `tab-${name}`);
  $("#flash").replaceChildren();
  loaders[name]();
}

// --- pickers: buyer emails, item names and batches for the new-order form ------------

async function loadPickers() {
  try {
    const [cust, its] = await Promise.all([api.get("/customers", { limit: 200 }), api.get("/items", { limit: 200 })]);
    state.customers = cust.items;
    state.items = its.items;
    fillPickers();
  } catch (err) {
    if (err.status !== 401) flash("warning", describe(err));
  }
}

function fillPickers() {
  $("#customer-emails").replaceChildren(...state.customers.map((c) => h("option", { value: c.email }, c.name)));
  $("#item-names").replaceChildren(...state.items.map((i) => h("option", { value: i.item_name }, money(i.price, currency()))));
  const buyer = $("#filter-buyer");
  const chosen = buyer.value;
  buyer.replaceChildren(h("option", { value: "" }, t("common.all")), ...state.customers.map((c) => h("option", { value: c.id }, c.name)));
  buyer.value = chosen;
}

function fillBatches() {
  const batches = new Set([...state.orders.values()].map((o) => o.batch).filter(Boolean));
  $("#batch-names").replaceChildren(...[...batches].sort().map((b) => h("option", { value: b })));
}

// --- orders ---------------------------------------------------------------------------

function statusOptions(select) {
  const [prefix, values] = select.dataset.options === "pay" ? ["pay", PAYMENT] : ["ful", FULFILLMENT];
  const chosen = select.value;
  select.replaceChildren(h("option", { value: "" }, t("common.all")), ...values.map((v) => h("option", { value: v }, t(`${prefix}.${v}`))));
  select.value = chosen;
}

function orderFilters() {
  return compact(formData($("#order-filters")));
}

async function loadOrders(reset) {
  const body = $("#orders-body");
  if (reset) {
    state.orders.clear();
    state.selected.clear();
    state.ordersCursor = null;
    body.replaceChildren(spinnerRow(11, t("common.loading")));
    updateBulk();
  }
  const filters = orderFilters();
  const started = performance.now();
  try {
    const page = await api.get("/orders", { ...filters, limit: PAGE, cursor: state.ordersCursor || undefined });
    if (reset) body.replaceChildren();
    const frag = document.createDocumentFragment();
    for (const o of page.items) {
      state.orders.set(o.id, o);
      frag.append(orderRow(o));
    }
    body.append(frag);
    state.ordersCursor = page.next_cursor;
    $("#orders-more").classList.toggle("d-none", !page.next_cursor);
    if (!state.orders.size) {
      body.replaceChildren(messageRow(11, t(Object.keys(filters).length ? "order.empty_filtered" : "order.empty")));
    }
    fillBatches();
    if (state.firstRender === null) {
      // Measured by bench/bench_frontend.py: navigation start → first page of orders on screen.
      performance.mark("orders-rendered");
      state.firstRender = { sinceNavigation: performance.now(), fetchAndRender: performance.now() - started, rows: state.orders.size };
      window.__ordersFirstRender = state.firstRender;
    }
  } catch (err) {
    if (reset) body.replaceChildren(messageRow(11, describe(err), "text-danger"));
    else flash("danger", describe(err));
  }
}

function toggle(label, checked, onchange, extra = {}) {
  return h(
    "div",
    { class: "form-check form-switch mb-0" },
    h("input", { class: "form-check-input", type: "checkbox", role: "switch", checked, onchange, "aria-label": label, ...extra }),
  );
}

function orderRow(o) {
  const cancelled = o.fulfillment_status === "cancelled";
  const shipped = o.fulfillment_status === "shipped" || o.fulfillment_status === "delivered";
  const status = h(
    "select",
    { class: "form-select form-select-sm", "aria-label": t("order.status"), name: "fulfillment_status" },
    FULFILLMENT.map((v) => h("option", { value: v, selected: v === o.fulfillment_status }, t(`ful.${v}`))),
  );
  status.addEventListener("change", () => patchOrder(o.id, { fulfillment_status: status.value }));
  const textInput = (field, label) => {
    const input = h("input", { class: "form-control form-control-sm", name: field, value: o[field] || "", "aria-label": label, size: "10" });
    input.addEventListener("change", () => patchOrder(o.id, { [field]: input.value.trim() || null }));
    return input;
  };
  return h(
    "tr",
    { dataset: { id: o.id, orderNo: String(o.order_no) }, class: cancelled ? "text-decoration-line-through text-muted" : "" },
    h(
      "td",
      {},
      h("input", {
        class: "form-check-input row-select",
        type: "checkbox",
        checked: state.selected.has(o.id),
        "aria-label": `#${o.order_no}`,
        onchange: (ev) => {
          if (ev.target.checked) state.selected.add(o.id);
          else state.selected.delete(o.id);
          updateBulk();
        },
      }),
    ),
    h("td", { "data-label": t("order.no") }, h("span", {}, `#${o.order_no}`, h("small", { class: "d-block text-muted" }, date(o.created_at)))),
    h("td", { "data-label": t("order.buyer") }, h("span", {}, o.buyer_name, h("small", { class: "d-block text-muted" }, o.buyer_email))),
    h("td", { "data-label": t("order.item") }, `${o.item_name} × ${o.quantity}`),
    h("td", { "data-label": t("order.total"), class: "text-end text-nowrap" }, money(o.total_amount, currency())),
    h("td", { "data-label": t("order.batch") }, o.batch || ""),
    h(
      "td",
      { "data-label": t("order.remitted"), class: "cell-remitted" },
      toggle(t("order.remitted"), o.payment_status === "remitted", (ev) =>
        patchOrder(o.id, { payment_status: ev.target.checked ? "remitted" : "unpaid" }),
      ),
    ),
    h(
      "td",
      { "data-label": t("order.shipped"), class: "cell-shipped" },
      h(
        "div",
        {},
        toggle(
          t("order.shipped"),
          shipped,
          (ev) => patchOrder(o.id, { fulfillment_status: ev.target.checked ? "shipped" : "purchased" }),
          { disabled: cancelled },
        ),
        h("span", { class: "shipped-date" }, o.shipped_date ? date(o.shipped_date) : ""),
      ),
    ),
    h("td", { "data-label": t("order.carrier") }, textInput("carrier", t("order.carrier"))),
    h("td", { "data-label": t("order.tracking") }, textInput("tracking_number", t("order.tracking"))),
    h("td", { "data-label": t("order.status") }, status),
  );
}

/** Bring a row in step with the server's order in place, so a field the seller is typing
 *  in (say the tracking number, while the carrier change is being saved) is left alone. */
function replaceRow(order) {
  state.orders.set(order.id, order);
  const row = $(`#orders-body tr[data-id="${order.id}"]`);
  if (!row) return;
  const fresh = orderRow(order);
  row.className = fresh.className;
  row.classList.remove("busy");
  const cells = [...row.children];
  [...fresh.children].forEach((cell, i) => {
    if (i === 0) return; // the selection checkbox
    if (cells[i].contains(document.activeElement) && document.activeElement.type === "text") return;
    cells[i].replaceWith(cell);
  });
}

// Changes to one order go to the server one after another (a quick remit-then-ship must
// not have its answers arrive out of order), and the row is redrawn when the last is back.
const queues = new Map();

function patchOrder(id, changes) {
  const entry = queues.get(id) || { tail: Promise.resolve(), waiting: 0 };
  queues.set(id, entry);
  entry.waiting += 1;
  $(`#orders-body tr[data-id="${id}"]`)?.classList.add("busy");
  entry.tail = entry.tail.then(async () => {
    try {
      state.orders.set(id, await api.patch(`/orders/${id}`, changes));
    } catch (err) {
      if (err.status !== 401) flash("danger", `#${state.orders.get(id)?.order_no}: ${describe(err)}`);
    }
    entry.waiting -= 1;
    if (entry.waiting === 0) {
      queues.delete(id);
      replaceRow(state.orders.get(id)); // as the server has it (a refused change is undone)
    }
  });
  return entry.tail;
}

function updateBulk() {
  const n = state.selected.size;
  $("#bulk-count").textContent = n ? t("order.selected", { n }) : "";
  for (const id of ["#bulk-remit", "#bulk-ship", "#bulk-carrier"]) $(id).disabled = n === 0;
  const all = $("#select-all");
  all.checked = n > 0 && n === state.orders.size;
  all.indeterminate = n > 0 && n < state.orders.size;
}

async function bulk(set) {
  const ids = [...state.selected];
  if (!ids.length) return;
  try {
    const out = await api.post("/orders/bulk", { ids, set });
    const msgs = [t("order.bulk_done", { n: out.updated })];
    if (out.unchanged) msgs.push(" ", t("order.bulk_unchanged", { n: out.unchanged }));
    if (out.failed.length) {
      const reason = (code) => (t(`bulk.${code}`) === `bulk.${code}` ? code : t(`bulk.${code}`));
      const reasons = out.failed.map((f) => `#${state.orders.get(f.id)?.order_no ?? f.id} ${reason(f.error)}`).join(", ");
      msgs.push(" ", t("order.bulk_failed", { n: out.failed.length, reasons }));
    }
    flash(out.failed.length ? "warning" : "success", ...msgs);
    await loadOrders(true);
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
}

function findItem(name) {
  return state.items.find((i) => i.item_name === name);
}

function updateTotal() {
  const form = $("#order-form");
  const qty = Number.parseInt(form.elements.quantity.value, 10);
  const unit = parseCents(form.elements.unit_price.value);
  const fee = parseCents(form.elements.shipping_fee.value);
  const ok = Number.isInteger(qty) && qty > 0 && unit !== null && fee !== null && form.elements.unit_price.value !== "";
  $("#order-total").textContent = ok ? money(centsToNumber(qty * unit + fee), currency()) : "—";
}

let idempotencyKey = null;
const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

function bindOrders() {
  for (const sel of $$("#order-filters select[data-options]")) statusOptions(sel);
  let timer;
  $("#order-filters").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => loadOrders(true), 300);
  });
  $("#order-filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("#orders-more").addEventListener("click", () => loadOrders(false));
  $("#select-all").addEventListener("change", (ev) => {
    state.selected = ev.target.checked ? new Set(state.orders.keys()) : new Set();
    for (const box of $$("#orders-body .row-select")) box.checked = ev.target.checked;
    updateBulk();
  });
  $("#bulk-remit").addEventListener("click", () => bulk({ payment_status: "remitted" }));
  $("#bulk-ship").addEventListener("click", () => bulk({ fulfillment_status: "shipped" }));
  $("#bulk-carrier").addEventListener("click", () => {
    const carrier = $("#bulk-carrier-name").value.trim();
    if (carrier) bulk({ carrier });
  });

  const form = $("#order-form");
  form.addEventListener("input", (ev) => {
    if (ev.target.name === "item_name") {
      const item = findItem(ev.target.value.trim());
      if (item) form.elements.unit_price.value = String(item.price);
    }
    if (ev.target.name === "buyer_email") {
      const c = state.customers.find((x) => x.email.toLowerCase() === ev.target.value.trim().toLowerCase());
      form.elements.buyer_name.placeholder = c ? c.name : t("order.buyer_name_hint");
    }
    idempotencyKey = null; // a changed form is a new order, not a retry
    updateTotal();
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $("#order-form-msg");
    const d = formData(form);
    const unit = moneyField(form, "unit_price", box);
    const fee = moneyField(form, "shipping_fee", box);
    if (unit === null || fee === null) return;
    const item = findItem(d.item_name);
    const payload = compact({
      buyer_email: d.buyer_email,
      buyer_name: d.buyer_name,
      quantity: Number.parseInt(d.quantity, 10),
      unit_price: d.unit_price === "" ? undefined : centsToNumber(unit),
      shipping_fee: centsToNumber(fee),
      batch: d.batch,
      note: d.note,
    });
    if (item) payload.item_id = item.id;
    else payload.item_name = d.item_name;
    idempotencyKey ||= newKey();
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      const order = await request("POST", "/orders", { body: payload, headers: { "Idempotency-Key": idempotencyKey } });
      idempotencyKey = null;
      notify(box, "success", t("order.created", { no: order.order_no }));
      for (const name of ["item_name", "unit_price", "note"]) form.elements[name].value = "";
      form.elements.quantity.value = "1";
      updateTotal();
      await loadOrders(true);
      loadPickers();
    } catch (err) {
      if (err.status !== 401) fail(box, err);
    } finally {
      btn.disabled = false;
    }
  });

  $("#export-csv").addEventListener("click", async () => {
    try {
      await download("/export/orders", { format: "csv" }, "orders.csv");
    } catch (err) {
      if (err.status !== 401) flash("danger", describe(err));
    }
  });
  $("[data-toggle-box=import-box]").addEventListener("click", () => $("#import-box").classList.toggle("d-none"));
  $("#import-box").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $("#import-msg");
    const file = ev.target.elements.file.files[0];
    if (!file) return;
    const dryRun = ev.target.elements.dry_run.checked;
    box.replaceChildren(h("span", { class: "spinner-border spinner-border-sm" }));
    try {
      const out = await request("POST", "/import/orders", {
        raw: await file.text(),
        contentType: "text/csv",
        query: dryRun ? { dry_run: "true" } : {},
      });
      const n = dryRun ? out?.rows : out?.created;
      notify(box, "success", t(dryRun ? "order.import_checked" : "order.import_ok", { n }));
      if (!dryRun) loadOrders(true);
    } catch (err) {
      if (err.status === 400 && err.details?.length) {
        const rows = err.details.map((d) =>
          h(
            "li",
            {},
            d.row !== undefined ? `${t("order.row", { row: d.row })}: ` : "",
            d.field && d.field !== "row" ? `${d.field} — ` : "",
            d.message || d.error || JSON.stringify(d),
          ),
        );
        notify(box, "danger", h("div", {}, t("order.import_errors")), h("ul", { class: "mb-0 import-errors" }, rows));
      } else if (err.status !== 401) {
        fail(box, err);
      }
    }
  });
}

// --- customers ------------------------------------------------------------------------

async function loadCustomers(reset) {
  const body = $("#customers-body");
  if (reset) {
    state.customersCursor = null;
    body.replaceChildren(spinnerRow(6, t("common.loading")));
  }
  try {
    const q = $("#customer-q").value.trim();
    const page = await api.get("/customers", { q, limit: PAGE, cursor: state.customersCursor || undefined });
    if (reset) body.replaceChildren();
    body.append(...page.items.map(customerRow));
    state.customersCursor = page.next_cursor;
    $("#customers-more").classList.toggle("d-none", !page.next_cursor);
    if (!body.children.length) body.replaceChildren(messageRow(6, t("cust.empty")));
  } catch (err) {
    body.replaceChildren(messageRow(6, describe(err), "text-danger"));
  }
}

function customerRow(c) {
  const hasLink = state.links.has(c.id);
  return h(
    "tr",
    { dataset: { id: c.id } },
    h("td", { "data-label": t("cust.name") }, c.name),
    h("td", { "data-label": t("cust.email") }, c.email),
    h("td", { "data-label": t("cust.phone") }, c.phone || ""),
    h("td", { "data-label": t("cust.social") }, c.social || ""),
    h(
      "td",
      { "data-label": t("cust.link") },
      h("button", { class: "btn btn-sm btn-outline-primary get-link", type: "button", title: t("cust.link_hint"), onclick: () => trackingLink(c) }, t(hasLink ? "cust.rotate" : "cust.new_link")),
    ),
    h(
      "td",
      { class: "text-nowrap" },
      h("button", { class: "btn btn-sm btn-link", type: "button", onclick: () => editCustomer(c) }, t("common.edit")),
      h("button", { class: "btn btn-sm btn-link text-danger", type: "button", onclick: () => deleteCustomer(c) }, t("common.delete")),
    ),
  );
}

async function trackingLink(c) {
  if (state.links.has(c.id) && !confirm(t("cust.rotate_confirm", { name: c.name }))) return;
  const box = $("#link-box");
  box.replaceChildren(h("div", { class: "text-muted small mb-2" }, t("common.loading")));
  try {
    const out = await api.post(`/customers/${c.id}/tracking-link`, undefined);
    // ?shop= lets the buyer ask for a fresh link from the same page if this one is rotated.
    const slug = state.seller?.shop_slug;
    if (slug && !out.url.includes("?")) out.url = out.url.replace("#", `?shop=${encodeURIComponent(slug)}#`);
    state.links.set(c.id, out.url);
    const copy = h("button", { class: "btn btn-sm btn-outline-secondary", type: "button" }, t("cust.copy"));
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(out.url);
        copy.textContent = t("cust.copied");
      } catch {
        window.getSelection().selectAllChildren(box.querySelector(".link-url"));
      }
    });
    const share = navigator.share
      ? h(
          "button",
          {
            class: "btn btn-sm btn-outline-secondary",
            type: "button",
            onclick: () => navigator.share({ title: t("cust.share_text", { shop: state.seller?.shop_name || "" }), url: out.url }).catch(() => {}),
          },
          t("cust.share"),
        )
      : null;
    notify(box, "info", h("div", { class: "small" }, t("cust.link_ready", { name: c.name })), h("a", { class: "link-url", href: out.url, target: "_blank", rel: "noopener" }, out.url), h("div", { class: "d-flex gap-2 mt-2" }, copy, share));
    $(`#customers-body tr[data-id="${c.id}"] .get-link`).textContent = t("cust.rotate");
  } catch (err) {
    if (err.status === 404 || err.status === 403) notify(box, "warning", t(err.code === "not_found" ? "err.404" : "rep.unavailable"));
    else if (err.status !== 401) fail(box, err);
  }
}

function editCustomer(c) {
  const form = $("#customer-form");
  for (const name of ["id", "name", "email", "phone", "address", "social", "note"]) form.elements[name].value = c[name] || "";
  $("#customer-form-title").textContent = t("cust.edit");
  $("#customer-cancel").classList.remove("d-none");
  form.scrollIntoView({ behavior: "smooth" });
}

function resetCustomerForm() {
  const form = $("#customer-form");
  form.reset();
  form.elements.id.value = "";
  $("#customer-form-title").textContent = t("cust.add");
  $("#customer-cancel").classList.add("d-none");
}

async function deleteCustomer(c) {
  if (!confirm(`${t("common.delete")}: ${c.name}?`)) return;
  try {
    await api.del(`/customers/${c.id}`);
    await loadCustomers(true);
    loadPickers();
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
}

function bindCustomers() {
  const form = $("#customer-form");
  $("#customer-cancel").addEventListener("click", resetCustomerForm);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = formData(form);
    const id = d.id;
    delete d.id;
    const box = $("#customer-form-msg");
    try {
      if (id) {
        // On edit an emptied optional field is cleared (null), not left as it was.
        const patch = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v === "" && !["name", "email"].includes(k) ? null : v]));
        await api.patch(`/customers/${id}`, patch);
      } else {
        await api.post("/customers", compact(d));
      }
      notify(box, "success", t("common.saved"));
      resetCustomerForm();
      await loadCustomers(true);
      loadPickers();
    } catch (err) {
      if (err.status !== 401) fail(box, err);
    }
  });
  let timer;
  $("#customer-q").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => loadCustomers(true), 300);
  });
  $("#customers-more").addEventListener("click", () => loadCustomers(false));
}

// --- items ----------------------------------------------------------------------------

async function loadItems(reset) {
  const body = $("#items-body");
  if (reset) {
    state.itemsCursor = null;
    body.replaceChildren(spinnerRow(5, t("common.loading")));
  }
  try {
    const q = $("#item-q").value.trim();
    const page = await api.get("/items", { q, limit: PAGE, cursor: state.itemsCursor || undefined });
    if (reset) body.replaceChildren();
    body.append(...page.items.map(itemRow));
    state.itemsCursor = page.next_cursor;
    $("#items-more").classList.toggle("d-none", !page.next_cursor);
    if (!body.children.length) body.replaceChildren(messageRow(5, t("item.empty")));
  } catch (err) {
    body.replaceChildren(messageRow(5, describe(err), "text-danger"));
  }
}

function stockBadge(stock) {
  if (stock === null || stock === undefined) return h("span", { class: "text-muted small" }, t("item.untracked"));
  const badge =
    stock === 0
      ? h("span", { class: "badge text-bg-danger ms-2 stock-badge" }, t("item.out"))
      : stock <= LOW_STOCK
        ? h("span", { class: "badge text-bg-warning ms-2 stock-badge" }, t("item.low"))
        : null;
  return h("span", {}, String(stock), badge);
}

function itemRow(i) {
  return h(
    "tr",
    { dataset: { id: i.id } },
    h("td", { "data-label": t("item.name") }, i.item_name),
    h("td", { "data-label": t("item.price"), class: "text-end" }, money(i.price, currency())),
    h("td", { "data-label": t("item.stock") }, stockBadge(i.stock)),
    h("td", { "data-label": t("item.note") }, i.note || ""),
    h(
      "td",
      { class: "text-nowrap" },
      h("button", { class: "btn btn-sm btn-link", type: "button", onclick: () => editItem(i) }, t("common.edit")),
      h("button", { class: "btn btn-sm btn-link text-danger", type: "button", onclick: () => deleteItem(i) }, t("common.delete")),
    ),
  );
}

function editItem(i) {
  const form = $("#item-form");
  form.elements.id.value = i.id;
  form.elements.item_name.value = i.item_name;
  form.elements.price.value = String(i.price);
  form.elements.stock.value = i.stock ?? "";
  form.elements.note.value = i.note || "";
  $("#item-cancel").classList.remove("d-none");
  form.scrollIntoView({ behavior: "smooth" });
}

function resetItemForm() {
  $("#item-form").reset();
  $("#item-form").elements.id.value = "";
  $("#item-cancel").classList.add("d-none");
}

async function deleteItem(i) {
  if (!confirm(`${t("common.delete")}: ${i.item_name}?`)) return;
  try {
    await api.del(`/items/${i.id}`);
    await loadItems(true);
    loadPickers();
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
}

function bindItems() {
  const form = $("#item-form");
  $("#item-cancel").addEventListener("click", resetItemForm);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $("#item-form-msg");
    const d = formData(form);
    const price = parseCents(d.price);
    if (price === null || d.price === "") {
      notify(box, "danger", `${t("item.price")}: ${t("err.invalid_money")}`);
      return;
    }
    const body = {
      item_name: d.item_name,
      price: centsToNumber(price),
      stock: d.stock === "" ? null : Number.parseInt(d.stock, 10),
      note: d.note || null,
    };
    try {
      if (d.id) await api.patch(`/items/${d.id}`, body);
      else await api.post("/items", compact(body));
      notify(box, "success", t("common.saved"));
      resetItemForm();
      await loadItems(true);
      loadPickers();
    } catch (err) {
      if (err.status !== 401) fail(box, err);
    }
  });
  let timer;
  $("#item-q").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => loadItems(true), 300);
  });
  $("#items-more").addEventListener("click", () => loadItems(false));
}

// --- reports --------------------------------------------------------------------------

/** A route another part of the team has not shipped yet answers 403/404 without our error body. */
function unavailable(err) {
  return err instanceof ApiError && (err.status === 404 || err.status === 403) && err.code !== "not_found" && err.code !== "forbidden";
}

function reportError(err) {
  return unavailable(err) || (err.status === 404 && err.code === "not_found") ? t("rep.unavailable") : describe(err);
}

async function loadReports() {
  const year = $("#rep-year");
  if (!year.options.length) {
    const now = new Date().getFullYear();
    year.replaceChildren(...[now, now - 1, now - 2].map((y) => h("option", { value: String(y) }, String(y))));
  }
  await Promise.all([loadBuyerReport(), loadItemReport(), loadMonthly()]);
}

async function loadBuyerReport() {
  const body = $("#rep-buyers tbody");
  const foot = $("#rep-buyers tfoot");
  body.replaceChildren(spinnerRow(7, t("common.loading")));
  foot.replaceChildren();
  try {
    const out = await api.get("/reports/buyers", { batch: $("#rep-batch").value.trim() });
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
    const rows = out.rows || [];
    body.replaceChildren(...rows.map((r) => row(r, h("span", {}, r.name, h("small", { class: "d-block text-muted" }, r.email)))));
    if (!rows.length) body.replaceChildren(messageRow(7, t("rep.empty")));
    else if (out.totals) foot.replaceChildren(row(out.totals, t("rep.totals"), "fw-semibold"));
  } catch (err) {
    body.replaceChildren(messageRow(7, reportError(err), unavailable(err) ? "text-muted" : "text-danger"));
  }
}

async function loadItemReport() {
  const body = $("#rep-items tbody");
  body.replaceChildren(spinnerRow(3, t("common.loading")));
  try {
    const out = await api.get("/reports/items");
    const rows = out.rows || out.items || [];
    body.replaceChildren(
      ...rows.map((r) =>
        h(
          "tr",
          {},
          h("td", { "data-label": t("item.name") }, r.item_name),
          h("td", { class: "text-end", "data-label": t("rep.quantity") }, String(r.quantity ?? "")),
          h(
            "td",
            { class: "text-end", "data-label": t("rep.pending") },
            String(r.order_count ?? ""),
          ),
        ),
      ),
    );
    if (!rows.length) body.replaceChildren(messageRow(3, t("rep.empty")));
  } catch (err) {
    body.replaceChildren(messageRow(3, reportError(err), unavailable(err) ? "text-muted" : "text-danger"));
  }
}

let chartLib = null;
let chart = null;

/** Chart.js is loaded only when the reports tab is opened: it is not part of first load. */
function loadChartJs() {
  chartLib ||= new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = new URL("../vendor/chart.umd.min.js", import.meta.url).href;
    s.onload = () => resolve(window.Chart);
    s.onerror = () => reject(new ApiError(0, "network", t("err.network")));
    document.head.append(s);
  });
  return chartLib;
}

async function loadMonthly() {
  const msg = $("#rep-monthly-msg");
  msg.replaceChildren(h("div", { class: "text-muted small" }, t("common.loading")));
  try {
    const [out, Chart] = await Promise.all([api.get("/reports/monthly", { year: $("#rep-year").value }), loadChartJs()]);
    const rows = out.rows || out.months || [];
    msg.replaceChildren(rows.length ? "" : h("div", { class: "text-muted small" }, t("rep.empty")));
    const labels = rows.map((r) => month(r.month));
    const data = {
      labels,
      datasets: [
        { label: t("rep.total"), data: rows.map((r) => r.total_amount), backgroundColor: "#0d6efd" },
        { label: t("rep.remitted"), data: rows.map((r) => r.remitted_amount), backgroundColor: "#198754" },
      ],
    };
    chart?.destroy();
    chart = new Chart($("#rep-monthly"), {
      type: "bar",
      data,
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.parsed.y, currency())}` } } },
      },
    });
  } catch (err) {
    msg.replaceChildren(h("div", { class: unavailable(err) ? "text-muted" : "text-danger" }, reportError(err)));
  }
}

function bindReports() {
  let timer;
  $("#rep-batch").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(loadBuyerReport, 300);
  });
  $("#rep-year").addEventListener("change", loadMonthly);
  for (const btn of $$("[data-csv]")) {
    btn.addEventListener("click", async () => {
      const path = btn.dataset.csv;
      const query = { format: "csv" };
      if (path.endsWith("buyers")) query.batch = $("#rep-batch").value.trim();
      if (path.endsWith("monthly")) query.year = $("#rep-year").value;
      try {
        await download(path, query, `${path.split("/").pop()}.csv`);
      } catch (err) {
        if (err.status !== 401) flash("danger", reportError(err));
      }
    });
  }
}

// --- start ----------------------------------------------------------------------------

function start() {
  apply();
  bindSwitcher($("#lang"));
  bindAuth();
  bindOrders();
  bindCustomers();
  bindItems();
  bindReports();
  for (const btn of $$("[data-tab]")) btn.addEventListener("click", () => switchTab(btn.dataset.tab));
  onChange(() => {
    for (const sel of $$("#order-filters select[data-options]")) statusOptions(sel);
    if (getToken()) {
      fillPickers();
      if (state.seller) $("#brand").textContent = state.seller.shop_name;
      switchTab(state.tab);
    } else {
      $("#brand").textContent = t("app.title");
    }
  });
  // The emailed link may be opened in a tab that already shows this page.
  window.addEventListener("hashchange", () => {
    if (resetToken()) showAuth();
  });
  if (resetToken()) showAuth(); // a reset link wins over a stored session
  else if (getToken()) showApp();
  else showAuth();
}

start();
