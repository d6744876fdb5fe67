// The payments tab's bank statement card (對帳, issue 28): the seller uploads their bank's
// export (CSV or .xlsx, UTF-8 or Big5: the server reads it); columns it cannot place are
// chosen once in a small form. Every incoming row still to match (`GET /statements/open`,
// across uploads) is listed with its best proposal in words; only the rows the server is
// confident about start ticked, and "Confirm N" applies the ticked ones, one request per
// statement. Any row can be given to a buyer by hand or dismissed. The tab's second badge
// counts the rows left. payments.js owns the tab and calls bind/load/render/reset.
import { api, codeText, describe, request } from "../api.js";
import { $, h, messageRow, notify, spinnerRow } from "../dom.js";
import { date, money } from "../format.js";
import { aside, has, labelled, t } from "../i18n.js";
import { compact, currency, fail, flash, pickers, searchCustomers } from "../app.js";
import { fillBuyerPicker } from "../buyer-picker.js";
import { FIELDS, applyBatches, applyRequests, choices, guessMapping, handEntry, mappingToSend, proposalText, rowKey } from "../statements.js";

const COLS = 7;
// Every file goes as bytes: a Big5 CSV is no UTF-8 text, and only binary types pass API
// Gateway untouched (docs/api.md); the server tells CSV from .xlsx by the content.
const FILE_TYPE = "application/octet-stream";

const state = {
  rows: null, // the open rows (null: not loaded)
  count: 0,
  chosen: new Map(), // rowKey → {ticked, pick}
  assigning: null, // rowKey of the row whose buyer picker is open
  mapping: null, // {file, headers, chosen}: the columns the server asked for
  uploading: false,
  busy: false, // a row's apply or dismiss is out
  changed: async () => {}, // payments.js: its lists follow an applied row
};

const cur = () => currency();
const rowWords = (row) => ({ amount: money(row.amount, cur()), date: date(row.date) });
/** "Row 7 (Dec 1, 2026 NT$1,200)": which row a message is about. */
const rowName = (row) => aside(t("order.row", { row: row.row }), `${date(row.date)} ${money(row.amount, cur())}`);
const failText = (code) => (has(`stmt.fail.${code}`) ? t(`stmt.fail.${code}`) : codeText(code, 400));

// --- the badge and the count --------------------------------------------------------------

function showBadge() {
  const badge = $("#stmt-badge");
  const n = state.count;
  badge.classList.toggle("d-none", n === 0);
  badge.replaceChildren(h("span", { "aria-hidden": "true" }, String(n)), h("span", { class: "visually-hidden" }, t("stmt.badge", { n })));
  badge.title = t("stmt.badge", { n });
}

/** Read the rows still to match (start-up's badge, the tab opening, after every change). */
export async function loadCount() {
  try {
    await readOpen();
  } catch {
    // the badge is a hint: the card says what went wrong when the tab opens
  }
}

async function readOpen() {
  const out = await api.get("/statements/open");
  state.rows = out.rows || [];
  state.count = out.count ?? state.rows.length;
  state.chosen = choices(state.rows, state.chosen);
  if (state.assigning && !state.rows.some((r) => rowKey(r) === state.assigning)) state.assigning = null;
  showBadge();
  renderRows();
}

// --- the view's life (called by payments.js) ------------------------------------------------

export async function load() {
  if (!state.rows) {
    $("#stmt-rows-box").classList.remove("d-none");
    $("#stmt-rows tbody").replaceChildren(spinnerRow(COLS, t("common.loading")));
  }
  try {
    await readOpen();
  } catch (err) {
    if (err.status !== 401) $("#stmt-rows tbody").replaceChildren(messageRow(COLS, describe(err), "text-danger"));
  }
}

export function render() {
  showBadge();
  renderRows();
  renderMapping();
}

export function reset() {
  Object.assign(state, { rows: null, count: 0, chosen: new Map(), assigning: null, mapping: null, uploading: false, busy: false });
  $("#stmt-upload").reset();
  $("#stmt-msg").replaceChildren();
  $("#stmt-rows-box").classList.add("d-none");
  renderMapping();
  showBadge();
}

