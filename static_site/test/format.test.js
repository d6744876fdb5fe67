// Money, amounts and dates as the pages show and read them (static_site/src/js/format.js).
import "./browser.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { setLang } from "../src/js/i18n.js";
import { amountError, asciiDigits, centsToNumber, date, dateTime, money, month, parseCents, percent, typedAmount } from "../src/js/format.js";

test("parseCents reads what a seller types as integer cents", () => {
  assert.equal(parseCents("19.99"), 1999);
  assert.equal(parseCents("19.9"), 1990);
  assert.equal(parseCents("  250 "), 25000);
  assert.equal(parseCents("0.05"), 5);
  assert.equal(parseCents("100000000"), 10000000000); // the server's largest amount
  assert.equal(parseCents("100000000.01"), null);
  assert.equal(parseCents(""), 0);
  assert.equal(parseCents(null), 0);
  assert.equal(parseCents(undefined), 0);
  assert.equal(parseCents(12), 1200);
});

test("parseCents refuses what is not an amount (null, not a guess)", () => {
  for (const bad of ["1.234", "-5", "+5", "abc", "12a", "1e3", ".5", "5.", "1234567890", "1 000"]) {
    assert.equal(parseCents(bad), null, bad);
  }
  // Separators not grouped by threes are refused, not read as a decimal point or dropped.
  for (const bad of ["1,25", "12,50", "1.250,50", "1,2500"]) assert.equal(parseCents(bad), null, bad);
});

// Issue 27: the same cases as tests/unit/test_money.py, read as the server reads them.
test("typedAmount reads amounts as people type them, in both widths", () => {
  const cases = [
    ["1200", "TWD", 120000],
    ["１２００", "TWD", 120000],
    ["１２０．５", "TWD", 12050],
    ["1,200", "TWD", 120000],
    ["１，２００", "TWD", 120000],
    ["1,234,567.89", "TWD", 123456789],
    ["NT$1200", "TWD", 120000],
    ["NT$ 1,200", "TWD", 120000],
    ["nt$1200", "TWD", 120000],
    ["$1200", "TWD", 120000],
    ["＄１２００", "TWD", 120000],
    ["ＮＴ＄６０", "TWD", 6000],
    ["1200元", "TWD", 120000],
    ["１，２００ 元", "TWD", 120000],
    ["TWD 1200", "TWD", 120000],
    ["\u3000１２００\u3000", "TWD", 120000],
    ["¥1200", "JPY", 120000],
    ["￥１２００", "JPY", 120000],
    ["1200円", "JPY", 120000],
    ["JPY1,200", "JPY", 120000],
    ["US$12.50", "USD", 1250],
    ["$12.50", "USD", 1250],
    ["HK$88", "HKD", 8800],
    ["0", "TWD", 0],
  ];
  for (const [text, currency, cents] of cases) {
    assert.deepEqual(typedAmount(text, currency), { cents }, text);
    assert.equal(parseCents(text, currency), cents, text);
  }
  assert.deepEqual(typedAmount("  ", "TWD"), { cents: 0, empty: true });
});

test("typedAmount refuses what it cannot read, with the server's detail code", () => {
  const notAmounts = [
    ["1.200,50", "TWD"],
    ["１．２００，５０", "TWD"],
    ["12,00", "TWD"],
    ["1,200,0", "TWD"],
    ["NT$1200元", "TWD"],
    ["NT$NT$1200", "TWD"],
    ["$$1200", "TWD"],
    ["¥1200", "TWD"],
    ["1200円", "TWD"],
    ["NT$1200", "JPY"],
    ["€12", "USD"],
    ["NT$1200", undefined], // no currency known: no sign is read
    ["abc", "TWD"],
    ["12a0", "TWD"],
    ["１２００ｄ", "TWD"],
    ["1e3", "TWD"],
    ["NT$", "TWD"],
    ["1 200", "TWD"],
    ["--1200", "TWD"],
    ["٣٠٠", "TWD"],
    ["1".repeat(41), "TWD"],
  ];
  for (const [text, currency] of notAmounts) {
    assert.deepEqual(typedAmount(text, currency), { error: "not_an_amount" }, text);
    assert.equal(parseCents(text, currency), null, text);
  }
  const ownCodes = [
    ["-1200", "negative"],
    ["－１２００", "negative"],
    ["NT$-1200", "negative"],
    ["-NT$1,200", "negative"],
    ["1200.555", "too_many_decimals"],
    ["１２０．５５５", "too_many_decimals"],
    ["NT$100,000,001", "too_large"],
  ];
  for (const [text, error] of ownCodes) assert.deepEqual(typedAmount(text, "TWD"), { error }, text);
});

