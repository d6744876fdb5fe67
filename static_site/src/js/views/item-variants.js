// The Items tab's options and variants (issue 30): option rows (a name and its values, typed
// with commas: 黑, 白 or 黑、白), one variant per combination of values, each with its own
// stock, price and cost (empty: the item's); and an item's stock movements. A variant keeps
// its id across edits while its values stay the same (the server keeps its stock and orders).
import { api, describe } from "../api.js";
import { $, h, notify } from "../dom.js";
import { amountError, asciiDigits, centsToNumber, dateTime, parseCents } from "../format.js";
import { has, labelled, t } from "../i18n.js";
import { costField, currency } from "../app.js";

const MAX_OPTIONS = 3;
let options = []; // [{name, values: "黑, 白"}] as typed
let rows = new Map(); // values key → {id?, label?, stock, price, cost} as typed

/** The values of an option as typed: split on commas (half- or full-width) and 、, each once. */
export const splitValues = (text) => [...new Set(String(text).split(/[,，、]/).map((v) => v.trim()).filter(Boolean))];
const keyOf = (values) => values.join("\u0001");

/** Every combination of the options' values, in the options' order ([] without options). */
export function combinations(opts) {
  const lists = opts.map((o) => splitValues(o.values)).filter((v, i) => opts[i].name.trim() && v.length);
  if (!lists.length) return [];
  return lists.reduce((acc, values) => acc.flatMap((a) => values.map((v) => [...a, v])), [[]]);
}

const used = () => options.filter((o) => o.name.trim() && splitValues(o.values).length);
const text = (v) => (v === null || v === undefined ? "" : String(v));

/** Show an item's options and variants in the form (an item without them: none). */
export function fill(item) {
  options = (item?.options || []).map((o) => ({ name: o.name, values: o.values.join(", ") }));
  rows = new Map((item?.variants || []).map((v) => [keyOf(v.values), { id: v.id, label: v.label, stock: text(v.stock), price: text(v.price), cost: text(v.cost) }]));
  render();
}

export const clear = () => fill(null);
export const hasVariants = () => combinations(used()).length > 0;

function optionRow(o, n) {
  const input = (field, key) =>
    h("input", {
      class: `form-control form-control-sm item-option-${field}`,
      value: o[field],
      "aria-label": t(key, { n: n + 1 }),
      placeholder: t(`${key}_ph`),
      oninput: (ev) => {
        o[field] = ev.target.value;
        renderVariants();
      },
    });
  return h(
    "div",
    { class: "d-flex gap-2 align-items-center item-option" },
    h("div", { class: "flex-shrink-0 item-option-name-box" }, input("name", "item.option_name")),
    h("div", { class: "flex-grow-1" }, input("values", "item.option_values")),
    h("button", { class: "btn btn-sm btn-link text-danger", type: "button", "aria-label": t("item.remove_option", { n: n + 1 }), onclick: () => { options.splice(n, 1); render(); } }, "×"),
  );
}

function render() {
  $("#item-options").replaceChildren(...options.map(optionRow));
  $("#item-add-option").disabled = options.length >= MAX_OPTIONS;
  renderVariants();
}

