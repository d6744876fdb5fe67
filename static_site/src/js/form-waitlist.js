// The public form's waitlist (補貨通知, issue 29): a sold-out item's small form (name, the
// contact the form asks for, quantity) joins its line; the answer says the place in it.
// Loaded when the buyer taps "Notify me when back" (form.js).
import { api, describe } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
// Its texts come with it (the form's first load carries only "Notify me when back").
import "./i18n/buyer-waitlist.js";

/** A sold-out item's "notify me when back" (補貨通知我): a small form (name, the contact
 * the form asks for, quantity) that joins the item's waitlist; 201 says the place in line. */
export function waitlistBox(item, token, mode) {
  const asks = mode === "any" ? ["email", "line_id"] : [mode];
  const field = (name, type, label) => {
    const id = `of-w-${name}-${item.item_id}`;
    return h("div", { class: "mb-2" }, h("label", { class: "form-label small mb-0", for: id }, label), h("input", { class: "form-control", id, name, type, autocomplete: "off" }));
  };
  const msg = h("div", { class: "small mt-1 of-w-msg", role: "status" });
  const box = h(
    "form",
    { class: "mt-2 of-w-form", novalidate: true },
    field("name", "text", t("form.name")),
    ...asks.map((c) => field(c, c === "email" ? "email" : "text", t(`form.${c}`))),
    field("quantity", "number", t("form.w_quantity")),
    h("button", { class: "btn btn-primary of-w-send", type: "submit" }, t("form.w_join")),
  );
  box.querySelector("[name=quantity]").value = "1";
  box.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: box.querySelector("[name=name]").value.trim(), item_id: item.item_id, quantity: Number.parseInt(box.querySelector("[name=quantity]").value, 10) || 0 };
    for (const c of asks) {
      const v = box.querySelector(`[name=${c}]`).value.trim();
      if (v) body[c] = v;
    }
    msg.className = "small mt-1 of-w-msg";
    try {
      const out = await api.post(`/f/${encodeURIComponent(token)}/waitlist`, body, { auth: false });
      box.classList.add("d-none");
      msg.classList.add("text-success");
      msg.textContent = out.status === "served" ? t("form.w_served") : t("form.w_position", { n: out.position });
    } catch (err) {
      msg.classList.add("text-danger");
      msg.textContent = describe(err);
    }
  });
  return h("div", { class: "of-waitlist" }, box, msg);
}
