// The public form's items with variants (issue 30), loaded only when the form has some: each
// variant is a line of its own (its price, its stock, sold out on its own), named
// "棉T（黑 / L）", sent as the item's id and the variant's.
import { aside } from "./i18n.js";

export const flatten = (items) =>
  items.flatMap((i) =>
    i.variants?.length
      ? i.variants.map((v, n) => ({
          ...i,
          item_id: `${i.item_id}-${v.id}`,
          item_name: aside(i.item_name, v.label),
          price: v.price,
          remaining: v.remaining,
          min_quantity: n ? null : i.min_quantity, // the item's progress, shown once
          line: { item_id: i.item_id, variant_id: v.id },
        }))
      : [i],
  );