function renderVariants() {
  const combos = combinations(used());
  const stock = $("#item-form").elements.stock;
  stock.disabled = combos.length > 0; // kept per variant then
  if (combos.length) stock.value = "";
  const box = $("#item-variant-rows");
  if (!combos.length) {
    box.replaceChildren();
    return;
  }
  const cell = (row, field, label, attrs = {}) =>
    h("td", { "data-label": label, class: field === "cost" ? "owner-only" : "" }, h("input", { class: `form-control form-control-sm variant-${field}`, value: row[field], "aria-label": `${row.shown} ${label}`, autocomplete: "off", oninput: (ev) => (row[field] = ev.target.value), ...attrs }));
  const body = combos.map((values) => {
    const key = keyOf(values);
    if (!rows.has(key)) rows.set(key, { stock: "", price: "", cost: "" });
    const row = rows.get(key);
    row.shown = row.label || values.join(" / ");
    return h(
      "tr",
      { class: "variant-row", dataset: { key } },
      h("td", { class: "variant-label" }, row.shown),
      cell(row, "stock", t("item.stock"), { type: "number", min: "0", step: "1", inputmode: "numeric", placeholder: t("item.untracked") }),
      cell(row, "price", t("item.price"), { inputmode: "decimal", placeholder: t("item.variant_same") }),
      cell(row, "cost", t("item.cost"), { inputmode: "decimal", placeholder: t("item.variant_same") }),
    );
  });
  box.replaceChildren(
    h(
      "table",
      { class: "table table-sm align-middle mb-0 stack item-variant-table" },
      h("thead", {}, h("tr", {}, h("th", {}, t("item.variant")), h("th", {}, t("item.stock")), h("th", {}, t("item.price")), h("th", { class: "owner-only" }, t("item.cost")))),
      h("tbody", {}, body),
    ),
  );
}

/** {options, variants} for the API, or undefined (a bad amount: said in `box`, marked). */
export function payload(box, costCurrency) {
  const opts = used().map((o) => ({ name: o.name.trim(), values: splitValues(o.values) }));
  const variants = [];
  for (const tr of $("#item-variant-rows").querySelectorAll("tr.variant-row")) {
    const row = rows.get(tr.dataset.key);
    const values = tr.dataset.key.split("\u0001");
    const priceInput = tr.querySelector(".variant-price");
    let price = null;
    if (row.price.trim()) {
      const cents = parseCents(row.price, currency());
      priceInput.classList.toggle("is-invalid", cents === null);
      if (cents === null) {
        notify(box, "danger", amountError(row.price, currency(), labelled(row.shown, t("item.price"))));
        return undefined;
      }
      price = centsToNumber(cents);
    }
    const cost = costField(tr.querySelector(".variant-cost"), costCurrency, box, `${row.shown} ${t("item.cost")}`);
    if (cost === undefined) return undefined;
    const stock = row.stock.trim() === "" ? null : Number.parseInt(row.stock, 10);
    variants.push({ ...(row.id ? { id: row.id } : {}), ...(row.label ? { label: row.label } : {}), values, price, stock, cost });
  }
  return { options: opts, variants };
}

export function bind() {
  $("#item-add-option").addEventListener("click", () => {
    options.push({ name: "", values: "" });
    render();
    $("#item-options").lastElementChild?.querySelector("input")?.focus();
  });
  render();
}

// --- the list: stock per variant, low stock, movements -------------------------------------

const LOW_STOCK = 3; // without a threshold of its own, an item is marked at 3 or fewer

function badge(stock, low) {
  if (stock === 0) return h("span", { class: "badge text-bg-danger ms-1 stock-badge" }, t("item.out"));
  return low ? h("span", { class: "badge text-bg-warning ms-1 stock-badge" }, t("item.low")) : null;
}

/** The stock cell: a number (or "not tracked"), or one line per variant; low ones marked. */
export function stockCell(i) {
  const lowOf = (stock, low) => (i.low_stock === null || i.low_stock === undefined ? stock !== null && stock <= LOW_STOCK : low);
  if (!i.variants?.length) {
    if (i.stock === null || i.stock === undefined) return h("span", { class: "text-muted small" }, t("item.untracked"));
    return h("span", {}, String(i.stock), badge(i.stock, lowOf(i.stock, i.low)));
  }
  return h(
    "ul",
    { class: "list-unstyled mb-0 small variant-stock" },
    i.variants.map((v) =>
      h(
        "li",
        { dataset: { variant: v.label } },
        labelled(v.label, v.stock === null ? t("item.untracked") : String(v.stock)),
        v.stock === null ? null : badge(v.stock, lowOf(v.stock, v.low)),
      ),
    ),
  );
}

const REASONS = ["order", "cancel", "purchase", "adjustment", "count"];

/** Units found or lost (+3, −2, full-width digits too) or a count's difference, as a
 *  movement of its own (POST /items/{id}/adjustments); `done()` reads the list again. */
