/** Starts an API's Prism mock on a free loopback port for one test file, and stops it after. */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { freePort, startMock, type RunningMock } from "../../scripts/prism.ts";

export function useMock(id: string): { readonly current: RunningMock } {
  const holder: { current?: RunningMock } = {};
  beforeAll(async () => {
    const specPath = fileURLToPath(new URL(`../../generated/${id}/openapi.json`, import.meta.url));
    holder.current = await startMock(id, { specPath, port: await freePort() });
  });
  afterAll(async () => {
    await holder.current?.stop();
  });
  return {
    get current() {
      if (!holder.current) throw new Error(`The ${id} mock is not running (beforeAll failed?).`);
      return holder.current;
    },
  };
}

export interface Exchange {
  method: string;
  path: string;
  query: string;
  status: number;
  body: unknown;
}

/**
 * A `fetch` for a client under test that keeps every exchange (for contract checks) and lets
 * `prefer` pick a documented answer from Prism (`Prefer: code=…` / `example=…`) per request.
 */
export function loggingFetch(prefer: (request: Request) => string | undefined = () => undefined) {
  const exchanges: Exchange[] = [];
  const logged = async (request: Request) => {
    const preference = prefer(request);
    if (preference) request.headers.set("Prefer", preference);
    const response = await fetch(request);
    const text = await response.clone().text();
    const url = new URL(request.url);
    exchanges.push({ method: request.method, path: url.pathname, query: url.search, status: response.status, body: text ? JSON.parse(text) : null });
    return response;
  };
  return { fetch: logged, exchanges };
}