export function bind({ changed } = {}) {
  if (changed) state.changed = changed;
  $("#stmt-upload").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const file = ev.target.elements.file.files[0];
    if (!file) {
      notify($("#stmt-msg"), "danger", t("stmt.choose_file"));
      return;
    }
    state.mapping = null;
    renderMapping();
    upload(file);
  });
  $("#stmt-confirm").addEventListener("click", confirmTicked);
}

// --- uploading a file ------------------------------------------------------------------------

async function upload(file, mapping = null) {
  if (state.uploading) return;
  const box = $("#stmt-msg");
  const buttons = [...document.querySelectorAll("#stmt-upload button, #stmt-mapping button")];
  state.uploading = true;
  buttons.forEach((b) => (b.disabled = true));
  notify(box, "info", h("span", { class: "spinner-border spinner-border-sm me-2", role: "status" }), t("stmt.reading", { file: file.name }));
  try {
    const query = compact({ filename: file.name, mapping: mapping ? JSON.stringify(mapping) : "" });
    const st = await request("POST", "/statements", { query, raw: file, contentType: FILE_TYPE });
    state.mapping = null;
    renderMapping();
    $("#stmt-upload").reset();
    const c = st.counts || {};
    const again = (c.applied || 0) + (c.dismissed || 0);
    notify(
      box,
      "success",
      t("stmt.read", { file: file.name, n: st.row_count ?? (st.rows || []).length, proposed: c.proposed || 0, unmatched: c.unmatched || 0 }),
      again ? ` ${t("stmt.read_again", { n: again })}` : "",
    );
    await load();
  } catch (err) {
    if (err.code === "statement_columns" && Array.isArray(err.body?.headers)) {
      const headers = err.body.headers.map(String);
      state.mapping = { file, headers, chosen: { ...guessMapping(headers), ...(mapping || {}) } };
      renderMapping();
      box.replaceChildren();
      $("#stmt-mapping select")?.focus();
    } else if (err.status !== 401) {
      fail(box, err);
    }
  } finally {
    state.uploading = false;
    document.querySelectorAll("#stmt-upload button, #stmt-mapping button").forEach((b) => (b.disabled = false));
  }
}

/** The columns the server could not place: one select per field, of the file's headers. */
function renderMapping() {
  const holder = $("#stmt-mapping");
  const m = state.mapping;
  if (!m) {
    holder.replaceChildren();
    return;
  }
  const selects = FIELDS.map((field) =>
    h(
      "div",
      { class: "col-6 col-md-3" },
      h(
        "label",
        { class: "form-label mb-0 w-100" },
        h("span", {}, t(`stmt.field.${field}`)),
        h(
          "select",
          { class: "form-select", name: field, onchange: (ev) => (m.chosen[field] = ev.target.value) },
          h("option", { value: "" }, t("stmt.no_column")),
          m.headers.map((hd) => h("option", { value: hd, selected: m.chosen[field] === hd }, hd)),
        ),
      ),
    ),
  );
  const msg = h("div", { class: "col-12", "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "row g-2 mt-2 stmt-map",
      novalidate: true,
      onsubmit: (ev) => {
        ev.preventDefault();
        const { mapping, missing, twice } = mappingToSend(m.chosen);
        for (const el of form.querySelectorAll("select")) el.classList.toggle("is-invalid", missing.includes(el.name) || twice.includes(el.name));
        if (!mapping) {
          const names = (fields) => fields.map((f) => t(`stmt.field.${f}`)).join(t("common.list_sep"));
          notify(msg, "danger", missing.length ? t("stmt.map_missing", { fields: names(missing) }) : t("stmt.map_twice", { fields: names(twice) }));
          return;
        }
        upload(m.file, mapping);
      },
    },
    h("p", { class: "col-12 mb-0 small" }, t("stmt.map_help", { file: m.file.name })),
    selects,
    h(
      "div",
      { class: "col-12 d-flex flex-wrap gap-2" },
      h("button", { class: "btn btn-primary", type: "submit" }, t("stmt.map_upload")),
      h(
        "button",
        {
          class: "btn btn-outline-secondary",
          type: "button",
          onclick: () => {
            state.mapping = null;
            renderMapping();
          },
        },
        t("common.cancel"),
      ),
    ),
    msg,
  );
  holder.replaceChildren(form);
}

// --- the rows to match --------------------------------------------------------------------------

