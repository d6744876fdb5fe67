// Log in, sign up, forgotten password (request and the emailed link), log out, and what
// happens when a session cannot be renewed: the typed forms are kept for after the login.
import { api, clearSession, describe, logout, onSessionExpired, setSession } from "./api.js";
import { $, $$, notify } from "./dom.js";
import { t } from "./i18n.js";
import { formData, shop } from "./app.js";

const DRAFTS = "drafts";
const DRAFT_FORMS = ["order-form", "customer-form", "item-form"];
const AUTH_FORMS = ["login-form", "signup-form", "forgot-form", "reset-form", "invite-form"];

let hooks = { loggedIn: async () => {}, loggedOut: () => {} };

// --- drafts: what was typed when the session ended ------------------------------------------

function saveDrafts() {
  const drafts = {};
  for (const id of DRAFT_FORMS) drafts[id] = formData(document.getElementById(id));
  sessionStorage.setItem(DRAFTS, JSON.stringify(drafts));
}

/** Put back what was typed before the session expired. */
export function restoreDrafts() {
  const raw = sessionStorage.getItem(DRAFTS);
  if (!raw) return null;
  sessionStorage.removeItem(DRAFTS);
  const drafts = JSON.parse(raw);
  for (const id of DRAFT_FORMS) fillForm(document.getElementById(id), drafts[id]);
}

/** Set a form's fields from an object (hidden fields and files left alone). */
export function fillForm(form, values) {
  for (const [name, value] of Object.entries(values || {})) {
    const el = form.elements[name];
    if (!el || el.type === "hidden" || el.type === "file") continue;
    if (el.type === "checkbox") el.checked = value;
    else el.value = value;
  }
}

// --- the auth screen ------------------------------------------------------------------------

function showAuthForm(id) {
  for (const form of AUTH_FORMS) $(`#${form}`).classList.toggle("d-none", form !== id);
}

/** The emailed "choose a new password" link: index.html#reset=<token>. */
export function resetToken() {
  const match = /^#reset=([A-Za-z0-9_-]+)$/.exec(location.hash);
  return match ? match[1] : null;
}

/** A shop's invite to a helper (issue 31): index.html#invite=<token>, sent by email or LINE. */
export function inviteToken() {
  const match = /^#invite=([A-Za-z0-9_-]+)$/.exec(location.hash);
  return match ? match[1] : null;
}

/** A link (reset or invite) wins over a stored session: the auth screen shows its form. */
export function authLink() {
  return resetToken() || inviteToken();
}

/** The invite's page names the shop and the login email before a password is chosen
 * (the email also tells a password manager whose password it saves). A link that no
 * longer works says so at once and shows the login form. */
async function describeInvite(token) {
  $("#invite-who").hidden = true;
  $("#invite-email-box").hidden = true;
  try {
    const info = await api.post("/members/invite-info", { token }, { auth: false });
    if (inviteToken() !== token) return; // another link was opened meanwhile
    $("#invite-who").textContent = t("auth.invite_who", { shop: info.shop_name, role: t(`mem.role_${info.role}`) });
    $("#invite-email").value = info.email;
    $("#invite-who").hidden = false;
    $("#invite-email-box").hidden = false;
  } catch (err) {
    if (inviteToken() !== token) return;
    notify($("#auth-msg"), "danger", describe(err));
    leaveDeadLink(err);
  }
}

export function showAuth(message, kind = "warning") {
  showAuthForm(resetToken() ? "reset-form" : inviteToken() ? "invite-form" : "login-form");
  if (inviteToken()) describeInvite(inviteToken());
  $("#boot").classList.add("d-none");
  $("#app-view").classList.add("d-none");
  $("#logout").classList.add("d-none");
  $("#auth-view").classList.remove("d-none");
  $("#brand").textContent = t("app.title");
  if (message) notify($("#auth-msg"), kind, message);
  else $("#auth-msg").replaceChildren();
}

async function afterAuth(out, seller) {
  clearSession();
  setSession(out.token, seller, out.refresh_token);
  shop.seller = seller || null;
  await hooks.loggedIn();
}

/** Log out here and on the server; forget drafts and typed forms. */
export async function logOut() {
  await logout();
  sessionStorage.removeItem(DRAFTS);
  shop.seller = null;
  for (const id of DRAFT_FORMS) document.getElementById(id).reset();
  hooks.loggedOut();
  showAuth();
}

/** A reset or invite link that no longer works: leave it, and show the form that helps next. */
function leaveDeadLink(err) {
  const next = {
    invalid_reset_token: "forgot-form",
    invalid_invite_token: "login-form",
    invite_expired: "login-form",
  }[err.code];
  if (!next) return;
  history.replaceState(null, "", location.pathname + location.search);
  showAuthForm(next);
}

/** A form whose submit button is disabled while `fn` runs; errors go to the auth message. */
function onSubmit(id, fn) {
  $(`#${id}`).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const btn = form.querySelector("[type=submit]");
    btn.disabled = true;
    try {
      await fn(form);
    } catch (err) {
      notify($("#auth-msg"), "danger", describe(err));
      leaveDeadLink(err);
    } finally {
      btn.disabled = false;
    }
  });
}

/** hooks: loggedIn() shows the workspace, loggedOut() forgets views' data. */
export function bindSession(given) {
  hooks = { ...hooks, ...given };
  for (const btn of $$("[data-show]")) {
    btn.addEventListener("click", () => {
      showAuthForm(btn.dataset.show);
      $("#auth-msg").replaceChildren();
    });
  }
  onSubmit("login-form", async (form) => {
    const out = await api.post("/auth/login", formData(form), { auth: false });
    form.elements.password.value = "";
    await afterAuth(out, null);
  });
  onSubmit("signup-form", async (form) => {
    const out = await api.post("/auth/signup", formData(form), { auth: false });
    form.elements.password.value = "";
    await afterAuth(out, out.seller);
  });
  onSubmit("forgot-form", async (form) => {
    await api.post("/auth/password-reset/request", formData(form), { auth: false });
    showAuthForm("login-form");
    notify($("#auth-msg"), "info", t("auth.reset_sent"));
  });
  onSubmit("reset-form", async (form) => {
    await api.post("/auth/password-reset", { token: resetToken(), ...formData(form) }, { auth: false });
    form.reset();
    history.replaceState(null, "", location.pathname + location.search);
    clearSession();
    showAuth(t("auth.reset_done"), "success");
  });
  onSubmit("invite-form", async (form) => {
    const out = await api.post("/members/accept", { token: inviteToken(), ...formData(form) }, { auth: false });
    form.reset();
    history.replaceState(null, "", location.pathname + location.search);
    await afterAuth(out, null);
  });
  $("#logout").addEventListener("click", logOut);
  onSessionExpired(() => {
    // Already logged out here (a request of the ended session answered late, or one a view
    // sent after the logout): the login screen stays as the person has it (the forgotten-
    // password form they opened), with no "session expired" over it.
    if (!$("#auth-view").classList.contains("d-none")) return;
    saveDrafts();
    clearSession();
    showAuth(t("auth.expired"));
  });
  // The emailed link may be opened in a tab that already shows this page.
  window.addEventListener("hashchange", () => {
    if (authLink()) showAuth();
  });
}
