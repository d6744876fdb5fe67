// The seller page on a phone (issue 27): the first screen shows orders. Below Bootstrap's md
// breakpoint the order filters fold behind one button that counts the ones set ("Filters (2)",
// 篩選（2）) and the new-order form starts folded; wide screens keep the filters open and the
// form as the seller (and orders.js's keyboard entry) left it.
import { $ } from "./dom.js";
import { aside, onChange, t } from "./i18n.js";

const NARROW = "(max-width: 767.98px)"; // as app.css's phone rules
const FOLDED = "filters-folded";

/** Whether the page is laid out for a phone. */
export const narrow = () => window.matchMedia(NARROW).matches;

/** How many of the filters narrow the list (the sort only orders it). */
function filtersSet(form) {
  let n = 0;
  for (const el of form.elements) if (el.name && el.name !== "sort" && String(el.value).trim()) n += 1;
  return n;
}

/** The button's words and state: "Filters", "Filters (2)" / 篩選（2）. */
function showFilters() {
  const form = $("#order-filters");
  const button = $("#filters-toggle");
  const n = filtersSet(form);
  const open = !form.classList.contains(FOLDED);
  button.textContent = n ? aside(t("order.filters"), n) : t("order.filters");
  button.setAttribute("aria-expanded", String(open));
  button.classList.toggle("btn-outline-primary", n > 0); // something hides orders: say so
  button.classList.toggle("btn-outline-secondary", n === 0);
}

/** Fold the filters (a phone shows only the button and the count until it is tapped). */
export function bindPhone() {
  const form = $("#order-filters");
  form.classList.add(FOLDED);
  $("#filters-toggle").addEventListener("click", () => {
    form.classList.toggle(FOLDED);
    showFilters();
  });
  form.addEventListener("input", showFilters);
  form.addEventListener("change", showFilters);
  // Filters set by the page itself (the address, a link from another tab, log out) reload
  // the list, which rewrites its count: the button is counted again then.
  new MutationObserver(showFilters).observe($("#orders-count"), { childList: true, characterData: true, subtree: true });
  onChange(showFilters);
  showFilters();
}

/** On a phone the new-order form starts folded behind "+ New order", a draft or not: the
 *  first screen is for the orders. */
export function foldNewOrder() {
  if (narrow()) $("#new-order-box").open = false;
}