test("amountError says why in the page's language", () => {
  setLang("en");
  assert.equal(amountError("1.200,50", "TWD"), "not an amount");
  assert.equal(amountError("NT$1,200", "TWD"), "");
  assert.equal(amountError("¥60", "TWD", "Amount"), "Amount: not an amount");
  assert.equal(amountError("1.234", "TWD", "Amount"), "Amount: Enter an amount with at most 2 decimals.");
  setLang("zh-Hant");
  assert.equal(amountError("abc", "TWD"), "不是金額");
  assert.equal(amountError("-5", "TWD"), "不能是負數");
  assert.equal(amountError("1,2", "TWD", "單價"), "單價：不是金額"); // the language's colon
  assert.equal(amountError("0", "TWD", "金額", "not_positive"), "金額：必須大於 0");
  assert.equal(amountError("60", "TWD", "金額"), "");
  setLang("en");
});

test("asciiDigits turns full-width digits and point into ASCII, nothing else", () => {
  assert.equal(asciiDigits("１２３４５"), "12345");
  assert.equal(asciiDigits("１，２５０．５"), "1，250.5");
  assert.equal(asciiDigits("NT$ ９６０"), "NT$ 960");
  assert.equal(asciiDigits(""), "");
  assert.equal(asciiDigits(null), "");
  assert.equal(parseCents(asciiDigits("７８０．５")), 78050);
});

test("centsToNumber gives the API a number with at most two decimals", () => {
  assert.equal(centsToNumber(1999), 19.99);
  assert.equal(centsToNumber(5), 0.05);
  assert.equal(centsToNumber(0), 0);
  assert.equal(centsToNumber(100000), 1000);
  // 0.1 + 0.2 in cents stays exact on the way out.
  assert.equal(centsToNumber(parseCents("0.1") + parseCents("0.2")), 0.3);
});

test("money: the shop's currency with the same symbol in both languages", () => {
  setLang("en");
  assert.equal(money(1250, "TWD"), "NT$1,250");
  assert.equal(money(780.5, "TWD"), "NT$780.50");
  assert.equal(money(3000, "JPY"), "¥3,000");
  assert.equal(money(0, "TWD"), "NT$0");
  assert.equal(money(1250), "1,250");
  assert.equal(money(1250.456), "1,250.46");
  assert.equal(money(null, "TWD"), "");
  assert.equal(money(undefined, "TWD"), "");
  assert.equal(money("x", "TWD"), "");
  setLang("zh-Hant");
  // zh-TW alone writes TWD as "$": the page keeps "NT$".
  assert.equal(money(1250, "TWD"), "NT$1,250");
  assert.equal(money(3000, "JPY"), "¥3,000");
  setLang("en");
});

test("money: an unknown currency code falls back to a plain number", () => {
  setLang("en");
  assert.equal(money(1250, "NOT-A-CODE"), "1,250");
});

test("date: calendar dates stay on their day in any time zone; timestamps are local", () => {
  setLang("en");
  assert.equal(date("2026-12-04"), "Dec 4, 2026");
  assert.equal(date("2026-12-04T23:30:00Z"), "Dec 4, 2026");
  assert.equal(date(""), "");
  assert.equal(date(null), "");
  assert.equal(date("not a date"), "not a date");
  setLang("zh-Hant");
  assert.equal(date("2026-12-04"), "2026年12月4日");
  setLang("en");
});

// Issue 27: the orders list formats two dates a row; a formatter made per date was most of
// its drawing (~95 ms for 100 rows). Made once per language, and the language still counts.
test("date: one Intl formatter per language, not one per date", () => {
  const Real = Intl.DateTimeFormat;
  let made = 0;
  Intl.DateTimeFormat = function (...args) {
    made += 1;
    return new Real(...args);
  };
  try {
    for (const lang of ["en", "zh-Hant", "en"]) {
      setLang(lang);
      for (let i = 1; i <= 100; i += 1) date(`2026-11-${String(1 + (i % 28)).padStart(2, "0")}T10:00:00Z`);
    }
    assert.ok(made <= 2, `${made} formatters made for 300 dates`);
    setLang("zh-Hant");
    assert.equal(date("2026-12-04T10:00:00Z"), "2026年12月4日");
    setLang("en");
    assert.equal(date("2026-12-04T10:00:00Z"), "Dec 4, 2026");
  } finally {
    Intl.DateTimeFormat = Real;
  }
});

test("month, dateTime and percent", () => {
  setLang("en");
  assert.equal(month("2026-03"), "Mar");
  assert.equal(month("March"), "March");
  assert.match(dateTime("2026-12-03T14:05:00Z"), /^Dec 3, 2026.*2:05/);
  assert.equal(dateTime(""), "");
  assert.equal(dateTime("soon"), "soon");
  assert.equal(percent(0.2534), "25.3%");
  assert.equal(percent(null), "");
  setLang("zh-Hant");
  assert.equal(month("2026-03"), "3月");
  setLang("en");
});
