// The rule for an exchange rate that looks inverted or far off (static_site/src/js/rates.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { oddRate, roughRate } from "../src/js/rates.js";

test("a yen rate above 1 in a TWD shop looks inverted, and 1 ÷ rate is suggested", () => {
  assert.deepEqual(oddRate("JPY", "TWD", "4.7"), { kind: "inverted", about: "0.21", suggest: "0.2128" });
  assert.deepEqual(oddRate("KRW", "TWD", "43"), { kind: "inverted", about: "0.023", suggest: "0.02326" });
  assert.deepEqual(oddRate("JPY", "USD", "150"), { kind: "inverted", about: "0.0066", suggest: "0.006667" });
});

test("a dollar rate below 1 in a TWD shop looks inverted too", () => {
  assert.deepEqual(oddRate("USD", "TWD", "0.031"), { kind: "inverted", about: "32", suggest: "32.26" });
  assert.deepEqual(oddRate("EUR", "TWD", "0.029"), { kind: "inverted", about: "35", suggest: "34.48" });
});

test("rates of the right size are taken as typed, a cash rate or a year's move included", () => {
  for (const [code, shop, rate] of [
    ["JPY", "TWD", "0.2115"],
    ["JPY", "TWD", "0.19"],
    ["USD", "TWD", "32.5"],
    ["KRW", "TWD", "0.0235"],
    ["THB", "TWD", "0.93"],
    ["USD", "JPY", "151"],
    ["TWD", "HKD", "0.24"],
  ]) {
    assert.equal(oddRate(code, shop, rate), null, `${code} ${rate} ${shop}`);
  }
});

test("near parity both ways are plausible: nothing is asked", () => {
  assert.equal(oddRate("HKD", "CNY", "0.91"), null);
  assert.equal(oddRate("HKD", "CNY", "1.1"), null);
  assert.equal(oddRate("USD", "SGD", "0.74"), null);
});

test("a rate far off that is not an inverse says the rough size, no guess", () => {
  assert.deepEqual(oddRate("JPY", "TWD", "21"), { kind: "far", about: "0.21", suggest: null });
  assert.deepEqual(oddRate("JPY", "TWD", "0.0021"), { kind: "far", about: "0.21", suggest: null });
  assert.deepEqual(oddRate("JPY", "TWD", "2.1"), { kind: "far", about: "0.21", suggest: null }); // a slipped point
});

test("a currency the table does not know is never questioned", () => {
  assert.equal(roughRate("XAF", "TWD"), null);
  assert.equal(oddRate("XAF", "TWD", "5000"), null);
  assert.equal(oddRate("JPY", "XAF", "0.0001"), null);
  assert.equal(oddRate("JPY", "TWD", ""), null);
});
