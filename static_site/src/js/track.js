// The buyer page (track.html#<token>): one buyer's orders with a progress line, no login.
// The token sits in the URL fragment, so it never reaches a server log or a Referer header.
import { api, describe } from "./api.js";
import { $, h, notify } from "./dom.js";
import { date, money } from "./format.js";
import { apply, bindSwitcher, onChange, t } from "./i18n.js";

const STEPS = ["ordered", "remitted", "purchased", "shipped", "delivered"];
let data = null;

function reached(o) {
  const done = new Set(["ordered"]);
  if (o.payment_status === "remitted" || o.payment_status === "refunded") done.add("remitted");
  const f = o.fulfillment_status;
  if (["purchased", "shipped", "delivered"].includes(f)) done.add("purchased");
  if (["shipped", "delivered"].includes(f)) done.add("shipped");
  if (f === "delivered") done.add("delivered");
  return done;
}

function card(o, currency) {
  const done = reached(o);
  const facts = [
    t("track.ordered_on", { date: date(o.created_at) }),
    o.remitted_at ? t("track.remitted_on", { date: date(o.remitted_at) }) : null,
    o.shipped_date ? t("track.shipped_on", { date: date(o.shipped_date) }) : null,
  ].filter(Boolean);
  return h(
    "article",
    { class: "card order-card", dataset: { orderNo: String(o.order_no) } },
    h(
      "div",
      { class: "card-body" },
      h(
        "div",
        { class: "d-flex justify-content-between gap-2" },
        h("h2", { class: "h6 mb-1" }, `#${o.order_no} · ${o.item_name} × ${o.quantity}`),
        h("strong", { class: "text-nowrap" }, money(o.total_amount, currency)),
      ),
      o.fulfillment_status === "cancelled"
        ? h("div", { class: "alert alert-secondary py-1 my-2 small" }, t("track.cancelled"))
        : h(
            "ol",
            { class: "progress-line", "aria-label": t("track.title") },
            STEPS.map((s) => h("li", { class: done.has(s) ? "done" : "", dataset: { step: s } }, t(`track.step.${s}`))),
          ),
      o.payment_status === "refunded" ? h("span", { class: "badge text-bg-secondary me-2" }, t("track.refunded")) : null,
      h("div", { class: "small text-muted" }, facts.join(" · ")),
      o.carrier || o.tracking_number
        ? h(
            "div",
            { class: "small mt-1" },
            o.carrier ? h("span", { class: "me-3" }, `${t("track.carrier")}: `, h("strong", { class: "carrier" }, o.carrier)) : null,
            o.tracking_number ? h("span", {}, `${t("track.tracking")}: `, h("strong", { class: "tracking-number user-select-all" }, o.tracking_number)) : null,
          )
        : null,
    ),
  );
}

function render() {
  if (!data) return;
  $("#shop-name").textContent = data.shop_name;
  document.title = `${data.shop_name} · ${t("track.title")}`;
  $("#buyer-heading").textContent = t("track.hello", { name: data.buyer_name });
  const cards = (data.orders || []).map((o) => card(o, data.currency));
  $("#order-cards").replaceChildren(...(cards.length ? cards : [h("p", { class: "text-muted" }, t("track.empty"))]));
  $("#orders-view").classList.remove("d-none");
}

function showRequestForm(message, kind) {
  const params = new URLSearchParams(location.search);
  const shop = params.get("shop");
  const form = $("#request-form");
  if (shop) {
    form.elements.shop_slug.value = shop;
    $("#shop-field").classList.add("d-none");
  }
  form.classList.remove("d-none");
  notify($("#track-msg"), kind, message);
}

// The token from the URL fragment: "" when there is none, null when it cannot be decoded
// (a malformed %-escape, e.g. a link cut off while copying: decodeURIComponent throws).
function tokenFromHash() {
  try {
    return decodeURIComponent(location.hash.replace(/^#/, "")).trim();
  } catch {
    return null;
  }
}

async function load() {
  const token = tokenFromHash();
  $("#orders-view").classList.add("d-none");
  $("#request-form").classList.add("d-none");
  $("#track-msg").replaceChildren();
  if (!token) {
    data = null;
    $("#loading").classList.add("d-none");
    showRequestForm(t(token === null ? "track.invalid" : "track.missing"), token === null ? "warning" : "info");
    return;
  }
  $("#loading").classList.remove("d-none");
  try {
    data = await api.get(`/track/${encodeURIComponent(token)}`, undefined, { auth: false });
    render();
  } catch (err) {
    data = null;
    if (err.status === 404 || err.status === 403) showRequestForm(t("track.invalid"), "warning");
    else notify($("#track-msg"), "danger", describe(err));
  } finally {
    $("#loading").classList.add("d-none");
  }
}

$("#request-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const body = { shop_slug: form.elements.shop_slug.value.trim(), email: form.elements.email.value.trim() };
  const btn = form.querySelector("[type=submit]");
  btn.disabled = true;
  try {
    await api.post("/track/request-link", body, { auth: false });
    notify($("#request-msg"), "success", t("track.sent"));
  } catch (err) {
    notify($("#request-msg"), "danger", describe(err));
  } finally {
    btn.disabled = false;
  }
});

apply();
bindSwitcher($("#lang"));
onChange(render);
window.addEventListener("hashchange", load);
load();