function renderRows() {
  if (!state.rows) return;
  $("#stmt-rows-box").classList.remove("d-none");
  const body = $("#stmt-rows tbody");
  body.replaceChildren(...(state.rows.length ? state.rows.map(rowEl) : [messageRow(COLS, t("stmt.none"))]));
  const select = $("#stmt-assign-buyer");
  if (select) {
    fillBuyerPicker(select, pickers.customers, { first: t("pay.pick_buyer"), search: pickers.customersMore ? searchCustomers : null });
  }
  showConfirm();
}

function ticked() {
  return [...applyBatches(state.rows || [], state.chosen).values()].reduce((n, rows) => n + rows.length, 0);
}

function showConfirm() {
  const n = ticked();
  const btn = $("#stmt-confirm");
  btn.removeAttribute("aria-busy");
  btn.textContent = t("stmt.confirm", { n });
  btn.disabled = n === 0 || state.busy;
  $("#stmt-left").textContent = state.count ? t("stmt.left", { n: state.count }) : "";
  $("#stmt-confirm").closest(".stmt-bar").classList.toggle("d-none", !state.rows?.length);
}

function rowEl(row) {
  const key = rowKey(row);
  const c = state.chosen.get(key);
  const words = rowWords(row);
  const proposals = row.proposals || [];
  const tick = proposals.length
    ? h("input", {
        class: "form-check-input stmt-tick",
        type: "checkbox",
        checked: c.ticked,
        "aria-label": t("stmt.tick_label", words),
        onchange: (ev) => {
          c.ticked = ev.target.checked;
          showConfirm();
        },
      })
    : null;
  let proposal;
  if (!proposals.length) {
    proposal = h("span", { class: "text-muted stmt-none" }, t("stmt.no_match"));
  } else if (proposals.length === 1) {
    proposal = h("span", { class: "stmt-proposal" }, proposalText(proposals[0], row, cur()));
  } else {
    proposal = h(
      "select",
      {
        class: "form-select form-select-sm stmt-proposal",
        "aria-label": t("stmt.proposal_label", words),
        onchange: (ev) => {
          c.pick = Number(ev.target.value);
        },
      },
      proposals.map((p, i) => h("option", { value: String(i), selected: i === c.pick }, proposalText(p, row, cur()))),
    );
  }
  const unsure = proposals.length && !row.confident ? h("small", { class: "d-block text-muted stmt-unsure" }, t("stmt.not_sure")) : null;
  return h(
    "tr",
    { dataset: { key, row: String(row.row) }, class: row.confident ? "stmt-confident" : "" },
    h("td", { "data-label": t("stmt.tick"), class: tick ? "stmt-tick-cell" : "cell-empty" }, tick),
    h("td", { "data-label": t("stmt.date"), class: "text-nowrap" }, words.date),
    h("td", { "data-label": t("pay.amount"), class: "text-end text-nowrap fw-semibold" }, words.amount),
    h("td", { "data-label": t("stmt.memo"), class: row.memo ? "text-break" : "cell-empty" }, row.memo || ""),
    h("td", { "data-label": t("stmt.last5"), class: row.account_last5 ? "" : "cell-empty" }, row.account_last5 || "—"),
    h("td", { "data-label": t("stmt.proposal"), class: "stmt-proposal-cell" }, h("div", {}, proposal, unsure)),
    h("td", { class: "cell-actions" }, state.assigning === key ? assignForm(row) : actions(row, words)),
  );
}

function actions(row, words) {
  return h(
    "div",
    { class: "d-flex flex-wrap gap-2 justify-content-end" },
    h(
      "button",
      {
        class: "btn btn-sm btn-outline-primary stmt-assign",
        type: "button",
        "aria-label": t("stmt.assign_label", words),
        onclick: () => {
          state.assigning = rowKey(row);
          renderRows();
          $("#stmt-assign-buyer-ts-control")?.focus();
        },
      },
      t("stmt.assign"),
    ),
    h("button", { class: "btn btn-sm btn-outline-secondary stmt-dismiss", type: "button", "aria-label": t("stmt.dismiss_label", words), onclick: () => dismiss(row) }, t("stmt.dismiss")),
  );
}

