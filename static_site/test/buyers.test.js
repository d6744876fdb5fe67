// How a buyer is shown and found in the pickers (static_site/src/js/buyers.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { buyerMatches, buyerText, contactLabel, phoneText, sortBuyers } from "../src/js/buyers.js";

const line = { name: "林志明", line_id: "lin.cm", phone: "+886912345678", email: "a@example.com" };
const phone = { name: "林志明", phone: "+886987654321", email: "b@example.com" };
const mail = { name: "林志明", email: "c@example.com" };

test("the label is the LINE ID, else the phone, else the email", () => {
  assert.equal(contactLabel(line), "LINE lin.cm");
  assert.equal(contactLabel(phone), "0987-654-321");
  assert.equal(contactLabel(mail), "c@example.com");
  assert.equal(contactLabel({ name: "x" }), "");
});

test("same-name buyers get different texts", () => {
  const texts = [line, phone, mail].map(buyerText);
  assert.equal(new Set(texts).size, 3);
  assert.equal(buyerText(phone), "林志明 · 0987-654-321");
  assert.equal(buyerText({ name: "Amy" }), "Amy");
});

test("phones read in the local form; others as stored", () => {
  assert.equal(phoneText("+886912345678"), "0912-345-678");
  assert.equal(phoneText("+886223456789"), "0223456789");
  assert.equal(phoneText("+81312345678"), "+81312345678");
  assert.equal(phoneText(null), "");
});

test("sorted by name, then by contact; the input is left as it was", () => {
  const buyers = [{ name: "ben", email: "z@x" }, mail, { name: "Amy", email: "a@x" }, phone, { name: "amy", email: "0@x" }];
  const sorted = sortBuyers(buyers, "en").map(buyerText);
  assert.deepEqual(sorted.slice(0, 3), ["amy · 0@x", "Amy · a@x", "ben · z@x"]);
  // The two 林志明 come together, the phone ("0987…") before the email ("c@…").
  assert.deepEqual(sorted.slice(3), ["林志明 · 0987-654-321", "林志明 · c@example.com"]);
  assert.equal(buyers[0].name, "ben");
  // Numbered names in number order, not text order.
  assert.deepEqual(
    sortBuyers([{ name: "Buyer 10" }, { name: "Buyer 9" }], "en").map((b) => b.name),
    ["Buyer 9", "Buyer 10"],
  );
});

test("found by part of the name, email, LINE ID, in any case", () => {
  assert.ok(buyerMatches(line, "志明"));
  assert.ok(buyerMatches(line, "LIN.C"));
  assert.ok(buyerMatches(phone, "B@EXAMPLE"));
  assert.ok(buyerMatches(line, ""));
  assert.ok(!buyerMatches(mail, "lin.cm"));
});

test("found by the phone in any format", () => {
  for (const q of ["0987-654", "0987654321", "+886 987 654 321", "987 654", "０９８７６５", "(0987) 654-321"]) assert.ok(buyerMatches(phone, q), q);
  // Other digits, too few digits, or digits inside words are no phone.
  for (const q of ["0912", "98", "b9876"]) assert.ok(!buyerMatches(phone, q), q);
  assert.ok(!buyerMatches(mail, "0987"));
});
