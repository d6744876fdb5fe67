// The one API client of both pages: base URL from config.js (written at build time), the
// seller's session, contract errors turned into readable messages, and a session that
// cannot be renewed reported to the page (which keeps the typed data).
//
// Session: a 15-minute access token and a refresh token, kept in localStorage so a seller
// stays logged in across tabs and restarts. When the access token has expired the client
// renews it once, silently, and repeats the request. A refresh token works once: two tabs
// renewing with the same one would look like a stolen token and end the session, so
// renewals are serialised across tabs (Web Locks) and each re-reads the newest token.
import { API_BASE_URL } from "app-config";
import { has, t } from "./i18n.js";

const TOKEN = "token";
const REFRESH = "refresh_token";
const SELLER = "seller";
const LOCK = "personal-shopper-refresh";
let expiredHandler = null;
let renewing = null;

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function getToken() {
  return localStorage.getItem(TOKEN);
}

export function getSeller() {
  try {
    return JSON.parse(localStorage.getItem(SELLER) || "null");
  } catch {
    return null;
  }
}

/** Store what the server gave: a login's {token, refresh_token}, or a seller's profile. */
export function setSession(token, seller, refreshToken) {
  if (token) localStorage.setItem(TOKEN, token);
  if (refreshToken) localStorage.setItem(REFRESH, refreshToken);
  if (seller) localStorage.setItem(SELLER, JSON.stringify(seller));
}

export function clearSession() {
  for (const key of [TOKEN, REFRESH, SELLER]) localStorage.removeItem(key);
}

/** Log out: end the session on the server too (best effort), then forget it here. */
export async function logout() {
  const refreshToken = localStorage.getItem(REFRESH);
  clearSession();
  if (refreshToken) {
    await request("POST", "/auth/logout", { body: { refresh_token: refreshToken }, auth: false }).catch(() => null);
  }
}

/**
 * Renew the access token after `staleToken` was refused. Resolves true when a newer
 * token is stored (by this call, or by another tab meanwhile), false when the session
 * is over. One renewal at a time per tab, and across tabs where Web Locks exist.
 */
function renew(staleToken) {
  const run = async () => {
    if (getToken() && getToken() !== staleToken) return true; // another tab renewed it
    const refreshToken = localStorage.getItem(REFRESH);
    if (!refreshToken) return false;
    try {
      const out = await request("POST", "/auth/refresh", { body: { refresh_token: refreshToken }, auth: false });
      setSession(out.token, null, out.refresh_token);
      return true;
    } catch (err) {
      if (err.status === 401) {
        clearSession();
        return false;
      }
      throw err;
    }
  };
  if (!renewing) {
    const locked = navigator.locks ? navigator.locks.request(LOCK, run) : run();
    renewing = locked.finally(() => {
      renewing = null;
    });
  }
  return renewing;
}

/** Called with the error when the server says the token is missing, invalid or expired. */
export function onSessionExpired(fn) {
  expiredHandler = fn;
}

function url(path, query) {
  const u = new URL(API_BASE_URL + path, location.href);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
  }
  return u;
}

/**
 * request("POST", "/orders", {body}) → parsed JSON (or text for CSV, null for 204).
 * Options: query, body (JSON), raw + contentType (e.g. CSV), headers, auth (default true).
 */
export async function request(method, path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  const auth = opts.auth !== false;
  const token = auth ? getToken() : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers["Content-Type"] = opts.contentType || "text/plain";
  } else if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers["Content-Type"] = "application/json";
  }
  let resp;
  try {
    resp = await fetch(url(path, opts.query), { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "network", t("err.network"));
  }
  if (resp.status === 204) return null;
  const type = resp.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await resp.json().catch(() => null) : await resp.text();
  if (resp.ok) return data;
  const e = (data && data.error) || {};
  const err = new ApiError(resp.status, e.code || `http_${resp.status}`, e.message, e.details || []);
  err.body = data; // some answers carry more than details (statement_columns: the file's headers)
  if (resp.status === 401 && auth) {
    // A renewal that fails for a passing reason (offline, 503, a busy record) throws that
    // error and keeps the session: only the server saying the session is over logs out.
    if (err.code === "token_expired" && !opts.retried && (await renew(token))) {
      return request(method, path, { ...opts, retried: true });
    }
    if (expiredHandler) expiredHandler(err);
  }
  throw err;
}

export const api = {
  get: (path, query, opts = {}) => request("GET", path, { ...opts, query }),
  post: (path, body, opts = {}) => request("POST", path, { ...opts, body }),
  patch: (path, body, opts = {}) => request("PATCH", path, { ...opts, body }),
  del: (path, opts = {}) => request("DELETE", path, opts),
};

/** A field's name in the page's words (a name the table lacks is shown as sent). */
export function fieldName(field) {
  if (has(`field.${field}`)) return t(`field.${field}`);
  // "rates.JPY": the field's name and the key inside it ("Exchange rates JPY").
  const [head, ...rest] = String(field).split(".");
  return rest.length && has(`field.${head}`) ? `${t(`field.${head}`)} ${rest.join(".")}` : field;
}

/** One detail of an error, {row?, field, code, …}, in the page's language; the server's
 *  English `message` is never shown. */
export function detailLine(d) {
  if (typeof d !== "object" || d === null) return t("detail.invalid");
  const where = [d.row !== undefined ? t("order.row", { row: d.row }) : "", d.field && d.field !== "row" ? fieldName(d.field) : ""]
    .filter(Boolean)
    .join(" · ");
  const reason = t(has(`detail.${d.code}`) ? `detail.${d.code}` : "detail.invalid", d);
  return where ? `${where}${t("common.label_sep")}${reason}` : reason;
}

/** The message for an error code (e.g. a bulk failure's), never the raw code. */
export function codeText(code, status) {
  if (has(`code.${code}`)) return t(`code.${code}`);
  return t(has(`err.${status}`) ? `err.${status}` : "err.500", { message: "" });
}

/** A message a person can act on, in the current language. */
export function describe(err) {
  if (!(err instanceof ApiError)) return t("err.500");
  if (err.status === 0) return t("err.network");
  // 403/404 without the contract's error body: API Gateway's answer to an unknown route.
  if ((err.status === 403 || err.status === 404) && err.code.startsWith("http_")) return t("err.no_route");
  if (err.status === 401 && err.code === "unauthorized") return t("err.401");
  const details = (err.details || []).map(detailLine).join("; ");
  return [codeText(err.code, err.status), details].filter(Boolean).join(" ");
}

/** Fetch a file with the token and hand it to the browser as a download. */
export async function download(path, query, filename) {
  const text = await request("GET", path, { query });
  // fetch's text() drops the BOM; put it back so Excel reads Chinese CSV as UTF-8.
  const body = typeof text === "string" ? (text.startsWith("\uFEFF") ? text : `\uFEFF${text}`) : JSON.stringify(text, null, 2);
  const blob = new Blob([body], { type: typeof text === "string" ? "text/csv;charset=utf-8" : "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
