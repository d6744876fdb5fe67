// A list the API gives page by page (`{items, next_cursor}`), read on with "Load more".
// The views keep one per list; what they draw, and how they show a failure, stays theirs.

/** Rows asked for per page (the API's limit is 1 to 200). */
export const PAGE = 100;

export class PagedList {
  /** fetchPage({limit, cursor}) → a promise of the API's page for that cursor. */
  constructor(fetchPage) {
    this.fetchPage = fetchPage;
    this.clear();
  }

  /** Forget what was read (a new search, a log-out). */
  clear() {
    this.items = [];
    this.cursor = null;
    this.loaded = false;
  }

  /** Whether the server has more after what was read ("Load more" shown). */
  get more() {
    return Boolean(this.cursor);
  }

  /** Read the first page (`first`) or the next one. The rows read stay on screen until the
   *  page arrives, then are replaced (first) or extended; a failure throws and keeps them.
   *  A first page drops the old cursor at once: no "Load more" of a list being replaced. */
  async load(first = true) {
    if (first) this.cursor = null;
    const page = await this.fetchPage({ limit: PAGE, cursor: first ? undefined : this.cursor || undefined });
    const items = page?.items || [];
    this.items = first ? [...items] : [...this.items, ...items];
    this.cursor = page?.next_cursor || null;
    this.loaded = true;
    return page;
  }
}
