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

/** The paths of an openapi-typescript `paths` type whose GET answers 200 with a body of `Shape`. */
export type ListPath<Paths, Shape> = {
  [Path in keyof Paths]: Paths[Path] extends { get: { responses: { 200: { content: { "application/json": Shape } } } } } ? Path : never;
}[keyof Paths];

/** The item type of the list that `Path` answers in its `Key` array. */
export type ListItem<Paths, Path extends keyof Paths, Key extends string> = Paths[Path] extends {
  get: { responses: { 200: { content: { "application/json": { [K in Key]: readonly (infer Item)[] } } } } };
}
  ? Item
  : never;

/** Path and query parameters of `Path`'s GET. */
export type ListParams<Paths, Path extends keyof Paths> = Paths[Path] extends { get: { parameters: infer Params } } ? Omit<Params, "header" | "cookie"> : never;

type GetParams = { path?: Record<string, unknown>; query?: Record<string, unknown> };

/**
 * Pages through a list with an openapi-fetch client: sends `pageParam` = 1, 2, … (or the caller's
 * start) beside the caller's parameters, and lets `readPage` say which items a body holds and
 * which page comes next.
 */
export function paginateGet<Item, Body>(
  client: { GET: unknown },
  path: string,
  params: object | undefined,
  pageParam: string,
  readPage: (body: Body | undefined, page: number, query: Record<string, unknown>) => Page<Item, number>,
  options: PaginateOptions = {},
): AsyncGenerator<Item, void, undefined> {
  const base = (params ?? {}) as GetParams;
  const get = client.GET as (path: string, init: object) => Promise<{ data?: Body }>;
  return paginate<Item, number>(
    Number(base.query?.[pageParam] ?? 1),
    async (page, signal) => {
      const query = { ...base.query, [pageParam]: page };
      const { data } = await get(path, { params: { ...base, query }, ...(signal ? { signal } : {}) });
      return readPage(data, page, query);
    },
    options,
  );
}
