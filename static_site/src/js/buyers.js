// How a buyer is shown and found wherever one is chosen (issue 25): the name with one contact,
// so two buyers of the same name can be told apart. Pure functions (node --test reads them).

/** A stored phone as a person writes it: Taiwanese numbers in the local form, others as stored. */
export function phoneText(phone) {
  if (!phone) return "";
  const m = /^\+886(9\d{2})(\d{3})(\d{3})$/.exec(phone);
  if (m) return `0${m[1]}-${m[2]}-${m[3]}`;
  const land = /^\+886(\d{8,9})$/.exec(phone);
  return land ? `0${land[1]}` : phone;
}

/** The contact that tells a buyer apart: the LINE ID, else the phone, else the email. */
export function contactLabel(c) {
  if (c?.line_id) return `LINE ${c.line_id}`;
  if (c?.phone) return phoneText(c.phone);
  return c?.email || "";
}

/** "Name · contact" for plain text (a <select> option, a title). */
export function buyerText(c) {
  const label = contactLabel(c);
  return label ? `${c.name} · ${label}` : c.name;
}

/** Buyers by name in the page's language, then by contact (same-name buyers stay in one order). */
export function sortBuyers(buyers, locale = "en") {
  const coll = new Intl.Collator(locale, { sensitivity: "base", numeric: true });
  return [...buyers].sort((a, b) => coll.compare(a.name || "", b.name || "") || coll.compare(contactLabel(a), contactLabel(b)));
}

const digits = (s) => String(s || "").replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)).replace(/\D/g, "");

/** Whether `query` finds the buyer: part of the name, email or LINE ID (any case), or of
 *  the phone in any format (0912-345-678, +886 912 345 678, 912345678, full-width digits). */
export function buyerMatches(c, query) {
  const q = String(query || "")
    .trim()
    .toLowerCase();
  if (!q) return true;
  for (const text of [c.name, c.email, c.line_id]) if (text && text.toLowerCase().includes(q)) return true;
  const d = digits(q);
  // Only a query that is mostly digits is read as a phone number ("0912-345", "+886 912").
  if (!c.phone || d.length < 3 || d.length < q.replace(/[\s\-+()]/g, "").length) return false;
  const stored = digits(c.phone); // 886912345678
  const national = stored.startsWith("886") ? `0${stored.slice(3)}` : stored; // 0912345678
  return stored.includes(d) || national.includes(d);
}
