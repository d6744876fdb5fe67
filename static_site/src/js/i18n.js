// English and 繁體中文 for every page. Elements carry data-i18n (text), data-i18n-placeholder,
// data-i18n-title, data-i18n-aria or data-i18n-label (the text and the language's colon); dynamic text calls t(key, vars).
// The choice is remembered in localStorage; the default follows navigator.language.
// The texts are split by audience so the buyer pages load only theirs: i18n/buyer.js (every
// page) and i18n/seller.js (the seller page adds it with addTexts).
import BUYER from "./i18n/buyer.js";

const STRINGS = { en: { ...BUYER.en }, "zh-Hant": { ...BUYER["zh-Hant"] } };

/** Add a page's own texts ({en: {...}, "zh-Hant": {...}}) to the tables. */
export function addTexts(tables) {
  for (const [language, texts] of Object.entries(tables)) Object.assign(STRINGS[language], texts);
}

export const LANGS = { en: "English", "zh-Hant": "繁體中文" };
const KEY = "lang";

function initial() {
  const saved = localStorage.getItem(KEY);
  if (saved && STRINGS[saved]) return saved;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return nav.toLowerCase().startsWith("zh") ? "zh-Hant" : "en";
}

let current = initial();
const listeners = [];

export function lang() {
  return current;
}

/** The BCP 47 locale for Intl formatting. */
export function locale() {
  return current === "zh-Hant" ? "zh-TW" : "en";
}

/** Whether `key` has a text in language `language` (the test of the error-code table). */
export function has(key, language = current) {
  return key in STRINGS[language];
}

/** Every key of a language's table (the unit tests compare the two languages). */
export function keys(language) {
  return Object.keys(STRINGS[language] || {});
}

/** A text in a given language, whatever the page's (a message to a buyer in the shop's). */
export function tIn(language, key, vars = {}) {
  const table = STRINGS[language] || STRINGS.en;
  return (table[key] ?? STRINGS.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? "").toString());
}

export function t(key, vars = {}) {
  // English singulars: "key.one" when n is 1 ("Mark 1 order shipped?").
  const one = vars.n === 1 && STRINGS[current][`${key}.one`];
  const text = one || (STRINGS[current][key] ?? STRINGS.en[key] ?? key);
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? "").toString());
}

/** "label: text" with the language's colon: 繁中 writes "數量：3", never a half-width
 *  colon next to Chinese. Without text, the label and its colon (a line built of parts). */
export function labelled(label, text = "") {
  return `${label}${t("common.label_sep")}${text}`;
}

/** "main (aside)" with the language's brackets: 繁中 writes "陳小美（0912…）". */
export function aside(main, extra) {
  return `${main}${t("common.paren_open")}${extra}${t("common.paren_close")}`;
}

/** Translate every marked element under root. */
export function apply(root = document) {
  document.documentElement.lang = current === "zh-Hant" ? "zh-Hant-TW" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.textContent = labelled(t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

export function setLang(value) {
  if (!STRINGS[value]) return;
  current = value;
  localStorage.setItem(KEY, value);
  apply();
  for (const fn of listeners) fn(value);
}

export function onChange(fn) {
  listeners.push(fn);
}

/** Fill a <select> with the languages and keep it in step. */
export function bindSwitcher(select) {
  select.replaceChildren(...Object.entries(LANGS).map(([v, label]) => new Option(label, v, false, v === current)));
  select.addEventListener("change", () => setLang(select.value));
}
