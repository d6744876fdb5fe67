// The new-order form's item list (static_site/src/js/item-picker.js): which items it offers
// for what is typed, and where the arrows move the highlight.
import assert from "node:assert/strict";
import { test } from "node:test";
import { exactIndex, fold, matchItems, moveHighlight } from "../src/js/item-picker.js";

const items = [{ item_name: "Kit Kat 抹茶" }, { item_name: "Pocky 草莓" }, { item_name: "Hello Pocky" }, { item_name: "Pocket tissue" }];
const names = (list) => list.map((i) => i.item_name);

test("names starting with the text come first, then names containing it", () => {
  assert.deepEqual(names(matchItems(items, "poc")), ["Pocky 草莓", "Pocket tissue", "Hello Pocky"]);
  assert.deepEqual(names(matchItems(items, "抹茶")), ["Kit Kat 抹茶"]);
  assert.deepEqual(names(matchItems(items, "tokyo")), []);
});

test("nothing typed offers every item, at most max", () => {
  assert.equal(matchItems(items, "").length, 4);
  assert.equal(matchItems(items, "  ", 2).length, 2);
});

test("full-width letters and case are read as typed half-width", () => {
  assert.equal(fold("ＰＯＣＫＹ　１２"), "pocky 12");
  assert.deepEqual(names(matchItems(items, "ＰＯＣＫＹ")), ["Pocky 草莓", "Hello Pocky"]);
});

test("the arrows move the highlight and wrap round", () => {
  assert.equal(moveHighlight(-1, 1, 3), 0); // down from none: the first
  assert.equal(moveHighlight(-1, -1, 3), 2); // up from none: the last
  assert.equal(moveHighlight(0, 1, 3), 1);
  assert.equal(moveHighlight(2, 1, 3), 0);
  assert.equal(moveHighlight(0, -1, 3), 2);
  assert.equal(moveHighlight(5, 1, 3), 0); // the list got shorter
  assert.equal(moveHighlight(0, 1, 0), -1);
});

test("an exactly typed name is highlighted, a new name is not", () => {
  const offered = matchItems(items, "pocky 草莓");
  assert.equal(exactIndex(offered, "POCKY 草莓"), 0);
  assert.equal(exactIndex(matchItems(items, "pock"), "pock"), -1);
});
