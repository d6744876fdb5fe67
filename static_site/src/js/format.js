// Money and dates for display. Amounts arrive as JSON numbers in major units; anything the
// page adds up is done in integer cents (parseCents) so totals never drift.
import { locale } from "./i18n.js";

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

/** "19.99" → 1999; "" → 0; anything else (3 decimals, letters, negative) → null. */
export function parseCents(text) {
  const s = String(text ?? "").trim();
  if (s === "") return 0;
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0"));
}

/** Full-width digits and point (１２３．５, typed with a Chinese input method) as ASCII. */
export function asciiDigits(text) {
  return String(text || "").replace(/[\uFF10-\uFF19\uFF0E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** Integer cents → a JSON number with at most 2 decimals (what the API takes). */
export function centsToNumber(cents) {
  return Number(`${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`);
}

/** A calendar date (YYYY-MM-DD) or an ISO timestamp as a short local date. */
export function date(value) {
  if (!value) return "";
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split("-").map(Number);
    return new Intl.DateTimeFormat(locale(), { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }).format(
      Date.UTC(y, m - 1, d),
    );
  }
  const when = new Date(value);
  if (Number.isNaN(when.getTime())) return value;
  return new Intl.DateTimeFormat(locale(), { year: "numeric", month: "short", day: "numeric" }).format(when);
}

/** "2026-03" → "Mar" / "3月" for chart labels. */
export function month(value) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(value));
  if (!m) return String(value);
  return new Intl.DateTimeFormat(locale(), { month: "short", timeZone: "UTC" }).format(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}

/** An ISO timestamp as a local date and time, e.g. "Dec 3, 2026, 14:05". */
export function dateTime(value) {
  const when = new Date(value);
  if (!value || Number.isNaN(when.getTime())) return value || "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(when);
}

/** A ratio as a percentage: 0.2534 → "25.3%"; null → "". */
export function percent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(Number(ratio))) return "";
  return new Intl.NumberFormat(locale(), { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Number(ratio));
}
