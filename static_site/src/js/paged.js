// A list the API gives page by page (`{items, next_cursor}`), read on with "Load more".
// The views keep one per list; what they draw, and how they show a failure, stays theirs.

/** Rows asked for per page (the API's limit is 1 to 200). */
export const PAGE = 100;

export class PagedList {
  #key;
  #at = new Map(); // key → index in items (lists with a key only)
  #reading = 0; // counts first pages asked for: only the last one's answer is kept

  /** fetchPage({limit, cursor}) → a promise of the API's page for that cursor.
   *  `key(row)` (optional) names a row: then the list holds one row per key (a row read
   *  again on a later page takes the place of the one listed), and `get` and `replace`
   *  find a row by it (the orders lists change rows in place). */
  constructor(fetchPage, { key } = {}) {
    this.fetchPage = fetchPage;
    this.#key = key || null;
    this.clear();
  }

  /** Forget what was read (a new search, a log-out). */
  clear() {
    this.items = [];
    this.#at = new Map();
    this.cursor = null;
    this.loaded = false;
  }

  /** Whether the server has more after what was read ("Load more" shown). */
  get more() {
    return Boolean(this.cursor);
  }

  /** Read the first page (`first`) or the next one. The rows read stay on screen until the
   *  page arrives, then are replaced (first) or extended; a failure throws and keeps them.
   *  A first page drops the old cursor at once: no "Load more" of a list being replaced.
   *  Null when a newer first page was asked for before this answer came. */
  async load(first = true) {
    if (first) this.cursor = null;
    const reading = first ? ++this.#reading : this.#reading;
    const page = await this.fetchPage({ limit: PAGE, cursor: first ? undefined : this.cursor || undefined });
    // A later first page was asked for meanwhile (a filter typed while the list reloaded):
    // this answer is of the old question and changes nothing; null says so to the caller.
    if (reading !== this.#reading) return null;
    this.#add(page?.items || [], first);
    this.cursor = page?.next_cursor || null;
    this.loaded = true;
    return page;
  }

  /** The listed row of `key` (undefined when it is not listed, or the list has no key). */
  get(key) {
    const i = this.#at.get(key);
    return i === undefined ? undefined : this.items[i];
  }

  /** Put `row` in the place of the listed row with its key; false when none is listed. */
  replace(row) {
    const i = this.#key ? this.#at.get(this.#key(row)) : undefined;
    if (i === undefined) return false;
    this.items[i] = row;
    return true;
  }

  #add(rows, first) {
    if (!this.#key) {
      this.items = first ? [...rows] : [...this.items, ...rows];
      return;
    }
    const items = first ? [] : [...this.items];
    const at = first ? new Map() : new Map(this.#at);
    for (const row of rows) {
      const k = this.#key(row);
      if (at.has(k)) items[at.get(k)] = row;
      else at.set(k, items.push(row) - 1);
    }
    this.items = items;
    this.#at = at;
  }
}
