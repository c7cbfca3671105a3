/**
 * Walking a paged list: Cloud 66 (`pagination.next`) and Cloud Manager (`links` with rel `next`)
 * page differently, but both come down to "fetch a page, yield its items, go to the next one".
 */

export interface Page<Item, Cursor> {
  items: readonly Item[];
  /** Where the next page is, or `undefined` on the last page. */
  next: Cursor | undefined;
}

export interface PaginateOptions {
  /** Stop after this many pages even if the server offers more (a guard against cycling lists). */
  maxPages?: number;
  signal?: AbortSignal;
}

/**
 * Yields every item of every page, fetching the next page only when the caller has consumed the
 * current one (so `break` stops the requests). Refuses a server that offers the same page twice.
 */
export async function* paginate<Item, Cursor>(
  first: Cursor,
  fetchPage: (cursor: Cursor, signal?: AbortSignal) => Promise<Page<Item, Cursor>>,
  options: PaginateOptions = {},
): AsyncGenerator<Item, void, undefined> {
  const { maxPages = 10_000, signal } = options;
  const seen = new Set<string>();
  let cursor: Cursor | undefined = first;
  for (let pages = 0; cursor !== undefined; pages++) {
    signal?.throwIfAborted();
    if (pages >= maxPages) throw new Error(`Stopped paginating after ${maxPages} pages.`);
    const key = JSON.stringify(cursor);
    if (seen.has(key)) throw new Error(`The server offered page ${key} twice; stopped paginating.`);
    seen.add(key);
    const page: Page<Item, Cursor> = await fetchPage(cursor, signal);
    yield* page.items;
    cursor = page.next;
  }
}
