// Money and dates for display. Amounts arrive as JSON numbers in major units; anything the
// page adds up is done in integer cents (parseCents) so totals never drift.
import { labelled, locale, t } from "./i18n.js";

const moneyFormats = new Map();

/** Money in the shop's currency, the same symbol in both languages (NT$1,250, ¥3,000:
 *  zh-TW alone would write TWD as "$"); falls back to a plain number. */
export function money(amount, currency) {
  if (amount === null || amount === undefined || Number.isNaN(Number(amount))) return "";
  if (!currency) return new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(amount);
  const key = `${locale()}|${currency}`;
  if (!moneyFormats.has(key)) {
    try {
      // NT$960 rather than NT$960.00, but NT$780.50 keeps both decimals.
      const options = { style: "currency", currency, maximumFractionDigits: 2, trailingZeroDisplay: "stripIfInteger" };
      const format = new Intl.NumberFormat(locale(), options);
      const symbol = new Intl.NumberFormat("en", options).formatToParts(0).find((p) => p.type === "currency")?.value;
      moneyFormats.set(key, {
        format: (n) =>
          format
            .formatToParts(n)
            .map((p) => (p.type === "currency" && symbol ? symbol : p.value))
            .join(""),
      });
    } catch {
      moneyFormats.set(key, new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }));
    }
  }
  return moneyFormats.get(key).format(amount);
}

// --- amounts as people type them (issue 27): read as the server reads them (money.read_amount) ---

const MAX_CENTS = 100_000_000 * 100;
// Words people write after an amount, by currency (CLDR, and so Intl, has symbols, not these).
const WORDS = { TWD: ["元", "塊"], CNY: ["元"], HKD: ["元"], MOP: ["元"], JPY: ["円", "圓"] };
// A sign, a minus, the number (plain, or grouped by threes with commas), a sign.
const AMOUNT = /^(-?)\s*([^\s0-9.,-]*)\s*(-?)\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([^\s0-9.,-]*)$/;
const NUMBER = /^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$/;
const signSets = new Map();

/** What a Chinese or Japanese input method types in full-width mode, as ASCII: digits,
 *  point, comma, ＮＴ＄, minus (all of U+FF01–FF5E), the yen sign, the ideographic space. */
export function halfWidth(text) {
  return String(text ?? "")
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\uFFE5/g, "¥")
    .replace(/\u3000/g, " ");
}

/** How people write `currency` next to an amount, upper case: its code, its symbols in
 *  English and Chinese and their bare form, and a word: TWD → TWD, NT$, $, 元 (the server's
 *  money.signs, from the same CLDR data: tests/unit/test_typed_amounts_js.py compares them). */
export function currencySigns(currency) {
  if (!signSets.has(currency)) {
    const found = new Set([currency, ...(WORDS[currency] || [])]);
    for (const loc of ["en", "zh-Hant-TW", "zh-Hant", "zh-Hans", "ja"]) {
      try {
        const part = new Intl.NumberFormat(loc, { style: "currency", currency }).formatToParts(0).find((p) => p.type === "currency");
        const symbol = halfWidth(part?.value || currency);
        found.add(symbol).add(symbol.replace(/^[A-Z]+/, "") || symbol);
      } catch {
        // an unknown code: only the code itself
      }
    }
    signSets.set(currency, new Set([...found].map((x) => x.toUpperCase())));
  }
  return signSets.get(currency);
}

/** An amount as people type it in the shop's `currency`: full-width digits (１２００),
 *  thousands separators (1,200, １，２００) and one sign of that currency before or after
 *  (NT$1,200, $1200, 1200元; ¥1200 in a JPY shop). {cents} ("" is {cents: 0, empty: true}),
 *  or {error} with the server's detail code: not_an_amount (1.200,50, two signs, another
 *  currency's sign, letters: never guessed), negative, too_many_decimals, too_large. */
