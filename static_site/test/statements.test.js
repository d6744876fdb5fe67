// Bank statement rows as the payments tab shows them (static_site/src/js/statements.js):
// proposals in words in both languages, only confident rows ticked, what "Confirm N" and a
// hand assignment send, the columns pre-selected when the server asks for them.
import "./browser.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { keys, setLang } from "../src/js/i18n.js";
import "../src/js/i18n/seller.js";
import { applyBatches, applyRequests, choices, guessMapping, handEntry, mappingToSend, proposalText, rowKey } from "../src/js/statements.js";

const row = (over = {}) => ({
  statement_id: "s1",
  row: 7,
  date: "2026-12-01",
  amount: 1200,
  memo: "跨行轉入",
  account_last5: "12345",
  status: "proposed",
  confident: true,
  proposals: [{ customer_id: "c1", customer_name: "王小明", payment_id: "p1", reason: "reported_transfer", reasons: ["reported_transfer"], score: 95 }],
  ...over,
});

test("each reason reads as a sentence in both languages, with the name, amount and last five digits", () => {
  setLang("en");
  const r = row();
  assert.equal(proposalText(r.proposals[0], r, "TWD"), "王小明 — reported a transfer of NT$1,200 from 12345");
  setLang("zh-Hant");
  assert.equal(proposalText(r.proposals[0], r, "TWD"), "王小明：回報匯款 NT$1,200，帳號後五碼 12345");
  const texts = {};
  for (const lang of ["en", "zh-Hant"]) {
    setLang(lang);
    for (const reason of ["reported_transfer", "reported_amount", "balance_equals", "same_account"]) {
      const text = proposalText({ customer_name: "Amy", reason }, r, "TWD");
      assert.ok(text.startsWith("Amy") && text.length > "Amy".length + 5, `${lang} ${reason}: ${text}`);
      assert.ok(!text.includes("stmt."), text);
      texts[`${lang} ${reason}`] = text;
    }
  }
  assert.equal(new Set(Object.values(texts)).size, 8); // a sentence of its own per reason
  setLang("zh-Hant");
  assert.match(proposalText({ customer_name: "Amy", reason: "same_account" }, r, "TWD"), /12345/);
  assert.match(proposalText({ customer_name: "Amy", reason: "balance_equals" }, r, "TWD"), /NT\$1,200/);
  // A reason this page does not know yet: the buyer's name, never a key.
  assert.equal(proposalText({ customer_name: "Amy", reason: "new_reason" }, r, "TWD"), "Amy");
  setLang("en");
});

test("every statement text has both languages", () => {
  const en = keys("en").filter((k) => k.startsWith("stmt.") && !k.endsWith(".one"));
  const zh = new Set(keys("zh-Hant").filter((k) => k.startsWith("stmt.")));
  assert.ok(en.length > 40, en.length);
  assert.deepEqual(
    en.filter((k) => !zh.has(k)),
    [],
  );
});

test("only confident rows with a proposal start ticked; the seller's choices stay on a reload", () => {
  const rows = [
    row(),
    row({ row: 8, confident: false }),
    row({ row: 9, confident: true, proposals: [] }), // never ticked without a proposal
    row({ row: 10, statement_id: "s2" }),
  ];
  const first = choices(rows);
  assert.deepEqual(
    rows.map((r) => first.get(rowKey(r)).ticked),
    [true, false, false, true],
  );
  first.get("s1:7").ticked = false; // the seller unticks one
  first.get("s1:8").ticked = true; // and ticks another
  const again = choices([...rows, row({ row: 11 })], first);
  assert.equal(again.get("s1:7").ticked, false);
  assert.equal(again.get("s1:8").ticked, true);
  assert.equal(again.get("s1:11").ticked, true);
  // A chosen proposal the row no longer has falls back to the row's first.
  const picked = new Map([["s1:7", { ticked: true, pick: 3 }]]);
  assert.deepEqual(choices([row()], picked).get("s1:7"), { ticked: true, pick: 0 });
});

test("Confirm N sends the ticked rows with their chosen proposal, one list per statement", () => {
  const two = [
    { customer_id: "c1", customer_name: "A", payment_id: "p1", reason: "reported_transfer" },
    { customer_id: "c2", customer_name: "B", reason: "balance_equals" },
  ];
  const rows = [row({ proposals: two }), row({ row: 8 }), row({ row: 3, statement_id: "s2", proposals: two }), row({ row: 4, statement_id: "s2", proposals: [] })];
  const chosen = choices(rows);
  chosen.get("s1:8").ticked = false;
  chosen.get("s2:3").pick = 1;
  chosen.get("s2:4").ticked = true; // a row without a proposal is never sent
  const batches = applyBatches(rows, chosen);
  assert.deepEqual([...batches.keys()], ["s1", "s2"]);
  assert.deepEqual(batches.get("s1"), [{ row: 7, customer_id: "c1", payment_id: "p1" }]);
  assert.deepEqual(batches.get("s2"), [{ row: 3, customer_id: "c2" }]); // no payment_id: a new payment
  assert.equal(applyBatches(rows, new Map()).size, 0);
});

test("Confirm N sends at most 100 rows a request, statement by statement", () => {
  const rows = [...Array.from({ length: 250 }, (_, i) => row({ row: i + 2 })), ...Array.from({ length: 3 }, (_, i) => row({ statement_id: "s2", row: i + 2 }))];
  const requests = applyRequests(rows, choices(rows));
  assert.deepEqual(
    requests.map(([id, part]) => [id, part.length]),
    [
      ["s1", 100],
      ["s1", 100],
      ["s1", 50],
      ["s2", 3],
    ],
  );
  assert.deepEqual(
    requests.flatMap(([id, part]) => part.map((r) => `${id}:${r.row}`)),
    rows.map(rowKey),
  ); // each ticked row once, in order
  assert.deepEqual(applyRequests(rows, new Map()), []);
});

test("a row given by hand confirms that buyer's reported payment when one is proposed", () => {
  const r = row({ proposals: [{ customer_id: "c1", payment_id: "p1", reason: "reported_transfer" }, { customer_id: "c2", reason: "same_account" }] });
  assert.deepEqual(handEntry(r, "c1"), { row: 7, customer_id: "c1", payment_id: "p1" });
  assert.deepEqual(handEntry(r, "c2"), { row: 7, customer_id: "c2" });
  assert.deepEqual(handEntry(row({ proposals: [] }), "c9"), { row: 7, customer_id: "c9" });
});

test("the mapping form pre-selects columns by their names, each once; date and amount are needed", () => {
  assert.deepEqual(guessMapping(["序號", "入帳日", "收款金額", "交易說明", "對方帳號"]), {
    date: "入帳日",
    amount: "收款金額",
    memo: "交易說明",
    account: "對方帳號",
  });
  assert.deepEqual(guessMapping(["A", "B"]), { date: "", amount: "", memo: "", account: "" });
  assert.deepEqual(guessMapping(["Value date", "Credit", "Narrative"]), { date: "Value date", amount: "Credit", memo: "", account: "" });
  assert.deepEqual(mappingToSend({ date: "A", amount: "B", memo: "", account: "" }), { mapping: { date: "A", amount: "B" }, missing: [], twice: [] });
  assert.deepEqual(mappingToSend({ date: "A", amount: "", memo: "C", account: "" }).missing, ["amount"]);
  const twice = mappingToSend({ date: "A", amount: "A", memo: "", account: "" });
  assert.equal(twice.mapping, null);
  assert.deepEqual(twice.twice, ["date", "amount"]);
});
