// Exchange rates that look wrong (issue 27): "1 JPY = 4.7 TWD" is a rate typed the other way
// round (TWD → JPY). The one place that knows the currencies' rough sizes: a batch's rates form
// asks before saving a rate far from them, and says what it probably should be.

/** Roughly what one unit is worth in US dollars. Only the size matters (SLACK absorbs the
 *  years' moves and a trip's cash rate); a currency not here is never questioned. */
const USD_VALUE = {
  USD: 1,
  TWD: 0.031,
  JPY: 0.0066,
  KRW: 0.00072,
  HKD: 0.128,
  MOP: 0.124,
  CNY: 0.14,
  EUR: 1.08,
  GBP: 1.27,
  CHF: 1.13,
  THB: 0.029,
  SGD: 0.74,
  MYR: 0.22,
  AUD: 0.65,
  NZD: 0.59,
  CAD: 0.72,
  PHP: 0.017,
  VND: 0.00004,
  IDR: 0.000063,
  INR: 0.012,
};
// A rate within this factor of the rough one is taken as typed: near parity (HKD and CNY,
// SGD and USD) a rate and its inverse are both plausible, and nothing is asked.
const SLACK = 4;
// Its inverse is offered only when that is closer still: "2.1" for a yen is more likely 0.21
// with a slipped point than 1 ÷ 2.1.
const INVERSE_SLACK = 2;

/** `x` as a rate a seller could type: `digits` significant digits, at most 6 decimals, no
 *  exponent ("0.2128", "32.26", "150"); "" when that leaves nothing. */
function plain(x, digits) {
  const text = Number(x.toPrecision(digits)).toFixed(6).replace(/\.?0+$/, "");
  return text === "0" ? "" : text;
}

/** About how many `shop` one `code` is (a number), or null when either is not in the table. */
export function roughRate(code, shop) {
  const from = USD_VALUE[code];
  const to = USD_VALUE[shop];
  return from && to ? from / to : null;
}

/** What looks wrong with "1 `code` = `rate` `shop`" (rate as typed, e.g. "4.7"): null when it
 *  looks right or cannot be judged, else {kind, about, suggest}: "inverted" when its inverse
 *  looks right (`suggest`: 1 ÷ rate as a typeable rate), "far" when neither does; `about`:
 *  the rough rate ("0.21"). */
export function oddRate(code, shop, rate) {
  const typed = Number(rate);
  const rough = roughRate(code, shop);
  if (!rough || !(typed > 0)) return null;
  const near = (x, slack) => x / rough <= slack && rough / x <= slack;
  if (near(typed, SLACK)) return null;
  const about = plain(rough, 2);
  const suggest = plain(1 / typed, 4);
  if (near(1 / typed, INVERSE_SLACK) && suggest) return { kind: "inverted", about, suggest };
  return { kind: "far", about, suggest: null };
}
