import { describe, expect, it } from "vitest";
import { paginate, type Page } from "../../src/runtime/paginate.ts";

/** A fake server with `pages` pages of 3 items, addressed by number from 1. */
function server(pages: number, nextOf = (page: number) => (page < pages ? page + 1 : undefined)) {
  const fetched: number[] = [];
  const fetchPage = async (page: number): Promise<Page<string, number>> => {
    fetched.push(page);
    return { items: [1, 2, 3].map((i) => `p${page}-${i}`), next: nextOf(page) };
  };
  return { fetched, fetchPage };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("paginate", () => {
  it("yields every item of every page, in order", async () => {
    const { fetched, fetchPage } = server(3);
    expect(await collect(paginate(1, fetchPage))).toEqual(["p1-1", "p1-2", "p1-3", "p2-1", "p2-2", "p2-3", "p3-1", "p3-2", "p3-3"]);
    expect(fetched).toEqual([1, 2, 3]);
  });

  it("fetches no further page once the caller stops", async () => {
    const { fetched, fetchPage } = server(5);
    for await (const item of paginate(1, fetchPage)) if (item === "p2-1") break;
    expect(fetched).toEqual([1, 2]);
  });

  it("refuses a server that sends it back to a page it has seen", async () => {
    const { fetchPage } = server(3, (page) => (page === 2 ? 1 : page + 1));
    await expect(collect(paginate(1, fetchPage))).rejects.toThrow("offered page 1 twice");
  });

  it("stops at maxPages", async () => {
    const { fetchPage } = server(100);
    await expect(collect(paginate(1, fetchPage, { maxPages: 4 }))).rejects.toThrow("after 4 pages");
  });

  it("stops when the signal aborts", async () => {
    const controller = new AbortController();
    const { fetched, fetchPage } = server(5);
    const items: string[] = [];
    await expect(
      (async () => {
        for await (const item of paginate(1, fetchPage, { signal: controller.signal })) {
          items.push(item);
          if (item === "p1-3") controller.abort();
        }
      })(),
    ).rejects.toThrow();
    expect(fetched).toEqual([1]);
  });
});
