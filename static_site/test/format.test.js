// Money, amounts and dates as the pages show and read them (static_site/src/js/format.js).
import "./browser.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { setLang } from "../src/js/i18n.js";
import { asciiDigits, centsToNumber, date, dateTime, money, month, parseCents, percent } from "../src/js/format.js";

test("parseCents reads what a seller types as integer cents", () => {
  assert.equal(parseCents("19.99"), 1999);
  assert.equal(parseCents("19.9"), 1990);
  assert.equal(parseCents("  250 "), 25000);
  assert.equal(parseCents("0.05"), 5);
  assert.equal(parseCents("999999999.99"), 99999999999);
  assert.equal(parseCents(""), 0);
  assert.equal(parseCents(null), 0);
  assert.equal(parseCents(undefined), 0);
  assert.equal(parseCents(12), 1200);
});

test("parseCents refuses what is not an amount (null, not a guess)", () => {
  for (const bad of ["1.234", "-5", "+5", "abc", "12a", "1e3", ".5", "5.", "1234567890", "1 000"]) {
    assert.equal(parseCents(bad), null, bad);
  }
  // Thousands separators are refused, not read as a decimal point or dropped.
  assert.equal(parseCents("1,250"), null);
  assert.equal(parseCents("1，250"), null);
  // Full-width digits are refused here: the buyer page turns them into ASCII first (asciiDigits).
  assert.equal(parseCents("１２５０"), null);
});

test("asciiDigits turns full-width digits and point into ASCII, nothing else", () => {
  assert.equal(asciiDigits("１２３４５"), "12345");
  assert.equal(asciiDigits("１，２５０．５"), "1，250.5");
  assert.equal(asciiDigits("NT$ ９６０"), "NT$ 960");
  assert.equal(asciiDigits(""), "");
  assert.equal(asciiDigits(null), "");
  assert.equal(parseCents(asciiDigits("７８０．５")), 78050);
  assert.equal(parseCents(asciiDigits("１，２５０")), null);
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
