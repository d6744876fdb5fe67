// The seller workspace (index.html): start-up and switching between the tabs. Each tab is
// a module under views/ with bind() (once), load() (ask the server), render() (draw what it
// holds, e.g. after a language change) and reset() (log out); all but orders are fetched
// when first opened. session.js owns logging in and out.
// The open tab and the order filters live in the address (?tab=reports, ?batch_prefix=…),
// so a reload, back/forward and a copied link keep them.
// First: the seller texts join the tables before any other module runs.
import "./i18n/seller.js";
import { ApiError, api, describe, getToken, setSession } from "./api.js";
import { $, $$ } from "./dom.js";
import { apply, bindSwitcher, onChange, t } from "./i18n.js";
import { applyRole, fillPickers, flash, loadPickers, nav, shop } from "./app.js";
import { bindPhone, foldNewOrder } from "./phone.js";
import { authLink, bindSession, restoreDrafts, showAuth } from "./session.js";
import * as orders from "./views/orders.js";

// The orders tab is part of the first load; the others are fetched when first opened.
const LAZY = {
  payments: () => import("./views/payments.js"),
  ship: () => import("./views/ship.js"),
  batches: () => import("./views/batches.js"),
  forms: () => import("./views/forms.js"),
  customers: () => import("./views/customers.js"),
  items: () => import("./views/items.js"),
  reports: () => import("./views/reports.js"),
  settings: () => import("./views/settings.js"),
};
const views = { orders }; // the views loaded (and bound) so far
const TABS = ["orders", ...Object.keys(LAZY)];
let tab = "orders";

/** The module of a tab, fetched and bound on first use. */
async function view(name) {
  if (!views[name]) {
    let module;
    try {
      module = await LAZY[name]();
    } catch {
      throw new ApiError(0, "network");
    }
    if (!views[name]) {
      module.bind();
      views[name] = module;
    }
  }
  return views[name];
}

/** The address for the open tab and the order filters. */
function address() {
  const params = new URLSearchParams(tab === "orders" ? {} : { tab });
  for (const [k, v] of Object.entries(orders.filterParams())) params.set(k, v);
  const query = params.toString();
  return `${location.pathname}${query ? `?${query}` : ""}${location.hash}`;
}

function remember() {
  const next = address();
  if (next !== `${location.pathname}${location.search}${location.hash}`) history.pushState(null, "", next);
}

/** Set the tab and filters from the address (start-up, back/forward). */
function fromAddress() {
  const params = Object.fromEntries(new URLSearchParams(location.search));
  tab = TABS.includes(params.tab) ? params.tab : "orders";
  delete params.tab;
  orders.setFilters(params, { refresh: false });
}

function switchTab(name, { push = true } = {}) {
  const before = tab;
  tab = TABS.includes(name) ? name : "orders";
  if (push) remember();
  for (const btn of $$("[data-tab]")) {
    btn.classList.toggle("active", btn.dataset.tab === tab);
    btn.setAttribute("aria-selected", String(btn.dataset.tab === tab));
    btn.setAttribute("aria-controls", `tab-${btn.dataset.tab}`);
  }
  for (const pane of $$(".tab-pane")) pane.classList.toggle("d-none", pane.id !== `tab-${tab}`);
  $("#flash").replaceChildren();
  // An undo belongs to the tab it was offered on: done from another one it would surprise.
  if (tab !== before) $("#undo-bar").replaceChildren();
  const chosen = tab;
  view(chosen).then(
    (v) => {
      if (tab === chosen) v.load();
    },
    (err) => flash("danger", describe(err)),
  );
}

async function showApp() {
  $("#boot").classList.add("d-none");
  $("#auth-view").classList.add("d-none");
  $("#app-view").classList.remove("d-none");
  $("#logout").classList.remove("d-none");
  restoreDrafts();
  if (Object.values(orders.draftValues()).some(Boolean)) $("#new-order-box").open = true;
  foldNewOrder();
  if (shop.seller) $("#brand").textContent = shop.seller.shop_name;
  applyRole();
  switchTab(tab, { push: false });
  loadPickers();
  view("payments").then((v) => v.loadBadge(), () => null); // the tab's "N payments to confirm"
  try {
    shop.seller = await api.get("/auth/me");
    setSession(null, shop.seller);
    applyRole();
    $("#brand").textContent = shop.seller.shop_name;
    orders.updateTotal();
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
}

function start() {
  apply();
  bindSwitcher($("#lang"));
  bindSession({
    loggedIn: showApp,
    loggedOut: () => Object.values(views).forEach((v) => v.reset()),
  });
  orders.bind();
  bindPhone();
  nav.go = (name, params) => {
    if (name === "orders" && params) orders.setFilters(params);
    switchTab(name);
    if (name === "payments" && params?.record_for) view("payments").then((v) => v.recordFor(params.record_for, params.name), () => null);
    if (name === "batches" && params?.open) view("batches").then((v) => v.open(params.open), () => null);
  };
  nav.remember = remember;
  fromAddress();
  window.addEventListener("popstate", () => {
    if (!getToken() || authLink()) return;
    fromAddress();
    switchTab(tab, { push: false });
  });
  for (const btn of $$("[data-tab]")) btn.addEventListener("click", () => switchTab(btn.dataset.tab));
  onChange(() => {
    if (getToken()) {
      fillPickers();
      if (shop.seller) $("#brand").textContent = shop.seller.shop_name;
      for (const v of Object.values(views)) v.render();
    } else {
      $("#brand").textContent = t("app.title");
    }
  });
  if (authLink()) showAuth(); // a reset or invite link wins over a stored session
  else if (getToken()) showApp();
  else showAuth();
}

start();