export function typedAmount(text, currency) {
  const s = halfWidth(text).trim();
  if (s === "") return { cents: 0, empty: true };
  const m = s.length <= 40 ? AMOUNT.exec(s) : null;
  if (!m || (m[1] && m[3]) || !NUMBER.test(m[4])) return { error: "not_an_amount" };
  const before = m[2].toUpperCase();
  const after = m[5].toUpperCase();
  const sign = before || after;
  if ((before && after) || (sign && !(currency && currencySigns(currency).has(sign)))) return { error: "not_an_amount" };
  const [whole, frac = ""] = m[4].replace(/,/g, "").split(".");
  const digits = frac.replace(/0+$/, "");
  const zero = /^0+$/.test(whole) && digits === "";
  if ((m[1] || m[3]) && !zero) return { error: "negative" };
  const units = whole.replace(/^0+(?=[0-9])/, "");
  if (units.length > 9 || Number(units) * 100 + (digits ? 1 : 0) > MAX_CENTS) return { error: "too_large" };
  if (digits.length > 2) return { error: "too_many_decimals" };
  return { cents: Number(units) * 100 + Number(digits.padEnd(2, "0")) };
}

/** Integer cents of an amount as typed (typedAmount; also a number the API sent, as text):
 *  "19.99" → 1999, "NT$1,200" → 120000, "" → 0; anything else → null. */
export function parseCents(text, currency) {
  const r = typedAmount(text, currency);
  return r.error ? null : r.cents;
}

/** Why a typed amount is refused, in the page's language, named by its field when given a
 *  `label` ("Unit price: not an amount", "單價：不是金額"); for an amount that reads, the
 *  `fallback` detail code's reason (not_positive for a payment of 0), else "". */
export function amountError(text, currency, label = "", fallback = "") {
  const code = typedAmount(text, currency).error || fallback;
  if (!code) return "";
  // Too many decimals says how many are allowed ("at most 2 decimals"), as before.
  const reason = t(code === "too_many_decimals" ? "err.invalid_money" : `detail.${code}`);
  return label ? labelled(label, reason) : reason;
}

/** Full-width digits and point (１２３．５, typed with a Chinese input method) as ASCII. */
export function asciiDigits(text) {
  return String(text || "").replace(/[\uFF10-\uFF19\uFF0E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** Integer cents → a JSON number with at most 2 decimals (what the API takes). */
export function centsToNumber(cents) {
  return Number(`${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`);
}

// Made once per language: making an Intl formatter costs ~0.3-0.7 ms, using one ~1 µs, and
// the orders list formats 200 dates per page (its draw was ~95 ms; issue 27).
const DAY = { year: "numeric", month: "short", day: "numeric" };
const dateFormats = new Map();

/** The page language's Intl.DateTimeFormat with `options` (named by `name`), made once. */
function dateFormat(name, options) {
  const key = `${locale()}|${name}`;
  if (!dateFormats.has(key)) dateFormats.set(key, new Intl.DateTimeFormat(locale(), options));
  return dateFormats.get(key);
}

/** A calendar date (YYYY-MM-DD) or an ISO timestamp as a short local date. */
export function date(value) {
  if (!value) return "";
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split("-").map(Number);
    return dateFormat("day-utc", { ...DAY, timeZone: "UTC" }).format(Date.UTC(y, m - 1, d));
  }
  const when = new Date(value);
  if (Number.isNaN(when.getTime())) return value;
  return dateFormat("day", DAY).format(when);
}

/** "2026-03" → "Mar" / "3月" for chart labels. */
export function month(value) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(value));
  if (!m) return String(value);
  return dateFormat("month-utc", { month: "short", timeZone: "UTC" }).format(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}

/** An ISO timestamp as a local date and time, e.g. "Dec 3, 2026, 14:05". */
export function dateTime(value) {
  const when = new Date(value);
  if (!value || Number.isNaN(when.getTime())) return value || "";
  return dateFormat("date-time", { dateStyle: "medium", timeStyle: "short" }).format(when);
}

/** A ratio as a percentage: 0.2534 → "25.3%"; null → "". */
export function percent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(Number(ratio))) return "";
  return new Intl.NumberFormat(locale(), { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Number(ratio));
}
