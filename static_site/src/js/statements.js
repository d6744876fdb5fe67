// Bank statement rows (對帳, issue 28) as the payments tab shows them: a proposal in words,
// which rows start ticked, what "Confirm N" and a hand assignment send, and a guess of the
// columns when the server asks for them. Pure: the tests run it in node; the view
// (views/statements.js) draws and calls the API.
import { money } from "./format.js";
import { t } from "./i18n.js";

/** The fields the server can be told to read from a column of the seller's choice
 *  (`?mapping=`); date and amount are needed, memo and account are read when given. */
export const FIELDS = ["date", "amount", "memo", "account"];
export const NEEDED = ["date", "amount"];

/** A row of the open set is named by its statement and its line in that file. */
export const rowKey = (row) => `${row.statement_id}:${row.row}`;

/** A proposal in the page's words: "王小明：回報匯款 NT$1,200，帳號後五碼 12345"; an unknown
 *  reason code says only the buyer's name. */
export function proposalText(proposal, row, currency) {
  const vars = { name: proposal.customer_name || "—", amount: money(row.amount, currency), last5: row.account_last5 || "—" };
  const key = `stmt.reason.${proposal.reason}`;
  const text = t(key, vars);
  return text === key ? vars.name : text;
}

/** The rows' choices as first shown: a row is ticked only when the server is confident
 *  (nothing is applied unasked), with its best proposal chosen. Choices the seller made
 *  on rows still listed (`before`) stay. */
export function choices(rows, before = new Map()) {
  const out = new Map();
  for (const row of rows) {
    const key = rowKey(row);
    const had = before.get(key);
    const count = row.proposals?.length || 0;
    if (had && had.pick < count) out.set(key, had);
    else out.set(key, { ticked: Boolean(row.confident && count), pick: 0 });
  }
  return out;
}

/** What "Confirm N" sends: per statement, the ticked rows with their chosen proposal
 *  ({row, customer_id, payment_id?}); a row without a proposal is never sent. */
export function applyBatches(rows, chosen) {
  const out = new Map();
  for (const row of rows) {
    const c = chosen.get(rowKey(row));
    const p = c?.ticked ? row.proposals?.[c.pick] : null;
    if (!p) continue;
    const entry = { row: row.row, customer_id: p.customer_id };
    if (p.payment_id) entry.payment_id = p.payment_id;
    if (!out.has(row.statement_id)) out.set(row.statement_id, []);
    out.get(row.statement_id).push(entry);
  }
  return out;
}

/** The requests "Confirm N" makes: [statement id, rows] with at most `size` rows each. The
 *  API takes 500 but applies rows one by one (250 take about 5 s on FerretDB, docs/api.md
 *  "Reconciliation"): 100 keep each request short. */
export function applyRequests(rows, chosen, size = 100) {
  const out = [];
  for (const [id, entries] of applyBatches(rows, chosen)) {
    for (let i = 0; i < entries.length; i += size) out.push([id, entries.slice(i, i + size)]);
  }
  return out;
}

/** A row given to a buyer by hand: when that buyer's proposal names a reported payment,
 *  the row confirms it (rather than recording a second payment beside it). */
export function handEntry(row, customerId) {
  const entry = { row: row.row, customer_id: customerId };
  const reported = (row.proposals || []).find((p) => p.customer_id === customerId && p.payment_id);
  if (reported) entry.payment_id = reported.payment_id;
  return entry;
}

// Words banks put in a column's name, per field (the server knows the usual names; a file it
// could not read has others, so these only pre-select a choice the seller checks).
const HINTS = {
  date: [/日期|日|date/i],
  amount: [/存入|收入|入帳|金額|deposit|credit|amount/i],
  memo: [/摘要|備註|附言|說明|memo|note|description/i],
  account: [/帳號|账号|account/i],
};

/** {field: header} pre-selected in the mapping form: the first header whose name hints at
 *  the field, each header used once; "" when none does. */
export function guessMapping(headers) {
  const used = new Set();
  const out = {};
  for (const field of FIELDS) {
    const found = (headers || []).find((hd) => !used.has(hd) && HINTS[field].some((re) => re.test(hd)));
    out[field] = found || "";
    if (found) used.add(found);
  }
  return out;
}

/** The mapping to send: the fields chosen (empty ones left out), or null (with the fields
 *  still needed) when date or amount has no column, or two fields name the same one. */
export function mappingToSend(chosen) {
  const mapping = Object.fromEntries(FIELDS.filter((f) => chosen[f]).map((f) => [f, chosen[f]]));
  const missing = NEEDED.filter((f) => !mapping[f]);
  const columns = Object.values(mapping);
  const twice = FIELDS.filter((f) => mapping[f] && columns.indexOf(mapping[f]) !== columns.lastIndexOf(mapping[f]));
  return missing.length || twice.length ? { mapping: null, missing, twice } : { mapping, missing: [], twice: [] };
}