function adjustForm(i, done) {
  const msg = h("div", { class: "w-100 item-adjust-msg" });
  const delta = h("input", { class: "form-control form-control-sm item-adjust-delta", autocomplete: "off", "aria-label": t("item.adjust_delta"), placeholder: t("item.adjust_delta") });
  const reason = h("select", { class: "form-select form-select-sm w-auto", "aria-label": t("item.adjust_reason") }, ["count", "adjustment"].map((r) => h("option", { value: r }, t(`item.reason_${r}`))));
  const note = h("input", { class: "form-control form-control-sm w-auto", autocomplete: "off", "aria-label": t("item.note"), placeholder: t("item.note") });
  const variant = i.variants?.length ? h("select", { class: "form-select form-select-sm w-auto item-adjust-variant", "aria-label": t("item.variant") }, i.variants.map((v) => h("option", { value: v.id }, v.label))) : null;
  delta.style.width = "7rem"; // CSSOM: no inline style attribute
  const submit = async (ev) => {
    ev.preventDefault();
    const typed = asciiDigits(delta.value).replace(/[−－]/, "-").replace(/^＋/, "+").trim();
    if (!/^[+-]?\d{1,7}$/.test(typed) || Number(typed) === 0) {
      delta.classList.add("is-invalid");
      notify(msg, "danger", t("item.adjust_bad"));
      return;
    }
    delta.classList.remove("is-invalid");
    const body = { delta: Number(typed), reason: reason.value, ...(note.value.trim() ? { note: note.value.trim() } : {}), ...(variant ? { variant_id: variant.value } : {}) };
    try {
      await api.post(`/items/${i.id}/adjustments`, body);
      await done();
    } catch (err) {
      if (err.status !== 401) notify(msg, "danger", describe(err));
    }
  };
  return h("form", { class: "d-flex flex-wrap gap-2 align-items-center mb-2 item-adjust", novalidate: true, onsubmit: submit }, variant, delta, reason, note, h("button", { class: "btn btn-sm btn-outline-primary", type: "submit" }, t("item.adjust")), msg);
}

/** Who moved stock (issue 31): "owner" or a member's email, or a source the server names. */
function movedBy(by) {
  return has(`history.by.${by}`) && by !== "you" && by !== "other" ? t(`history.by.${by}`) : by;
}

/** A row under the item's row listing its last stock movements (newest first), with the
 *  adjustment form for a tracked stock. */
export async function movementsRow(i, cols, done = async () => {}) {
  const tr = h("tr", { class: "item-movements", dataset: { itemId: i.id } });
  const cell = h("td", { colspan: String(cols) });
  tr.append(cell);
  if (i.stock !== null && i.stock !== undefined) cell.append(adjustForm(i, done));
  try {
    const page = await api.get(`/items/${i.id}/movements`, { limit: 20 });
    if (!page.items.length) {
      cell.append(h("div", { class: "small text-muted" }, t("item.no_movements")));
      return tr;
    }
    cell.append(
      h("div", { class: "small fw-semibold mb-1" }, t("item.movements")),
      h(
        "ul",
        { class: "list-unstyled small mb-0" },
        page.items.map((m) =>
          h(
            "li",
            { class: "movement" },
            `${dateTime(m.at)} · `,
            h("strong", { class: m.delta < 0 ? "text-danger" : "text-success" }, m.delta > 0 ? `+${m.delta}` : String(m.delta)),
            ` ${REASONS.includes(m.reason) ? t(`item.reason_${m.reason}`) : m.reason}`,
            m.variant_label ? ` · ${m.variant_label}` : "",
            m.batch ? h("span", { class: "movement-batch" }, ` · ${t("item.movement_batch", { batch: m.batch })}`) : "",
            m.note ? ` · ${m.note}` : "",
            m.by ? h("span", { class: "text-muted movement-by" }, ` · ${movedBy(m.by)}`) : null,
          ),
        ),
      ),
    );
  } catch (err) {
    cell.append(h("span", { class: "text-danger" }, describe(err)));
  }
  return tr;
}
