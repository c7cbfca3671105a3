import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cloud66ApiError, createCloud66Client, paginate, waitForAction } from "../../src/clients/cloud66.ts";
import { TaskError } from "../../src/runtime/errors.ts";

const TOKEN = "ubg5kvaowx6ngpp9pex63pe75bxsjrzia0gcp60y6tmieeg1iwi7fh0fen9nce56";
const STACK = "5999b763474b0eafa5fafb64bff0ba80";

/** A real loopback server with three pages of stacks (2 items each), as Cloud 66 pages them. */
let server: Server;
let baseUrl: string;
const pagesServed: string[] = [];
beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url!, "http://x");
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      response.writeHead(401, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "unauthenticated", error_description: "No token" }));
      return;
    }
    const page = Number(url.searchParams.get("page") ?? "1");
    pagesServed.push(`${url.pathname}?page=${page}`);
    const items = [1, 2].map((i) => ({ uid: `stack-${page}-${i}`, name: `s${page}${i}` }));
    const body = { response: items, count: 6, pagination: { previous: page > 1 ? page - 1 : null, next: page < 3 ? page + 1 : null, current: page, per_page: 2, count: 6, pages: 3 } };
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/3`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("paginate", () => {
  it("walks every page of a list over HTTP, following pagination.next", async () => {
    pagesServed.length = 0;
    const client = createCloud66Client({ baseUrl, token: TOKEN });
    const uids: string[] = [];
    for await (const stack of paginate(client, "/stacks")) uids.push(stack.uid);
    expect(uids).toEqual(["stack-1-1", "stack-1-2", "stack-2-1", "stack-2-2", "stack-3-1", "stack-3-2"]);
    expect(pagesServed).toEqual(["/api/3/stacks?page=1", "/api/3/stacks?page=2", "/api/3/stacks?page=3"]);
  });

  it("starts at the page the caller asks for", async () => {
    pagesServed.length = 0;
    const client = createCloud66Client({ baseUrl, token: TOKEN });
    const uids: string[] = [];
    for await (const stack of paginate(client, "/stacks", { query: { page: 3 } })) uids.push(stack.uid);
    expect(uids).toEqual(["stack-3-1", "stack-3-2"]);
  });

  it("surfaces a 401 as Cloud66ApiError, without the token in it", async () => {
    const client = createCloud66Client({ baseUrl, token: "wrong-token-canary" });
    const error = await paginate(client, "/stacks").next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Cloud66ApiError);
    expect(error).toMatchObject({ status: 401, error: "unauthenticated", message: "No token" });
    expect(String(error) + JSON.stringify(error)).not.toContain("wrong-token-canary");
  });
});

describe("waitForAction", () => {
  const action = (extra: object) => ({ id: 283, action: "service_restart", started_at: "2014-09-01T19:08:05Z", finished_at: null, finished_success: null, ...extra });

  function fakeFetch(states: object[]) {
    const urls: string[] = [];
    const fetch = async (request: Request) => {
      urls.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("Authorization")}`);
      return Response.json({ response: states.shift() });
    };
    return { fetch, urls };
  }

  it("polls the action until finished and resolves with it", async () => {
    const { fetch, urls } = fakeFetch([action({}), action({ finished_at: "2014-09-01T19:08:45Z", finished_success: true })]);
    const client = createCloud66Client({ token: TOKEN, fetch });
    const done = await waitForAction(client, STACK, 283, { intervalMs: 1 });
    expect(done).toMatchObject({ id: 283, finished_success: true });
    expect(urls).toEqual([`GET /api/3/stacks/${STACK}/actions/283 Bearer ${TOKEN}`, `GET /api/3/stacks/${STACK}/actions/283 Bearer ${TOKEN}`]);
  });

  it("rejects with TaskError (failed) and the server's finished_message", async () => {
    const { fetch } = fakeFetch([action({ finished_at: "2014-09-01T19:08:45Z", finished_success: false, finished_message: "Service web not found" })]);
    const client = createCloud66Client({ token: TOKEN, fetch });
    const error = await waitForAction(client, STACK, 283, { intervalMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toMatchObject({ reason: "failed", taskId: "283" });
    expect((error as Error).message).toContain("Service web not found");
  });
});

describe("createCloud66Client", () => {
  it("defaults to the Cloud 66 API root and refuses an empty token", async () => {
    const seen: string[] = [];
    const client = createCloud66Client({ token: TOKEN, fetch: async (request) => (seen.push(request.url), Response.json({ response: [] })) });
    await client.GET("/stacks");
    expect(seen).toEqual(["https://app.cloud66.com/api/3/stacks"]);
    expect(() => createCloud66Client({ token: "" })).toThrow('option "token"');
  });
});
