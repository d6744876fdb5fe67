// The new-order form's item field (issue 27, keyboard entry): a combobox (the WAI-ARIA list
// autocomplete pattern) over the shop's items instead of a <datalist>, whose popup arrows and
// Enter never reach the page (Enter submitted the form) and which a screen reader does not
// announce. The text stays free: a name not in the list is a new item. No imports, no DOM at
// load: node --test reads the pure helpers.

/** Fold what people type and what is stored alike: full-width letters and digits (ＰＯＣＫＹ,
 *  １２), case. */
export const fold = (text) => String(text ?? "").normalize("NFKC").toLowerCase().trim();

/** The items whose name contains `text` (folded), names starting with it first, at most `max`. */
export function matchItems(items, text, max = 50) {
  const q = fold(text);
  const starts = [];
  const contains = [];
  for (const item of items) {
    const name = fold(item.item_name);
    if (!q || name.startsWith(q)) starts.push(item);
    else if (name.includes(q)) contains.push(item);
  }
  return [...starts, ...contains].slice(0, max);
}

/** The highlighted option after an arrow key: `step` +1 (down) or -1 (up) from `index` (-1:
 *  none) among `count` options, wrapping round; -1 when there are none. */
export function moveHighlight(index, step, count) {
  if (count <= 0) return -1;
  if (index < 0 || index >= count) return step > 0 ? 0 : count - 1;
  return (index + step + count) % count;
}

/** The option to highlight as the list opens for `text`: the one named exactly so (Enter then
 *  takes it), else none (Enter keeps the typed name: a new item). */
export const exactIndex = (options, text) => options.findIndex((item) => fold(item.item_name) === fold(text));

/** Make `input` a combobox over `items()` ({item_name, ...}); `detail(item)` is the small text
 *  after a name (its price). Choosing an option writes its name and fires "input" on the
 *  field, as typing the whole name would (the form fills the price from it); then
 *  `onChoose(item)` (the order form moves on to the item's variants). */
export function bindItemPicker(input, list, { items, detail = () => "", onChoose = () => {} }) {
  let options = [];
  let active = -1;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.removeAttribute("list");
  list.setAttribute("role", "listbox");
  list.hidden = true;

  const isOpen = () => !list.hidden;
  function highlight(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const li = list.children[index];
    if (li) {
      input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }
  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    highlight(-1);
  }
  function open(text, { first = false } = {}) {
    options = matchItems(items(), text);
    if (!options.length) return close();
    list.replaceChildren(
      ...options.map((item, i) => {
        const li = document.createElement("li");
        li.id = `${list.id}-${i}`;
        li.setAttribute("role", "option");
        li.className = "item-option";
        const name = document.createElement("span");
        name.textContent = item.item_name;
        const small = document.createElement("small");
        small.className = "text-muted";
        small.textContent = detail(item);
        li.append(name, small);
        // The pointer still works: pressing an option keeps the focus in the field.
        li.addEventListener("mousedown", (ev) => ev.preventDefault());
        li.addEventListener("click", () => choose(i));
        return li;
      }),
    );
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    const exact = exactIndex(options, text);
    highlight(exact >= 0 ? exact : first ? 0 : -1);
  }
  function choose(index) {
    const item = options[index];
    close();
    if (!item) return;
    input.value = item.item_name;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    close(); // the "input" above reopened the list for the whole name
    onChoose(item);
  }

  input.addEventListener("input", () => (input.value.trim() ? open(input.value) : close()));
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (ev) => {
    if (ev.isComposing) return; // a Chinese IME's own Enter and arrows
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const step = ev.key === "ArrowDown" ? 1 : -1;
      if (!isOpen()) open(input.value, { first: true });
      else highlight(moveHighlight(active, step, options.length));
    } else if (ev.key === "Enter" && isOpen()) {
      // A list open takes the Enter: it chooses, and never submits the form.
      ev.preventDefault();
      if (active >= 0) choose(active);
      else close();
    } else if (ev.key === "Escape" && isOpen()) {
      ev.preventDefault();
      ev.stopPropagation(); // a panel or dialog around stays open
      close();
    }
  });
  return { close, isOpen };
}
