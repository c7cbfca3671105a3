/**
 * Redirects, for all five clients (Cloud Manager with an API key and with a service account) and
 * all four codes, against two real loopback servers: the client's own origin, which redirects its
 * first request, and another origin, which records everything it receives. Credentials never reach
 * the other origin: by default the call fails with CrossOriginRedirectError naming both origins
 * and the other server sees nothing; with `crossOriginRedirects: "follow-without-credentials"` it
 * sees the request, without an API key, token pair, bearer token or digest answer. Within the
 * origin, a redirect is followed with the credentials, re-applied for the new URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCvmClient, CrossOriginRedirectError, TooManyRedirectsError } from "../../src/clients/cvm.ts";
import type { TransportOptions } from "../../src/runtime/transport.ts";
import { answerAuthentication, CANARY, failure, SUBJECTS } from "../support/clients.ts";

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A loopback server that records every request and lets the test answer it. */
class RecordingServer {
  readonly received: Received[] = [];
  answer: (request: Received, response: ServerResponse) => void = (_, response) => json(response, 200, {});
  private readonly server: Server = createServer((request, response) => {
    if (this.authenticates && answerAuthentication(request, response)) return;
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      const received = { method: request.method!, url: request.url!, headers: request.headers, body };
      this.received.push(received);
      this.answer(received, response);
    });
  });
  origin = "";

  /** `authenticates`: answers Cloud Manager's digest challenges and token requests itself. */
  constructor(private readonly authenticates: boolean) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.received.length = 0;
    this.answer = (_, response) => json(response, 200, {});
  }
}

const json = (response: ServerResponse, status: number, body: unknown) =>
  response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));

const home = new RecordingServer(true);
const away = new RecordingServer(false);

beforeAll(async () => {
  await Promise.all([home.start(), away.start()]);
});
beforeEach(() => {
  home.reset();
  away.reset();
});
afterAll(async () => {
  await Promise.all([home.stop(), away.stop()]);
});

/** Home redirects its first request to `location` with `status`, and answers the others. */
function redirectFirst(status: number, location: (request: Received) => string): void {
  home.answer = (request, response) => {
    if (home.received.length === 1) response.writeHead(status, { Location: location(request) }).end();
    else json(response, 200, {});
  };
}

/** What 301 and 302 make of a POST, as fetch does: a GET without a body. 307 and 308 keep both. */
const redirectedMethod = (status: number) => (status === 307 || status === 308 ? "POST" : "GET");

const CODES = [301, 302, 307, 308];

describe.each(SUBJECTS)("the $name client", (subject) => {
  it.each(CODES)("refuses a %i to another origin, naming both origins, and sends it nothing", async (status) => {
    redirectFirst(status, (request) => `${away.origin}${request.url}`);
    const error = await failure(subject.connect(home.origin).post());
    expect(error).toBeInstanceOf(CrossOriginRedirectError);
    expect(error).toMatchObject({ status, from: home.origin, to: away.origin, request: { method: "POST" } });
    expect(error.message).toContain(home.origin);
    expect(error.message).toContain(away.origin);
    expect(away.received).toEqual([]);
    expect(home.received).toHaveLength(1); // not retried
  });

  it.each(CODES)("follows a %i to another origin without any credential when told to", async (status) => {
    redirectFirst(status, (request) => `${away.origin}${request.url}`);
    await subject.connect(home.origin, { crossOriginRedirects: "follow-without-credentials" }).post();
    expect(JSON.stringify(home.received[0]!.headers)).toContain(CANARY); // there were credentials to leak
    expect(away.received).toHaveLength(1);
    const [followed] = away.received;
    expect(followed!.url).toBe(home.received[0]!.url);
    expect(followed!.method).toBe(redirectedMethod(status));
    expect(followed!.body).toBe(redirectedMethod(status) === "POST" ? home.received[0]!.body : "");
    expect(JSON.stringify(followed)).not.toContain(CANARY);
    expect(followed!.headers.authorization).toBeUndefined();
  });

  it.each(CODES)("follows a %i within its origin, with its credentials for the new URL", async (status) => {
    redirectFirst(status, (request) => `${request.url}${request.url.includes("?") ? "&" : "?"}moved=1`);
    await subject.connect(home.origin).post();
    expect(home.received).toHaveLength(2);
    const [first, followed] = home.received;
    expect(followed!.url).toBe(`${first!.url}${first!.url.includes("?") ? "&" : "?"}moved=1`);
    expect(followed!.method).toBe(redirectedMethod(status));
    expect(followed!.body).toBe(redirectedMethod(status) === "POST" ? first!.body : "");
    expect(JSON.stringify(followed!.headers)).toContain(CANARY);
    // A digest answer is for one URI: the followed request carries a new one, for its own.
    if (followed!.headers.authorization?.startsWith("Digest ")) expect(followed!.headers.authorization).toContain(`uri="${followed!.url}"`);
  });
});

describe("redirects", () => {
  const cvm = (options: TransportOptions = {}) => createCvmClient({ baseUrl: home.origin, publicToken: `${CANARY}public`, privateToken: `${CANARY}private`, ...options });

  it("does not answer a digest challenge from another origin", async () => {
    const cm = SUBJECTS.find((subject) => subject.name === "Cloud Manager")!;
    redirectFirst(302, (request) => `${away.origin}${request.url}`);
    away.answer = (_, response) => response.writeHead(401, { "WWW-Authenticate": 'Digest realm="elsewhere", nonce="n-9", algorithm=SHA-256, qop="auth"' }).end();
    const error = await failure(cm.connect(home.origin, { crossOriginRedirects: "follow-without-credentials" }).get());
    expect(error).toMatchObject({ status: 401 });
    expect(away.received).toHaveLength(1);
    expect(away.received[0]!.headers.authorization).toBeUndefined();
  });

  it("sends no credential back to its own origin once a chain has left it", async () => {
    redirectFirst(302, () => `${away.origin}/bounce`);
    away.answer = (_, response) => response.writeHead(302, { Location: `${home.origin}/api/client/vps/list?back=1` }).end();
    await cvm({ crossOriginRedirects: "follow-without-credentials" }).GET("/api/client/vps/list");
    expect(home.received.map((request) => request.url)).toEqual(["/api/client/vps/list", "/api/client/vps/list?back=1"]);
    expect(JSON.stringify(home.received[1]!.headers)).not.toContain(CANARY);
  });

  it("stops after 20 redirects with TooManyRedirectsError", async () => {
    home.answer = (_, response) => response.writeHead(302, { Location: `/api/client/vps/list?hop=${home.received.length}` }).end();
    const error = await failure(cvm().GET("/api/client/vps/list"));
    expect(error).toBeInstanceOf(TooManyRedirectsError);
    expect(error).toMatchObject({ maxRedirects: 20 });
    expect(home.received).toHaveLength(21);
  });

  it("refuses a crossOriginRedirects value it does not know, naming the option", () => {
    expect(() => cvm({ crossOriginRedirects: "follow" as "error" })).toThrow(
      new TypeError('createCvmClient: option "crossOriginRedirects" must be "error" or "follow-without-credentials".'),
    );
  });
});
