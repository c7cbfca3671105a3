/**
 * The failure paths of all five clients, against a real loopback server whose behaviour each test
 * scripts: 429 with Retry-After, 503, a dropped connection, an answer that never comes or stops
 * halfway through its body, an HTML page instead of JSON, plain 400 and 500. Every client carries canary credentials, and no error it
 * throws may show one: not in its message, stack, JSON or inspection, nor anywhere down its causes.
 *
 * Node 20 links abort signals weakly (see src/runtime/transport.ts), so the tests that wait for a
 * timeout or an abort collect garbage while the request is in flight: a lost link would hang them.
 */
import { EventEmitter, once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Middleware } from "openapi-fetch";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Cloud66ApiError, createCloud66Client } from "../../src/clients/cloud66.ts";
import { CloudManagerApiError, createCloudManagerClient } from "../../src/clients/cloudmanager.ts";
import { CloudMcApiError, createCloudMcClient } from "../../src/clients/cloudmc.ts";
import { createCloudStackClient } from "../../src/clients/cloudstack.ts";
import { ConnectionError, createCvmClient, CvmApiError, InvalidResponseError, RequestTimeoutError, TransportError } from "../../src/clients/cvm.ts";
import type { ApiError } from "../../src/runtime/errors.ts";
import type { TransportOptions } from "../../src/runtime/transport.ts";
import { CANARY, canary, failure } from "../support/clients.ts";


/**
 * What the server does with the next request: answer, drop the connection, never answer, or send
 * the headers and the start of the body and then stop ("stall") or drop the connection ("cut").
 */
type Step = { status: number; headers?: Record<string, string>; body?: string } | "drop" | "hang" | "stall" | "cut";

const CLOUD_MANAGER_ROOT = "/api/public/v1.0";

let server: Server;
let origin: string;
/** The steps for this test's requests, in order; the last one repeats. */
let script: Step[] = [];
/** Requests the script answered (not Cloud Manager's digest challenges), in order of arrival. */
let seen: { method: string; at: number; headers: string }[] = [];
/** For each request left hanging: settles when the client closes its connection (or after 2 s). */
let hangUps: Promise<unknown>[] = [];
const arrivals = new EventEmitter();

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** Collects garbage as soon as the next request reaches the server (within 2 s). */
function collectGarbageOnArrival(): Promise<void> {
  return once(arrivals, "request", { signal: AbortSignal.timeout(2000) }).then(() => collectGarbage());
}

