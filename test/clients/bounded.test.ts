/**
 * What a client holds and reads, for all five clients on a real loopback server: nothing of a
 * request once its call has returned (no request, signal, answer or timer left behind), each body
 * parsed as JSON once, and no more of an answer read than `maxResponseBytes`: past it, the client
 * hangs up and throws ResponseTooLargeError, naming the limit and the request, never a credential.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createCvmClient, ResponseTooLargeError } from "../../src/clients/cvm.ts";
import { answerAuthentication, CANARY, failure, SUBJECTS } from "../support/clients.ts";

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const BODY = JSON.stringify({ data: [{ id: 1, hostname: "vps-1.example.net", status: "online" }], note: "parsed once" });

let server: Server;
let origin: string;
/** How the server answers a request the clients' authentication did not take. */
let answer: (request: IncomingMessage, response: ServerResponse) => void;
let requests = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (answerAuthentication(request, response)) return;
    requests += 1;
    request.resume();
    answer(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterEach(() => {
  requests = 0;
  answer = (_, response) => response.writeHead(200, { "Content-Type": "application/json" }).end(BODY);
  vi.restoreAllMocks();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
answer = (_, response) => response.writeHead(200, { "Content-Type": "application/json" }).end(BODY);

/** Writes 16 KiB chunks of a JSON string until the client hangs up (or 64 MiB, then ends). */
function endless(status: number) {
  const closed: Promise<unknown>[] = [];
  answer = (request, response) => {
    // The client resets the connection (an ECONNRESET here): that is the point.
    for (const emitter of [request, response, request.socket]) emitter.on("error", () => undefined);
    closed.push(
      new Promise((resolve, reject) => {
        const late = setTimeout(() => reject(new Error("the client kept the connection open")), 5000);
        request.socket.once("close", () => resolve(clearTimeout(late)));
      }),
    );
    response.writeHead(status, { "Content-Type": "application/json" });
    response.write('{"padding":"');
    const chunk = "x".repeat(16 * 1024);
    let written = 0;
    const more = () => {
      if (response.destroyed) return;
      if (written > 64 * 2 ** 20) return void response.end('"}');
      written += chunk.length;
      if (response.write(chunk)) setImmediate(more);
      else response.once("drain", more);
    };
    more();
  };
  return closed;
}

const LIMIT = 256 * 1024;

describe.each(SUBJECTS)("the $name client", { timeout: 10_000 }, (subject) => {
  it("holds nothing of a request once the call has returned: request, signal, answer, timer", async () => {
    const held: WeakRef<object>[] = [];
    const fetch = async (request: Request) => {
      const response = await globalThis.fetch(request);
      held.push(new WeakRef(request), new WeakRef(request.signal), new WeakRef(response));
      return response;
    };
    const calls = subject.connect(origin, { fetch });
    await calls.get(); // Cloud Manager authenticates on its first call
    const timers = process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
    held.length = 0;
    for (let call = 0; call < 5; call++) await calls.get();
    expect(held.length).toBeGreaterThanOrEqual(15);
    // Some of it goes through undici's FinalizationRegistry, whose clean-ups run between collections.
    const alive = () => held.filter((reference) => reference.deref() !== undefined);
    // (deref() keeps its target alive to the end of the turn: collect in a turn of its own.)
    const pause = () => new Promise((resolve) => setTimeout(resolve, 10));
    for (let round = 0; round < 10; round++) {
      await pause();
      collectGarbage();
      await pause();
      if (alive().length === 0) break;
    }
    expect(alive()).toEqual([]);
    expect(process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length).toBeLessThanOrEqual(timers);
  });

  it("parses the body of an answer once", async () => {
    const parse = vi.spyOn(JSON, "parse");
    await subject.connect(origin).get();
    expect(parse.mock.calls.filter(([text]) => text === BODY)).toHaveLength(1);
  });

  it("stops reading an endless 500 body at maxResponseBytes, hangs up, and throws ResponseTooLargeError", async () => {
    const closed = endless(500);
    const error = await failure(subject.connect(origin, { maxResponseBytes: LIMIT }).get());
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error).toMatchObject({ status: 500, maxResponseBytes: LIMIT, request: { method: "GET" } });
    expect(error.message).toContain(`${LIMIT} bytes`);
    expect(error.message).toContain((error as ResponseTooLargeError).request.path);
    expect(requests).toBe(1); // a larger answer is no accident: not retried
    await Promise.all(closed); // rejects if the client kept the connection
  });
});

describe("maxResponseBytes", () => {
  const cvm = (maxResponseBytes?: number) => createCvmClient({ baseUrl: origin, publicToken: "p", privateToken: "q", ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }) });

  it("reads an answer of exactly maxResponseBytes, and refuses one byte more", async () => {
    const { data } = await cvm(Buffer.byteLength(BODY)).GET("/api/client/vps/list");
    expect(data).toEqual(JSON.parse(BODY));
    await expect(cvm(Buffer.byteLength(BODY) - 1).GET("/api/client/vps/list")).rejects.toThrow(ResponseTooLargeError);
  });

  it("fails at once on a declared Content-Length over the limit, without waiting for the body", async () => {
    answer = (_, response) => response.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(10 * 2 ** 20) }).write("{");
    const client = createCvmClient({ baseUrl: origin, publicToken: "p", privateToken: "q", maxResponseBytes: LIMIT, timeoutMs: 5000 });
    await expect(client.GET("/api/client/vps/list")).rejects.toMatchObject({ name: "ResponseTooLargeError", status: 200 });
  });

  it("reads a 10 MB answer with the default limit (64 MiB)", async () => {
    const items = Array.from({ length: 100_000 }, (_, id) => ({ id, hostname: `vps-${id}.example.net`, status: "online", padding: "x".repeat(40) }));
    const big = JSON.stringify({ data: items });
    answer = (_, response) => response.writeHead(200, { "Content-Type": "application/json" }).end(big);
    const { data } = await cvm().GET("/api/client/vps/list");
    expect(Buffer.byteLength(big)).toBeGreaterThan(10 * 2 ** 20);
    expect((data as unknown as { data: unknown[] }).data).toHaveLength(100_000);
  });

  it.each([0, -1, 1.5, Number.NaN, "1024"])("refuses maxResponseBytes %s, naming the option", (maxResponseBytes) => {
    expect(() => cvm(maxResponseBytes as number)).toThrow(new TypeError('createCvmClient: option "maxResponseBytes" must be a whole number of bytes, 1 or more.'));
  });
});
