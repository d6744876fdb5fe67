// The public form's waitlist (補貨通知, issue 29): a sold-out item's small form (name, the
// contact the form asks for, quantity) joins its line; the answer says the place in it.
// Loaded when the buyer taps "Notify me when back" (form.js).
import { api, describe } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
// Its texts come with it (the form's first load carries only "Notify me when back").
import "./i18n/buyer-waitlist.js";

/** A sold-out item's (or variant's) "notify me when back" (補貨通知我): a small form (name,
 * the contact the form asks for, quantity) that joins its waitlist; 201 says the place in line. */
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
    remindBox(),
    h("button", { class: "btn btn-primary of-w-send", type: "submit" }, t("form.w_join")),
  );
  const email = box.querySelector("[name=email]");
  const remind = box.querySelector("[name=remind]");
  // Reminders go by email only, as the form's own box: ticked once an email is typed.
  const remindState = () => {
    if (!remind) return;
    remind.disabled = !email?.value.trim();
    if (remind.disabled) remind.checked = false;
  };
  box.addEventListener("input", remindState);
  remindState();
  box.querySelector("[name=quantity]").value = "1";
  box.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    // A variant's line (form-variants.js) joins that variant's own waitlist.
    const body = { name: box.querySelector("[name=name]").value.trim(), item_id: item.item_id, ...item.line, quantity: Number.parseInt(box.querySelector("[name=quantity]").value, 10) || 0 };
    if (remind?.checked) body.remind = true;
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

  function remindBox() {
    if (!asks.includes("email")) return null; // a LINE-only or phone form: nothing to remind by
    const id = `of-w-remind-${item.item_id}`;
    return h(
      "div",
      { class: "form-check d-flex align-items-center gap-2 ps-0 mb-2 of-remind" },
      h("input", { class: "form-check-input", type: "checkbox", id, name: "remind" }),
      h("label", { class: "form-check-label small", for: id }, t("form.remind")),
    );
  }
}
