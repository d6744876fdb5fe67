// The buyer picker every buyer <select data-buyers> becomes (issue 25): Tom Select (npm
// tom-select, loaded as vendor/tom-select.base.min.js, window.TomSelect) over the <select>, so
// the select keeps the value and fires "change" as before. It offers the buyers by name with
// their contact, filters as one types (name, email, LINE ID, phone in any format), and asks
// the server (`GET /customers?q=`) when the shop has more buyers than the page loaded.
import { buyerMatches, contactLabel, sortBuyers } from "./buyers.js";
import { locale } from "./i18n.js";

/** Give every option its place in the list: "All"/"Choose" first, then by name and contact. */
function rerank(ts) {
  const buyers = Object.values(ts.options).filter((o) => o.id !== "");
  sortBuyers(buyers, locale()).forEach((o, i) => (o.rank = i));
  if (ts.options[""]) ts.options[""].rank = -1;
}

function option(data, escape) {
  const label = data.id === "" ? "" : contactLabel(data);
  return `<div class="buyer-option"><span class="buyer-name">${escape(data.name)}</span>${
    label ? ` <small class="buyer-contact text-muted">${escape(label)}</small>` : ""
  }</div>`;
}

function create(select, search) {
  const TomSelect = window.TomSelect;
  if (!TomSelect) return null; // the vendor script did not load: the plain <select> still works
  const ts = new TomSelect(select, {
    valueField: "id",
    labelField: "name",
    searchField: [],
    allowEmptyOption: true,
    maxOptions: 200,
    // The list follows each key at once (Tom Select waits 300 ms by default): a buyer typed and
    // Enter pressed straight away is the one chosen, not the option highlighted before.
    refreshThrottle: 0,
    sortField: [{ field: "rank" }],
    // Every typed query filters with the page's own rule; the server's `q` matches the same fields.
    score: (query) => (item) => (item.id === "" ? (query ? 0 : 1) : buyerMatches(item, query) ? 1 : 0),
    shouldLoad: (query) => Boolean(ts.search_remote && query.trim().length >= 1),
    load: (query, callback) =>
      ts.search_remote(query).then(
        (items) => {
          callback(items);
          rerank(ts);
          ts.refreshOptions(false);
        },
        () => callback(),
      ),
    render: { option, item: option, no_results: () => `<div class="no-results">—</div>`, not_loading: () => null },
    onDropdownOpen: () => select.dispatchEvent(new CustomEvent("picker-open")),
  });
  ts.search_remote = search;
  ts.on("blur", () => ts.pending_fill?.());
  // Once a buyer is chosen, nothing but the person opens the list again: a server answer or a
  // refill arriving after Enter (with no refresh delay they do) left it open over the form.
  // A key or a press on the picker is the person; `chosen` holds only until then.
  ts.on("item_add", () => (ts.chosen = true));
  ts.control_input.addEventListener("keydown", () => (ts.chosen = false), true);
  ts.control.addEventListener("mousedown", () => (ts.chosen = false), true);
  ts.on("dropdown_open", () => {
    if (ts.chosen && !ts.inputValue()) ts.close();
  });
  // The combobox is named by the label around the <select>, not by the chosen buyer's text.
  const label = select.closest("label")?.querySelector("[data-i18n]");
  if (label) ts.control_input.setAttribute("aria-labelledby", (label.id ||= `${select.id || select.name}-label`));
  return ts;
}

/** (Re)fill a picker with `buyers`; `first` is the empty choice's text ("All", "Choose a
 *  buyer"); `search(q)` (or null) finds buyers beyond those on the server. The chosen buyer
 *  (or select.dataset.want) stays chosen, named `wantName` when not among `buyers`. */
export function fillBuyerPicker(select, buyers, { first, search = null, wantName = "" }) {
  const chosen = (select.tomselect ? select.tomselect.getValue() : select.value) || select.dataset.want || "";
  const ts = select.tomselect || create(select, search);
  if (!ts) {
    select.replaceChildren(new Option(first, ""), ...buyers.map((c) => new Option(`${c.name} · ${contactLabel(c)}`, c.id)));
    if (chosen && !buyers.some((c) => c.id === chosen)) select.append(new Option(wantName || chosen, chosen));
    select.value = chosen;
    return;
  }
  // A refill (a buyer added, the language changed) waits while someone is using the picker.
  if (ts.isFocused) {
    ts.pending_fill = () => fillBuyerPicker(select, buyers, { first, search, wantName });
    return;
  }
  ts.pending_fill = null;
  ts.search_remote = search;
  // With no buyer chosen the empty choice's text ("All", "Choose a buyer") shows as the placeholder.
  ts.settings.placeholder = first;
  ts.control_input.setAttribute("placeholder", first);
  // Options are updated in place, not cleared: the chosen one stays chosen.
  const ids = new Set(["", chosen, ...buyers.map((c) => c.id)]);
  for (const id of Object.keys(ts.options)) if (!ids.has(id)) ts.removeOption(id, true);
  for (const o of [{ id: "", name: first }, ...buyers.map((c) => ({ ...c }))]) {
    // Tom Select's updateOption keeps an option's order but not its element id ($id): without
    // it the options lost their ids and aria-activedescendant named none (nothing announced).
    if (ts.options[o.id]) ts.updateOption(o.id, { ...o, $id: ts.options[o.id].$id });
    else ts.addOption(o);
  }
  if (chosen && !ts.options[chosen]) ts.addOption({ id: chosen, name: wantName || "…" });
  rerank(ts);
  ts.clearCache();
  ts.lastQuery = null; // Tom Select keeps the last search's results; the options changed
  if (ts.getValue() !== chosen) ts.setValue(chosen, true);
  ts.updateOriginalInput({ silent: true }); // the <select>'s chosen option gets the buyer's name too
  if (ts.isOpen) ts.refreshOptions(false);
}

/** Choose buyer `id` (named `name` when the picker does not have them yet), without "change". */
export function setBuyer(select, id, name = "") {
  select.dataset.want = id || "";
  const ts = select.tomselect;
  if (!ts) {
    if (id && ![...select.options].some((o) => o.value === id)) select.append(new Option(name || "…", id));
    select.value = id || "";
    return;
  }
  if (id && !ts.options[id]) {
    ts.addOption({ id, name: name || "…" });
    rerank(ts);
  } else if (id && name && ts.options[id].name === "…") {
    ts.updateOption(id, { ...ts.options[id], name });
  }
  ts.setValue(id || "", true);
}
