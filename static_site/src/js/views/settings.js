// The settings tab: shop name, shop code (shop_slug, to tell a buyer), time zone, currency
// and language (PATCH /auth/me, whose fresh token carries the new zone and currency),
// change password (POST /auth/password: other devices are logged out), the payment
// instructions buyers see (匯款資訊, PATCH /auth/me {payment_instructions}) and whether
// buyers are emailed about parcels and payments (notify_buyers), the shop's members (issue 31:
// invite by email or a link to send by LINE, change a role, remove), log out.
import { api, describe, setSession } from "../api.js";
import { $, h, notify } from "../dom.js";
import { LANGS, labelled, lang, setLang, t } from "../i18n.js";
import { applyRole, formData, shop } from "../app.js";
import { logOut } from "../session.js";

const CURRENCIES = ["TWD", "JPY", "KRW", "HKD", "CNY", "USD", "SGD", "MYR", "THB", "EUR", "GBP", "AUD", "CAD"];
const state = { seller: null, members: null };

export async function load() {
  state.seller = shop.seller;
  render();
  try {
    state.seller = await api.get("/auth/me");
    shop.seller = state.seller;
    setSession(null, state.seller);
    applyRole();
    render();
  } catch (err) {
    if (err.status !== 401) notify($("#shop-msg"), "danger", describe(err));
  }
  await loadMembers();
}

/** Members are the owner's: a staff member's page hides the card (the API refuses it too). */
function mayManage() {
  return !state.seller?.member || state.seller.member.role === "owner";
}

async function loadMembers() {
  $("#members-card").classList.toggle("d-none", !mayManage());
  if (!mayManage()) return;
  try {
    state.members = (await api.get("/members")).items;
    renderMembers();
  } catch (err) {
    if (err.status !== 401) notify($("#member-msg"), "danger", describe(err));
  }
}

function roleSelect(m) {
  const select = h(
    "select",
    { class: "form-select form-select-sm w-auto", "aria-label": labelled(t("mem.role"), m.email) },
    ...["staff", "owner"].map((r) => h("option", { value: r, selected: m.role === r }, t(`mem.role_${r}`))),
  );
  select.addEventListener("change", async () => {
    try {
      await api.patch(`/members/${m.id}`, { role: select.value });
      notify($("#member-msg"), "success", t("mem.role_changed", { email: m.email }));
      await loadMembers();
    } catch (err) {
      select.value = m.role;
      if (err.status !== 401) notify($("#member-msg"), "danger", describe(err));
    }
  });
  return select;
}

async function removeMember(m) {
  if (!confirm(t("mem.remove_confirm", { email: m.email }))) return;
  try {
    await api.del(`/members/${m.id}`);
    notify($("#member-msg"), "success", t("mem.removed", { email: m.email }));
    await loadMembers();
  } catch (err) {
    if (err.status !== 401) notify($("#member-msg"), "danger", describe(err));
  }
}

/** A pending invite's new link (expired or lost): the old one stops working. */
async function reissue(m) {
  try {
    const out = await api.post(`/members/${m.id}/invite`);
    await loadMembers();
    const linkBox = h("div");
    notify($("#member-msg"), "success", t(out.emailed ? "mem.reissued_emailed" : "mem.reissued", { email: m.email }), linkBox);
    await showLink(out.invite_url, linkBox);
  } catch (err) {
    if (err.status !== 401) notify($("#member-msg"), "danger", describe(err));
  }
}

/** The invite link, shown and copied for LINE (selected when there is no clipboard). */
async function showLink(url, box) {
  const field = h("input", { class: "form-control form-control-sm", readonly: true, value: url, "aria-label": t("mem.link") });
  const status = h("div", { class: "small", role: "status" });
  box.replaceChildren(field, status);
  try {
    await navigator.clipboard.writeText(url);
    status.textContent = t("mem.copied");
  } catch {
    status.textContent = t("mem.copy_by_hand");
    field.focus({ preventScroll: true });
    field.select();
  }
}

function renderMembers() {
  const list = $("#members-list");
  if (!state.members?.length) {
    list.replaceChildren(h("li", { class: "list-group-item text-muted" }, t("mem.none")));
    return;
  }
  list.replaceChildren(
    ...state.members.map((m) => {
      const linkBox = h("div", { class: "w-100" });
      const expired = m.status === "invited" && !m.invite_url;
      const status = expired ? t("mem.invite_expired") : m.status === "invited" ? t("mem.invited") : t("mem.active");
      return h(
        "li",
        { class: "list-group-item d-flex flex-wrap gap-2 align-items-center", dataset: { member: m.email } },
        h("span", { class: "flex-grow-1 text-break" }, m.email, " ", h("span", { class: "badge text-bg-light" }, status)),
        roleSelect(m),
        m.invite_url ? h("button", { class: "btn btn-sm btn-outline-secondary", type: "button", onclick: () => showLink(m.invite_url, linkBox) }, t("mem.copy_link")) : null,
        m.status === "invited" ? h("button", { class: "btn btn-sm btn-outline-primary member-reissue", type: "button", onclick: () => reissue(m) }, t("mem.reissue")) : null,
        h("button", { class: "btn btn-sm btn-outline-danger", type: "button", onclick: () => removeMember(m) }, t("mem.remove")),
        linkBox,
      );
    }),
  );
}