function assignForm(row) {
  const select = h("select", { class: "form-select form-select-sm", id: "stmt-assign-buyer", name: "customer_id" });
  const form = h(
    "form",
    {
      class: "d-flex flex-wrap gap-2 justify-content-end stmt-assign-form",
      onsubmit: (ev) => {
        ev.preventDefault();
        if (!select.value) {
          flash("danger", t("stmt.choose_buyer"));
          return;
        }
        assign(row, select.value);
      },
    },
    h("label", { class: "form-label small mb-0 w-100 text-start" }, h("span", { "data-i18n": "stmt.assign_to" }, t("stmt.assign_to")), select),
    h("button", { class: "btn btn-sm btn-primary", type: "submit" }, t("stmt.assign_save")),
    h(
      "button",
      {
        class: "btn btn-sm btn-outline-secondary",
        type: "button",
        onclick: () => {
          state.assigning = null;
          renderRows();
        },
      },
      t("common.cancel"),
    ),
  );
  return form;
}

// --- applying and dismissing --------------------------------------------------------------------

/** Lock the card's buttons while a request is out (a second tap sends nothing twice). */
function busy(on) {
  state.busy = on;
  for (const b of document.querySelectorAll("#stmt-rows button, #stmt-rows input, #stmt-rows select")) b.disabled = on;
  showConfirm();
}

/** "Confirming 250 rows…" on the button while the requests are out (a few seconds). */
function confirming(n) {
  const btn = $("#stmt-confirm");
  btn.setAttribute("aria-busy", "true");
  btn.replaceChildren(h("span", { class: "spinner-border spinner-border-sm me-2", "aria-hidden": "true" }), t("stmt.confirming", { n }));
}

async function confirmTicked() {
  if (state.busy) return;
  const requests = applyRequests(state.rows || [], state.chosen);
  const byKey = new Map(state.rows.map((r) => [rowKey(r), r]));
  const applied = [];
  const failed = [];
  busy(true);
  confirming(requests.reduce((n, [, part]) => n + part.length, 0));
  try {
    for (const [id, part] of requests) {
      try {
        const out = await api.post(`/statements/${id}/apply`, { rows: part });
        applied.push(...(out.applied || []));
        failed.push(...(out.failed || []).map((f) => ({ ...f, row: byKey.get(`${id}:${f.row}`) || { row: f.row } })));
      } catch (err) {
        if (err.status === 401) return;
        failed.push(...part.map((r) => ({ row: byKey.get(`${id}:${r.row}`), text: describe(err) })));
      }
    }
    const parts = [];
    if (applied.length) parts.push(t("stmt.applied", { n: applied.length }));
    if (failed.length) {
      parts.push(
        h(
          "span",
          { class: "d-block" },
          labelled(t("stmt.failed")),
          failed.map((f) => h("span", { class: "d-block stmt-failed" }, labelled(rowName(f.row), f.text || failText(f.code)))),
        ),
      );
    }
    flash(failed.length ? (applied.length ? "warning" : "danger") : "success", ...parts.flatMap((p, i) => (i ? [" ", p] : [p])));
  } finally {
    busy(false);
  }
  await Promise.all([load(), state.changed()]);
}

async function assign(row, customerId) {
  if (state.busy) return;
  busy(true);
  const words = rowWords(row);
  try {
    const out = await api.post(`/statements/${row.statement_id}/apply`, { rows: [handEntry(row, customerId)] });
    const f = (out.failed || [])[0];
    if (f) {
      flash("danger", labelled(rowName(row), failText(f.code)));
    } else {
      const name = pickers.customers.find((x) => x.id === customerId)?.name || $("#stmt-assign-buyer").selectedOptions[0]?.textContent || "";
      state.assigning = null;
      flash("success", t("stmt.assigned", { ...words, name }));
    }
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  } finally {
    busy(false);
  }
  await Promise.all([load(), state.changed()]);
}

async function dismiss(row) {
  if (state.busy) return;
  busy(true);
  try {
    const out = await api.post(`/statements/${row.statement_id}/dismiss`, { rows: [row.row] });
    const f = (out.failed || [])[0];
    if (f) flash("danger", labelled(rowName(row), failText(f.code)));
    else flash("success", t("stmt.dismissed", rowWords(row)));
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  } finally {
    busy(false);
  }
  await load();
}
