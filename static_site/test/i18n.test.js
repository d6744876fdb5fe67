// Looking texts up (static_site/src/js/i18n.js with both tables, as on the seller page):
// placeholders, singulars, the fallback to English, both languages having the same keys.
import "./browser.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { has, keys, lang, locale, setLang, t, tIn } from "../src/js/i18n.js";
// As on the seller page: its own texts added to the buyer pages' table.
import "../src/js/i18n/seller.js";

test("the page starts in the browser's language (English here) and switches", () => {
  assert.equal(lang(), "en");
  assert.equal(locale(), "en");
  setLang("zh-Hant");
  assert.equal(lang(), "zh-Hant");
  assert.equal(locale(), "zh-TW");
  assert.equal(localStorage.getItem("lang"), "zh-Hant");
  setLang("klingon");
  assert.equal(lang(), "zh-Hant");
  setLang("en");
});

test("t fills {placeholders}; a missing value is empty, not 'undefined'", () => {
  setLang("en");
  assert.equal(t("order.created", { no: 12 }), "Order #12 created.");
  assert.equal(t("order.created", { no: 0 }), "Order #0 created.");
  assert.equal(t("order.created"), "Order # created.");
  setLang("zh-Hant");
  assert.match(t("order.created", { no: 12 }), /12/);
  assert.doesNotMatch(t("order.created", { no: 12 }), /Order/);
  setLang("en");
});

test("English singulars: key.one when n is 1", () => {
  setLang("en");
  assert.equal(t("confirm.bulk_remit", { n: 1 }), "Mark 1 order remitted?");
  assert.notEqual(t("confirm.bulk_remit", { n: 2 }), "Mark 1 order remitted?");
  assert.match(t("confirm.bulk_remit", { n: 2 }), /2/);
  // Chinese has no singular form: the one text serves every n.
  setLang("zh-Hant");
  assert.equal(t("confirm.bulk_remit", { n: 1 }), t("confirm.bulk_remit", { n: 1, x: 0 }));
  assert.match(t("confirm.bulk_remit", { n: 1 }), /1/);
  setLang("en");
});

test("a key missing in Chinese falls back to English, an unknown key to itself", () => {
  // Singular forms exist only in English: asked for in Chinese they come from English.
  assert.equal(has("confirm.bulk_remit.one", "zh-Hant"), false);
  assert.equal(tIn("zh-Hant", "confirm.bulk_remit.one"), "Mark 1 order remitted?");
  assert.equal(tIn("zh-Hant", "no.such.key"), "no.such.key");
  assert.equal(tIn("fr", "order.created", { no: 3 }), "Order #3 created.");
  setLang("zh-Hant");
  assert.equal(t("no.such.key"), "no.such.key");
  setLang("en");
});

test("tIn speaks a given language whatever the page's", () => {
  setLang("en");
  assert.equal(tIn("zh-Hant", "order.created", { no: 5 }), (setLang("zh-Hant"), t("order.created", { no: 5 })));
  setLang("en");
});

test("both languages have the same keys (English alone has key.one singulars)", () => {
  const en = new Set(keys("en"));
  const zh = new Set(keys("zh-Hant"));
  assert.ok(en.size > 400, en.size);
  const onlyEn = [...en].filter((k) => !zh.has(k) && !(k.endsWith(".one") && en.has(k.slice(0, -4))));
  const onlyZh = [...zh].filter((k) => !en.has(k));
  assert.deepEqual({ onlyEn, onlyZh }, { onlyEn: [], onlyZh: [] });
  for (const k of en) assert.ok(has(k, "en"));
});

test("no text is empty, and placeholders match across languages", () => {
  const bad = [];
  const names = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(",");
  // The text as written: every {name} filled with itself.
  const raw = (l, k) => tIn(l, k, new Proxy({}, { get: (_, p) => `{${String(p)}}` }));
  for (const l of ["en", "zh-Hant"]) for (const k of keys(l)) if (!raw(l, k).trim()) bad.push(`${l} ${k}`);
  // A {name} in one language and not the other loses a value.
  for (const k of keys("zh-Hant")) {
    if (names(raw("en", k)) !== names(raw("zh-Hant", k))) bad.push(`placeholders ${k}: ${raw("en", k)} | ${raw("zh-Hant", k)}`);
  }
  assert.deepEqual(bad, []);
});
