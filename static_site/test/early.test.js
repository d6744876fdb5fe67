// The rule of the orders list's first page asked early (static_site/src/js/early.js): only
// the default address asks early, and an early answer serves only the same question.
import assert from "node:assert/strict";
import { test } from "node:test";
import { earlyOrdersQuery, sameQuestion } from "../src/js/early.js";
import { PAGE } from "../src/js/paged.js";

const API = "http://127.0.0.1:8217";

test("the default address asks the list's first page early", () => {
  assert.deepEqual(earlyOrdersQuery(""), { limit: PAGE });
  assert.deepEqual(earlyOrdersQuery("?", ""), { limit: PAGE });
});

test("another tab, a filter in the address or a reset link asks nothing early", () => {
  assert.equal(earlyOrdersQuery("?tab=items"), null);
  assert.equal(earlyOrdersQuery("?payment_status=unpaid"), null);
  assert.equal(earlyOrdersQuery("?q=%E8%8C%B6"), null); // ?q=茶
  assert.equal(earlyOrdersQuery("", "#reset=abc_DEF-1"), null);
});

test("the same question in another order of parameters is the same", () => {
  assert.ok(sameQuestion(`${API}/orders?limit=100`, `${API}/orders?limit=100`));
  assert.ok(sameQuestion(`${API}/orders?limit=100&sort=order_no`, `${API}/orders?sort=order_no&limit=100`));
  assert.ok(sameQuestion(`${API}/orders?q=%E8%8C%B6&limit=100`, `${API}/orders?limit=100&q=茶`));
});

test("a filter, another page size, path or server is another question", () => {
  const asked = `${API}/orders?limit=100`;
  assert.ok(!sameQuestion(asked, `${API}/orders?limit=100&payment_status=unpaid`));
  assert.ok(!sameQuestion(asked, `${API}/orders?limit=50`));
  assert.ok(!sameQuestion(asked, `${API}/orders?limit=100&cursor=abc`));
  assert.ok(!sameQuestion(asked, `${API}/customers?limit=100`));
  assert.ok(!sameQuestion(asked, "http://127.0.0.1:9999/orders?limit=100"));
  assert.ok(!sameQuestion(`${API}/orders?limit=100&limit=100`, asked)); // repeated: counted
  assert.ok(!sameQuestion(`${API}/orders?q=a`, `${API}/orders?q=A`));
});
