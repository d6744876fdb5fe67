// The LINE-ready message to a buyer (issue 25): what they owe on which orders and charges
// (issue 26: shipping after weighing, duty...), the shop's
// payment instructions and their tracking link, in the shop's language. One helper for every
// place the seller looks at a buyer (Reports, Buyers tab, order panel, Ship card), so the
// text is the same everywhere. Built here from what the page can read (the buyer's unpaid
// orders and open charges, the shop, a link): no server endpoint (docs/api.md, "Buyer links").
import { api, describe } from "../api.js";
import { h, notify } from "../dom.js";
import { money } from "../format.js";
import { lang, t, tIn } from "../i18n.js";
import { currency, shop } from "../app.js";
import { balanceCents, openCharges, owedOn } from "../charges.js";

/** The message text for one buyer, from its parts. */
export function paymentMessage({ language, name, owed, orderNos, charges = [], instructions, url }) {
  const cur = currency();
  const sep = tIn(language, "msg.sep");
  const parts = [
    owed > 0
      ? tIn(language, "msg.due", { name, amount: money(owed, cur), orders: owedOn(orderNos, charges, language, cur).join(sep) })
      : tIn(language, "msg.nothing", { name }),
  ];
  if (instructions) parts.push(tIn(language, "msg.instructions", { text: instructions }));
  if (url) parts.push(tIn(language, "msg.link", { url }));
  return parts.join("");
}

/** The message for buyer {customer_id, name}: reads their unpaid orders and open charges, the shop and their
 *  current tracking link (the same one every time: nothing the buyer has stops working). */
export async function buyerMessage({ customer_id, name }) {
  const query = (status) => api.get("/orders", { customer_id, payment_status: status, sort: "order_no", limit: 200 });
  const [unpaid, partial, chargePage, link, me] = await Promise.all([
    query("unpaid"),
    query("partial"),
    api.get("/charges", { customer_id, status: "open", limit: 200 }),
    api.get(`/customers/${customer_id}/tracking-link`),
    api.get("/auth/me"),
  ]);
  shop.seller = me;
  const orders = [...unpaid.items, ...partial.items].filter((o) => Number(o.balance) > 0).sort((a, b) => a.order_no - b.order_no);
  const charges = openCharges(chargePage.items);
  const owedCents = orders.reduce((sum, o) => sum + Math.round(Number(o.balance) * 100), 0) + charges.reduce((sum, c) => sum + balanceCents(c), 0);
  return paymentMessage({
    language: me.language || lang(),
    name,
    owed: owedCents / 100,
    orderNos: orders.map((o) => o.order_no),
    charges,
    instructions: (me.payment_instructions || "").trim(),
    url: link.url,
  });
}

/** A "Copy message" button for `buyer`; the message shows in `box` (its textarea id `id`). */
export function copyMessageButton(buyer, box, id, extra = "") {
  return h(
    "button",
    { class: `btn btn-sm btn-outline-secondary copy-message ${extra}`.trim(), type: "button", "aria-label": t("rep.copy_msg_for", { name: buyer.name }), onclick: () => copyMessage(buyer, box, id) },
    t("rep.copy_msg"),
  );
}

/** "Copy message": shows the message in `box` (readonly, to select by hand) and copies it. */
export async function copyMessage(buyer, box, id) {
  box.replaceChildren(h("div", { class: "text-muted small my-2" }, h("span", { class: "spinner-border spinner-border-sm me-2", role: "status" }), t("common.loading")));
  try {
    const text = await buyerMessage(buyer);
    const area = h("textarea", { class: "form-control buyer-message-text", id, readonly: true, rows: "5" });
    area.value = text;
    const status = h("div", { class: "small mt-1", role: "status" });
    const alert = notify(box, "info", h("label", { class: "form-label fw-semibold mb-1 w-100", for: id }, t("rep.msg_title", { name: buyer.name })), area, status);
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
    alert.scrollIntoView({ block: "nearest" }); // below a list: on a phone, off screen
  } catch (err) {
    if (err.status !== 401) notify(box, "danger", describe(err));
  }
}