export function render() {
  const s = state.seller;
  const currency = $("#set-currency");
  const names = new Intl.DisplayNames([t("lang.intl")], { type: "currency" });
  const codes = s?.currency && !CURRENCIES.includes(s.currency) ? [s.currency, ...CURRENCIES] : CURRENCIES;
  currency.replaceChildren(...codes.map((c) => h("option", { value: c }, `${c} · ${names.of(c)}`)));
  $("#set-language").replaceChildren(...Object.entries(LANGS).map(([v, label]) => h("option", { value: v }, label)));
  if (!s) return;
  const form = $("#shop-form");
  form.elements.shop_name.value = s.shop_name || "";
  form.elements.timezone.value = s.timezone || "";
  currency.value = s.currency || "TWD";
  form.elements.language.value = s.language || "zh-Hant";
  $("#shop-slug").textContent = s.shop_slug || "";
  const info = $("#pay-info-form").elements.payment_instructions;
  if (document.activeElement !== info) info.value = s.payment_instructions || "";
  $("#pay-info-form").elements.notify_buyers.checked = s.notify_buyers !== false;
  // A member changes their own password: theirs is the login (not the shop owner's email),
  // for the page and for a password manager.
  const login = s.member?.email || s.email || "";
  $("#password-form").elements.username.value = login;
  $("#set-login-as").textContent = login ? t("set.login_as", { email: login, role: t(`mem.role_${s.member?.role || "owner"}`) }) : "";
}

export function reset() {
  state.seller = null;
  state.members = null;
}

export function bind() {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("#timezones").replaceChildren(...zones.map((z) => h("option", { value: z })));
  $("#shop-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $("#shop-msg");
    const d = formData(ev.target);
    const s = state.seller || {};
    const body = Object.fromEntries(Object.entries(d).filter(([k, v]) => v !== (s[k] ?? "")));
    if (!Object.keys(body).length) {
      notify(box, "info", t("detail.nothing"));
      return;
    }
    try {
      const out = await api.patch("/auth/me", body);
      setSession(out.token, out.seller);
      shop.seller = state.seller = out.seller;
      $("#brand").textContent = out.seller.shop_name;
      // A new shop language: this page follows it (the switcher in the bar still changes only the page).
      if (body.language && out.seller.language !== lang()) setLang(out.seller.language);
      render();
      notify($("#shop-msg"), "success", t("common.saved"));
    } catch (err) {
      if (err.status !== 401) notify(box, "danger", describe(err));
    }
  });
  $("#pay-info-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $("#pay-info-msg");
    const text = ev.target.elements.payment_instructions.value.trim();
    const btn = ev.target.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      const notifyBuyers = ev.target.elements.notify_buyers.checked;
      const out = await api.patch("/auth/me", { payment_instructions: text || null, notify_buyers: notifyBuyers });
      setSession(out.token, out.seller);
      shop.seller = state.seller = out.seller;
      ev.target.elements.payment_instructions.value = out.seller.payment_instructions || "";
      notify(box, "success", t("common.saved"));
    } catch (err) {
      if (err.status !== 401) notify(box, "danger", describe(err));
    } finally {
      btn.disabled = false;
    }
  });
  $("#password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const box = $("#password-msg");
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      await api.post("/auth/password", { current_password: form.elements.current_password.value, new_password: form.elements.new_password.value });
      form.elements.current_password.value = "";
      form.elements.new_password.value = "";
      notify(box, "success", t("set.password_done"));
    } catch (err) {
      if (err.status !== 401) notify(box, "danger", describe(err));
    } finally {
      btn.disabled = false;
    }
  });
  $("#member-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      const out = await api.post("/members", formData(form));
      form.elements.email.value = "";
      await loadMembers();
      const linkBox = h("div", { class: "mt-1" });
      notify($("#member-msg"), "success", t(out.emailed ? "mem.invite_emailed" : "mem.invite_made"), linkBox);
      await showLink(out.invite_url, linkBox);
    } catch (err) {
      if (err.status !== 401) notify($("#member-msg"), "danger", describe(err));
    } finally {
      btn.disabled = false;
    }
  });
  $("#settings-logout").addEventListener("click", logOut);
}
