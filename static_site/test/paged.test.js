// The paged-list helper the views share (static_site/src/js/paged.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { PAGE, PagedList } from "../src/js/paged.js";

/** A fake API of `rows`, cut into pages of `size` by an opaque cursor; logs each request. */
function fakeApi(rows, size = 2) {
  const calls = [];
  const fetchPage = async ({ limit, cursor }) => {
    calls.push({ limit, cursor });
    const start = cursor === undefined ? 0 : Number(cursor.slice(1));
    const items = rows.slice(start, start + size);
    return { items, next_cursor: start + size < rows.length ? `c${start + size}` : null };
  };
  return { calls, fetchPage };
}

test("reads on with the cursor until the server has no more", async () => {
  const api = fakeApi(["a", "b", "c", "d", "e"]);
  const list = new PagedList(api.fetchPage);
  assert.equal(list.loaded, false);
  assert.equal(list.more, false);
  await list.load();
  assert.deepEqual(list.items, ["a", "b"]);
  assert.equal(list.loaded, true);
  assert.equal(list.more, true);
  await list.load(false);
  await list.load(false);
  assert.deepEqual(list.items, ["a", "b", "c", "d", "e"]);
  assert.equal(list.more, false);
  assert.deepEqual(api.calls, [
    { limit: PAGE, cursor: undefined },
    { limit: PAGE, cursor: "c2" },
    { limit: PAGE, cursor: "c4" },
  ]);
});

test("a first page replaces the rows, without the old cursor", async () => {
  const api = fakeApi(["a", "b", "c"]);
  const list = new PagedList(api.fetchPage);
  await list.load();
  await list.load(false);
  await list.load(true);
  assert.deepEqual(list.items, ["a", "b"]);
  assert.equal(api.calls.at(-1).cursor, undefined);
});

test("the rows stay until the new page arrives; the cursor goes at once", async () => {
  let release;
  const pages = [{ items: [1, 2], next_cursor: "x" }, new Promise((r) => (release = r))];
  const list = new PagedList(() => pages.shift());
  await list.load();
  const pending = list.load(true);
  assert.deepEqual(list.items, [1, 2]);
  assert.equal(list.more, false);
  release({ items: [3], next_cursor: null });
  await pending;
  assert.deepEqual(list.items, [3]);
});

test("a failure throws and keeps what was read", async () => {
  let fail = false;
  const list = new PagedList(async () => {
    if (fail) throw new Error("offline");
    return { items: ["a"], next_cursor: "n" };
  });
  await list.load();
  fail = true;
  await assert.rejects(list.load(false), /offline/);
  assert.deepEqual(list.items, ["a"]);
  assert.equal(list.more, true);
  assert.equal(list.loaded, true);
});

test("clear forgets everything; a page without items or cursor is an empty end", async () => {
  const list = new PagedList(async () => ({}));
  await list.load();
  assert.deepEqual(list.items, []);
  assert.equal(list.more, false);
  assert.equal(list.loaded, true);
  list.items.push("x");
  list.cursor = "c";
  list.clear();
  assert.deepEqual([list.items, list.more, list.loaded], [[], false, false]);
});

test("the views share one page size within the API's limit of 200", () => {
  assert.ok(Number.isInteger(PAGE) && PAGE >= 1 && PAGE <= 200, PAGE);
});

// --- a list with a key (the orders lists: rows changed in place) ------------------------------

const byId = { key: (row) => row.id };

test("a key finds the listed row and puts a changed one in its place", async () => {
  const api = fakeApi([{ id: "a", n: 1 }, { id: "b", n: 1 }, { id: "c", n: 1 }]);
  const list = new PagedList(api.fetchPage, byId);
  await list.load();
  await list.load(false);
  assert.deepEqual(list.get("c"), { id: "c", n: 1 });
  assert.equal(list.replace({ id: "c", n: 2 }), true);
  assert.equal(list.replace({ id: "a", n: 2 }), true);
  assert.deepEqual(list.items, [{ id: "a", n: 2 }, { id: "b", n: 1 }, { id: "c", n: 2 }]);
  assert.deepEqual(list.get("a"), { id: "a", n: 2 });
});

test("a row not listed is not added by replace, nor found", async () => {
  const list = new PagedList(fakeApi([{ id: "a" }]).fetchPage, byId);
  await list.load();
  assert.equal(list.replace({ id: "z" }), false);
  assert.equal(list.get("z"), undefined);
  assert.deepEqual(list.items, [{ id: "a" }]);
});

test("a row read again on a later page takes its place, once", async () => {
  // The order moved in the sort between the two pages (its total changed meanwhile).
  const pages = [
    { items: [{ id: "a", v: 1 }, { id: "b", v: 1 }], next_cursor: "x" },
    { items: [{ id: "c", v: 1 }, { id: "a", v: 2 }], next_cursor: null },
  ];
  const list = new PagedList(async () => pages.shift(), byId);
  await list.load();
  await list.load(false);
  assert.deepEqual(list.items, [{ id: "a", v: 2 }, { id: "b", v: 1 }, { id: "c", v: 1 }]);
  assert.deepEqual(list.get("c"), { id: "c", v: 1 });
});

test("a first page or clear forgets the keys of the rows before", async () => {
  const pages = [{ items: [{ id: "a" }, { id: "b" }] }, { items: [{ id: "b" }] }];
  const list = new PagedList(async () => pages.shift(), byId);
  await list.load();
  await list.load(true);
  assert.equal(list.get("a"), undefined);
  assert.equal(list.replace({ id: "a", v: 2 }), false);
  assert.deepEqual(list.items, [{ id: "b" }]);
  list.clear();
  assert.equal(list.get("b"), undefined);
});

test("without a key a list holds what it read as it came", async () => {
  const pages = [{ items: [{ id: "a" }], next_cursor: "x" }, { items: [{ id: "a" }] }];
  const list = new PagedList(async () => pages.shift());
  await list.load();
  await list.load(false);
  assert.deepEqual(list.items, [{ id: "a" }, { id: "a" }]);
  assert.equal(list.replace({ id: "a", v: 2 }), false);
  assert.equal(list.get("a"), undefined);
});

test("an answer overtaken by a newer first page changes nothing", async () => {
  // The old reading (all orders) answers after the new one (a filter typed meanwhile).
  const answers = [];
  const list = new PagedList(
    () =>
      new Promise((resolve) => {
        answers.push(resolve);
      }),
  );
  const old = list.load();
  const fresh = list.load();
  answers[1]({ items: ["filtered"], next_cursor: null });
  assert.deepEqual((await fresh).items, ["filtered"]);
  answers[0]({ items: ["all", "of", "them"], next_cursor: "c3" });
  assert.equal(await old, null);
  assert.deepEqual(list.items, ["filtered"]);
  assert.equal(list.more, false);
});