function answer(request: IncomingMessage, response: ServerResponse): void {
  if (request.url!.startsWith(CLOUD_MANAGER_ROOT) && !request.headers.authorization?.startsWith("Digest ")) {
    // Cloud Manager authenticates with HTTP Digest: challenge first, then take any answer.
    response.writeHead(401, { "WWW-Authenticate": 'Digest realm="test", nonce="n-1", algorithm=SHA-256, qop="auth"' }).end();
    return;
  }
  seen.push({ method: request.method!, at: performance.now(), headers: JSON.stringify(request.headers) });
  arrivals.emit("request");
  const step = script[Math.min(seen.length - 1, script.length - 1)]!;
  if (step === "drop") {
    request.socket.destroy();
  } else if (step === "hang") {
    hangUps.push(once(request.socket, "close", { signal: AbortSignal.timeout(2000) }));
  } else if (step === "stall" || step === "cut") {
    response.writeHead(200, { "Content-Type": "application/json", "Content-Length": "100" }).write('{"data": [');
    if (step === "cut") setImmediate(() => request.socket.destroy());
    else {
      hangUps.push(once(request.socket, "close", { signal: AbortSignal.timeout(2000) }));
      setImmediate(() => arrivals.emit("stalled"));
    }
  } else {
    response.writeHead(step.status, { "Content-Type": "application/json", ...step.headers }).end(step.body ?? "{}");
  }
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
beforeEach(() => {
  script = [];
  seen = [];
  hangUps = [];
});
afterEach(async () => {
  await Promise.allSettled(hangUps);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Calls {
  get(signal?: AbortSignal): Promise<unknown>;
  post(): Promise<unknown>;
  /** Adds a middleware of the caller's to the client. */
  use(middleware: Middleware): void;
}

interface Subject {
  name: string;
  ApiError: new (...args: never[]) => ApiError;
  /** The client against the test server, with a canary in every credential option. */
  connect(options: TransportOptions): Calls;
}

const subjects: Subject[] = [
  {
    name: "CVM",
    ApiError: CvmApiError,
    connect(options) {
      const cvm = createCvmClient({ baseUrl: origin, publicToken: canary("publicToken"), privateToken: canary("privateToken"), ...options });
      return {
        get: (signal) => cvm.GET("/api/client/vps/list", { signal }),
        post: () => cvm.POST("/api/client/vps/{id}/start", { params: { path: { id: "1" } } }),
        use: (middleware) => cvm.use(middleware),
      };
    },
  },
  {
    name: "CloudMC",
    ApiError: CloudMcApiError,
    connect(options) {
      // With orgId, middleware sends a copy of each request to another URL.
      const mc = createCloudMcClient({ baseUrl: `${origin}/api/v2`, apiKey: canary("apiKey"), orgId: "org-1", ...options });
      return {
        get: (signal) => mc.GET("/organizations", { signal }),
        post: () => mc.POST("/organizations", { body: { name: "Umbrella", entryPoint: "umbrella" } }),
        use: (middleware) => mc.use(middleware),
      };
    },
  },
  {
    name: "CloudStack",
    ApiError: CloudMcApiError,
    connect(options) {
      const cs = createCloudStackClient({ baseUrl: `${origin}/api/v2`, apiKey: canary("apiKey"), serviceCode: "compute-qc", environmentName: "dev", ...options });
      return {
        get: (signal) => cs.GET("/instances", { signal }),
        post: () => cs.operate("instances", "i-1", "stop", { forceStop: true }),
        use: (middleware) => cs.use(middleware),
      };
    },
  },
  {
    name: "Cloud 66",
    ApiError: Cloud66ApiError,
    connect(options) {
      const c66 = createCloud66Client({ baseUrl: `${origin}/api/3`, token: canary("token"), ...options });
      const stack = { params: { path: { stack_id: "5999b763474b0eafa5fafb64bff0ba80" } } };
      return {
        get: (signal) => c66.GET("/stacks", { signal }),
        post: () => c66.POST("/stacks/{stack_id}/actions", { ...stack, body: { command: "service_restart" } }),
        use: (middleware) => c66.use(middleware),
      };
    },
  },
  {
    name: "Cloud Manager",
    ApiError: CloudManagerApiError,
    connect(options) {
      const cm = createCloudManagerClient({ baseUrl: origin + CLOUD_MANAGER_ROOT, publicKey: canary("publicKey"), privateKey: canary("privateKey"), ...options });
      return {
        get: (signal) => cm.GET("/groups", { signal }),
        post: () => cm.POST("/groups", { body: { name: "project" } }),
        use: (middleware) => cm.use(middleware),
      };
    },
  },
];

/** Small, fast retries, so only the Retry-After test waits a real second. */
const QUICK = { retries: 2, baseDelayMs: 10 };

// A failure that hangs should fail in seconds, not at the suite's two-minute timeout.
describe.each(subjects)("the $name client", { timeout: 10_000 }, (subject) => {
  it("sends its canary credentials, so the checks below have something to find", async () => {
    script = [{ status: 200 }];
    await subject.connect({}).get();
    expect(seen[0]!.headers).toContain(CANARY);
  });

  it("sends a request a caller's middleware made itself, and lets the caller's abort through it", async () => {
    script = [{ status: 200 }];
    const calls = subject.connect({});
    calls.use({
      onRequest({ request }) {
        const headers = new Headers(request.headers);
        headers.set("X-Trace", "trace-1");
        return new Request(request, { headers });
      },
    });
    await calls.get();
    expect(seen[0]!.headers).toContain("trace-1");

    script = ["hang"];
    const caller = new AbortController();
    const call = calls.get(caller.signal);
    await once(arrivals, "request");
    caller.abort();
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
  });

  it("hands an answer outside 2xx to a middleware's onError as its ApiError, which may answer it instead", async () => {
    script = [{ status: 404, body: '{"errors": ["not found"]}' }];
    const calls = subject.connect({});
    const handed: unknown[] = [];
    calls.use({
      onError({ error }) {
        handed.push(error);
        return Response.json({ recovered: true });
      },
    });
    await expect(calls.get()).resolves.toMatchObject({ data: { recovered: true } });
    expect(handed).toHaveLength(1);
    expect(handed[0]).toBeInstanceOf(subject.ApiError);
    expect(handed[0]).toMatchObject({ status: 404 });
  });

  it("waits as long as Retry-After says after a 429, then succeeds", async () => {
    script = [{ status: 429, headers: { "Retry-After": "1" } }, { status: 200 }];
    await subject.connect({ retry: { baseDelayMs: 10 } }).get();
    expect(seen).toHaveLength(2);
    const waited = seen[1]!.at - seen[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(3000);
  });

  it("throws its ApiError with status 429 once the retries are spent", async () => {
    script = [{ status: 429 }];
    const error = await failure(subject.connect({ retry: QUICK }).get());
    expect(error).toBeInstanceOf(subject.ApiError);
    expect(error).toMatchObject({ status: 429 });
    expect(seen).toHaveLength(3);
  });

  it("retries a POST the server refused with 503, then succeeds", async () => {
    script = [{ status: 503 }, { status: 200 }];
    await subject.connect({ retry: QUICK }).post();
    expect(seen.map((request) => request.method)).toEqual(["POST", "POST"]);
  });

  it("throws its ApiError with status 503 when every attempt is refused", async () => {
    script = [{ status: 503 }];
    const error = await failure(subject.connect({ retry: QUICK }).post());
    expect(error).toBeInstanceOf(subject.ApiError);
    expect(error).toMatchObject({ status: 503 });
    expect(seen).toHaveLength(3);
  });

  it("retries a GET whose connection dropped, then throws ConnectionError", async () => {
    script = ["drop"];
    const error = await failure(subject.connect({ retry: QUICK }).get());
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ request: { method: "GET" } });
    expect(seen).toHaveLength(3);
  });

  it("does not retry a POST whose connection dropped: the server may have acted on it", async () => {
    script = ["drop"];
    const error = await failure(subject.connect({ retry: QUICK }).post());
    expect(error).toBeInstanceOf(ConnectionError);
    expect(seen).toHaveLength(1);
  });

  it("gives up on a GET that gets no answer within timeoutMs, retrying once, and hangs up", async () => {
    script = ["hang"];
    const collected = collectGarbageOnArrival();
    const error = await failure(subject.connect({ timeoutMs: 200, retry: { retries: 1, baseDelayMs: 10 } }).get());
    await collected;
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 200 });
    expect(error.message).toContain("200 ms");
    expect(seen).toHaveLength(2);
    await Promise.all(hangUps); // rejects if the client left a connection open
  });

  it("gives up on a GET whose body stops halfway within timeoutMs, retrying once, and hangs up", async () => {
    script = ["stall"];
    // Collect garbage while the client waits for the rest of the body: it must still time out.
    const collected = once(arrivals, "stalled", { signal: AbortSignal.timeout(2000) }).then(() => collectGarbage());
    const error = await failure(subject.connect({ timeoutMs: 300, retry: { retries: 1, baseDelayMs: 10 } }).get());
    await collected;
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(seen).toHaveLength(2);
    await Promise.all(hangUps);
  });

  it("retries a GET whose connection dropped halfway through the body, then throws ConnectionError", async () => {
    script = ["cut"];
    const error = await failure(subject.connect({ retry: QUICK }).get());
    expect(error).toBeInstanceOf(ConnectionError);
    expect(seen).toHaveLength(3);
  });

  it("does not retry a POST that timed out", async () => {
    script = ["hang"];
    const collected = collectGarbageOnArrival();
    const error = await failure(subject.connect({ timeoutMs: 200, retry: QUICK }).post());
    await collected;
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(seen).toHaveLength(1);
    await Promise.all(hangUps);
  });

  it("throws InvalidResponseError for an HTML page answered with 200, without its text", async () => {
    const html = "<html><body>Sign in to the portal</body></html>";
    script = [{ status: 200, headers: { "Content-Type": "text/html; charset=utf-8" }, body: html }];
    const error = await failure(subject.connect({ retry: QUICK }).get());
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ status: 200, contentType: "text/html; charset=utf-8" });
    expect(error.message).toContain("text/html");
    expect(error.message).not.toContain("Sign in");
    expect(seen).toHaveLength(1);
  });

  it.each([400, 500])("does not retry a %i", async (status) => {
    script = [{ status }];
    const error = await failure(subject.connect({ retry: QUICK }).get());
    expect(error).toBeInstanceOf(subject.ApiError);
    expect(error).toMatchObject({ status });
    expect(seen).toHaveLength(1);
  });

  it("lets the caller's own abort through as an AbortError, not a timeout, and does not retry", async () => {
    script = ["hang"];
    const controller = new AbortController();
    const collected = collectGarbageOnArrival();
    const pending = failure(subject.connect({ timeoutMs: 5000, retry: QUICK }).get(controller.signal));
    await collected;
    controller.abort();
    const error = await pending;
    expect(error.name).toBe("AbortError");
    expect(error).not.toBeInstanceOf(TransportError);
    expect(seen).toHaveLength(1);
    await Promise.all(hangUps);
  });

  it("leaves a timeout of the caller's own signal theirs, not a RequestTimeoutError", async () => {
    script = ["hang"];
    const error = await failure(subject.connect({ timeoutMs: 5000, retry: false }).get(AbortSignal.timeout(100)));
    expect(error.name).toBe("TimeoutError");
    expect(error).not.toBeInstanceOf(TransportError);
    await Promise.all(hangUps);
  });
});

describe("transport options", () => {
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, "100"])("refuses timeoutMs %s, naming the option", (timeoutMs) => {
    expect(() => createCvmClient({ baseUrl: origin, publicToken: "a", privateToken: "b", timeoutMs: timeoutMs as number })).toThrow(
      new TypeError('createCvmClient: option "timeoutMs" must be a positive finite number of milliseconds (at most 2147483647).'),
    );
  });

  it("refuses retry options it cannot use, naming the option", () => {
    expect(() => createCloud66Client({ token: "t", retry: { retries: 1.5 } })).toThrow('createCloud66Client: option "retry.retries"');
    expect(() => createCloud66Client({ token: "t", retry: true as unknown as false })).toThrow('createCloud66Client: option "retry"');
  });

  it("sends each request once with retry: false", async () => {
    script = [{ status: 503 }];
    const error = await failure(subjects[0]!.connect({ retry: false }).get());
    expect(error).toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);
  });
});
