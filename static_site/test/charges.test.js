// Charges as the pages show them (static_site/src/js/charges.js): kinds in words, what is
// still owed, which charges a payment can take, a payment's allocation lines, typed amounts.
import "./browser.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { setLang } from "../src/js/i18n.js";
import { allocationLabel, balanceCents, kindText, openCharges, owedOn, readAmount } from "../src/js/charges.js";

test("a kind reads in the page's language; an unknown kind as it is", () => {
  setLang("en");
  assert.equal(kindText("duty"), "Customs duty");
  assert.equal(kindText("shipping"), "Shipping");
  assert.equal(kindText("storage"), "storage");
  setLang("zh-Hant");
  assert.equal(kindText("duty"), "關稅");
  assert.equal(kindText("packaging"), "包材費");
  setLang("en");
});

test("what a charge still owes, in cents: the server's balance, nothing once voided", () => {
  assert.equal(balanceCents({ amount: 60, paid_amount: 0, balance: 60, status: "open" }), 6000);
  assert.equal(balanceCents({ amount: 60.5, paid_amount: 20.25, balance: 40.25, status: "open" }), 4025);
  assert.equal(balanceCents({ amount: 60, paid_amount: 60, balance: 0, status: "open" }), 0);
  assert.equal(balanceCents({ amount: 60, paid_amount: 10, balance: 50, status: "void" }), 0);
  // No balance in the answer: amount − paid, never below zero.
  assert.equal(balanceCents({ amount: 0.3, paid_amount: 0.1, status: "open" }), 20);
  assert.equal(balanceCents({ amount: 5, paid_amount: 9, status: "open" }), 0);
});

test("open charges: unpaid or partly paid, not voided, oldest first", () => {
  const list = [
    { id: "c", amount: 10, paid_amount: 0, balance: 10, status: "open", created_at: "2026-12-03T10:00:00Z" },
    { id: "paid", amount: 10, paid_amount: 10, balance: 0, status: "open", created_at: "2026-12-01T10:00:00Z" },
    { id: "void", amount: 10, paid_amount: 0, balance: 0, status: "void", created_at: "2026-12-01T10:00:00Z" },
    { id: "a", amount: 10, paid_amount: 4, balance: 6, status: "open", created_at: "2026-12-02T10:00:00Z" },
  ];
  assert.deepEqual(
    openCharges(list).map((c) => c.id),
    ["a", "c"],
  );
  assert.deepEqual(openCharges(undefined), []);
});

test("an allocation names its order or its charge", () => {
  setLang("en");
  assert.equal(allocationLabel({ order_id: "o1", order_no: 1001, amount: 150 }), "#1001");
  assert.equal(allocationLabel({ charge_id: "c1", kind: "duty", amount: 60 }), "Customs duty");
  assert.equal(allocationLabel({ charge_id: "c2", kind: "shipping", parcel_no: 7, amount: 60 }), "Shipping · Parcel #7");
  setLang("zh-Hant");
  assert.equal(allocationLabel({ charge_id: "c2", kind: "shipping", parcel_no: 7, amount: 60 }), "運費 · 包裹 #7");
  setLang("en");
});

test("a typed amount: as people type it in the shop's currency; nothing, zero or junk is null", () => {
  assert.equal(readAmount("１２０", "TWD"), 12000);
  assert.equal(readAmount("６０．５", "TWD"), 6050);
  assert.equal(readAmount(" 60 ", "TWD"), 6000);
  assert.equal(readAmount("NT$60", "TWD"), 6000);
  assert.equal(readAmount("１，２００元", "TWD"), 120000);
  for (const bad of ["", "0", "-5", "1.200,50", "abc", "1.234", "¥60"]) assert.equal(readAmount(bad, "TWD"), null, bad);
});

test("a message lists the orders, then each open charge in the message's language", () => {
  setLang("en"); // the page in English, the shop writing to buyers in Chinese
  const charges = [
    { kind: "shipping", amount: 60, paid_amount: 0, balance: 60, status: "open", created_at: "2026-12-02" },
    { kind: "duty", amount: 80, paid_amount: 80, balance: 0, status: "open", created_at: "2026-12-01" },
    { kind: "packaging", amount: 15, paid_amount: 0, balance: 0, status: "void", created_at: "2026-12-01" },
  ];
  assert.deepEqual(owedOn([1001, 1003], charges, "zh-Hant", "TWD"), ["#1001", "#1003", "運費 NT$60"]);
  assert.deepEqual(owedOn([], charges, "en", "TWD"), ["Shipping NT$60"]);
  assert.deepEqual(owedOn([1001], [], "en", "TWD"), ["#1001"]);
});
