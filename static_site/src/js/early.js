// Which first question the seller page may ask before its modules have loaded (issue 27,
// "Speed on the local default"), and whether an answer asked early answers the view's own
// question. No imports beyond paged.js: ask-early.js runs it while the rest still loads.
import { PAGE } from "./paged.js";

/** The query of the orders list's first page for this address, or null when the address
 *  opens another tab, carries filters (the view reads them) or a password-reset link. */
export function earlyOrdersQuery(search, hash = "") {
  if (/^#reset=/.test(hash)) return null;
  if ([...new URLSearchParams(search).keys()].length) return null;
  return { limit: PAGE };
}

/** Whether two request URLs ask the same: the same address and the same parameters, in
 *  any order (a repeated parameter counts each time). */
export function sameQuestion(a, b) {
  const x = new URL(a);
  const y = new URL(b);
  if (x.origin !== y.origin || x.pathname !== y.pathname) return false;
  const params = (u) => [...u.searchParams].map(([k, v]) => `${k}=${v}`).sort();
  return JSON.stringify(params(x)) === JSON.stringify(params(y));
}
