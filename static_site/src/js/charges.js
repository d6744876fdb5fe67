// Charges (money a buyer owes that is not an order line: a parcel's shipping, duty, a bag, an
// adjustment) as the seller page and the buyer page show them. Pure: the tests run it in node.
import { money, parseCents } from "./format.js";
import { t, tIn } from "./i18n.js";

/** A charge's kind in the page's words ("Customs duty" / "關稅"); an unknown kind as it is. */
export function kindText(kind) {
  const text = t(`charge.kind.${kind}`);
  return text === `charge.kind.${kind}` ? String(kind ?? "") : text;
}

/** What a charge still owes, in cents: nothing once voided. */
export function balanceCents(c) {
  if (!c || c.status === "void") return 0;
  const cents = (v) => parseCents(String(v ?? 0)) ?? 0;
  if (c.balance !== undefined && c.balance !== null) return cents(c.balance);
  return Math.max(0, cents(c.amount) - cents(c.paid_amount));
}

/** The charges that still take money, oldest first (the order a payment fills them in). */
export function openCharges(charges) {
  return (charges || [])
    .filter((c) => c.status !== "void" && balanceCents(c) > 0)
    .sort((a, b) => String(a.created_at || "").localeCompare(String(b.created_at || "")));
}

/** One line of a payment's allocation: "#1001" for an order, "Customs duty" for a charge
 *  (allocations carry `charge_id` + `kind` instead of `order_id` + `order_no`). */
export function allocationLabel(a) {
  if (a.charge_id) return a.parcel_no ? `${kindText(a.kind)} · ${t("charge.parcel_no", { no: a.parcel_no })}` : kindText(a.kind);
  return `#${a.order_no}`;
}

/** An amount as typed in `currency` (１２０, NT$120: format.typedAmount): cents > 0, else null. */
export function readAmount(text, currency) {
  const cents = parseCents(text, currency);
  return cents ? cents : null;
}

/** What a buyer owes on, for a message in `language`: "#1001" per order, then "Shipping
 *  NT$60" per open charge (its kind in that language and what it still owes). */
export function owedOn(orderNos, charges, language, currency) {
  return [
    ...orderNos.map((n) => `#${n}`),
    ...openCharges(charges).map((c) => {
      const kind = tIn(language, `charge.kind.${c.kind}`);
      return `${kind === `charge.kind.${c.kind}` ? c.kind : kind} ${money(balanceCents(c) / 100, currency)}`;
    }),
  ];
}
