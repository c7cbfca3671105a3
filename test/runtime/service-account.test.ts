/**
 * Service account tokens (OAuth 2 client credentials) against a local token endpoint and API: the
 * token is fetched once with HTTP Basic, sent as a bearer token, renewed before it expires and once
 * on a 401, shared by concurrent requests, and a refused request names the error but never the
 * secret.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudManagerApiError, createCloudManagerClient } from "../../src/clients/cloudmanager.ts";
import { serviceAccountFetch, ServiceAccountTokenError } from "../../src/runtime/service-account.ts";

const CLIENT_ID = "mdb_sa_id_6627e2b2f4a0";
const SECRET = "mdb_sa_sk_canary-5f1e9c0d2b";

let server: Server;
let origin: string;
/** What the server saw, in order: `token <grant> <basic user>` or `api <path> <token>`. */
let seen: string[];
let tokensIssued: number;
let expiresIn: number;
/** Tokens the API accepts; emptied to simulate a revoked token. */
let valid: Set<string>;
/** Whether the API refuses every token, new ones too. */
let refuseAll: boolean;

const readBody = async (request: IncomingMessage) => {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text;
};

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const url = new URL(request.url!, "http://x");
    if (url.pathname === "/api/oauth/token") {
      const body = new URLSearchParams(await readBody(request));
      const basic = Buffer.from((request.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString();
      const [id, secret] = basic.split(":").map(decodeURIComponent);
      seen.push(`token ${body.get("grant_type")} ${id}`);
      if (id !== CLIENT_ID || secret !== SECRET) {
        response.writeHead(401, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "invalid_client", error_description: "Invalid client credentials" }));
        return;
      }
      const token = `token-${++tokensIssued}`;
      valid.add(token);
      response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ access_token: token, expires_in: expiresIn, token_type: "Bearer" }));
      return;
    }
    const token = (request.headers.authorization ?? "").replace(/^Bearer /, "");
    seen.push(`api ${url.pathname} ${token}`);
    if (refuseAll || !valid.has(token)) {
      response.writeHead(401, { "Content-Type": "application/json" }).end(JSON.stringify({ error: 401, errorCode: "NOT_AUTHORIZED", detail: "Unauthorized.", reason: "Unauthorized", parameters: [] }));
      return;
    }
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ totalCount: 0, results: [], links: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
  tokensIssued = 0;
  expiresIn = 3600;
  valid = new Set();
  refuseAll = false;
});

const client = (secret = SECRET) =>
  createCloudManagerClient({ baseUrl: `${origin}/api/public/v1.0`, serviceAccount: { clientId: CLIENT_ID, clientSecret: secret }, retry: false });

describe("createCloudManagerClient with a service account", () => {
  it("gets a token with HTTP Basic and client_credentials, then sends it as a bearer token, once for many calls", async () => {
    const cm = client();
    await cm.GET("/groups");
    await cm.GET("/orgs");
    expect(seen).toEqual([`token client_credentials ${CLIENT_ID}`, "api /api/public/v1.0/groups token-1", "api /api/public/v1.0/orgs token-1"]);
  });

  it("shares one token request between concurrent calls", async () => {
    const cm = client();
    await Promise.all([cm.GET("/groups"), cm.GET("/orgs"), cm.GET("/groups")]);
    expect(seen.filter((line) => line.startsWith("token"))).toHaveLength(1);
  });

  it("renews the token once when the API answers 401, and retries the call", async () => {
    const cm = client();
    await cm.GET("/groups");
    valid.clear(); // revoked
    await cm.GET("/groups");
    expect(seen.slice(2)).toEqual(["api /api/public/v1.0/groups token-1", `token client_credentials ${CLIENT_ID}`, "api /api/public/v1.0/groups token-2"]);
  });

  it("throws CloudManagerApiError when the renewed token is refused too, after one renewal", async () => {
    const cm = client();
    await cm.GET("/groups");
    refuseAll = true;
    const error = await cm.GET("/groups").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudManagerApiError);
    expect(error).toMatchObject({ status: 401 });
    expect(seen.filter((line) => line.startsWith("token"))).toHaveLength(2);
  });

  it("throws ServiceAccountTokenError naming the error when the credentials are refused, never the secret", async () => {
    const wrong = "mdb_sa_sk_wrong-canary-77aa";
    const error = await client(wrong).GET("/groups").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceAccountTokenError);
    expect(error).toMatchObject({ status: 401, error: "invalid_client" });
    expect((error as Error).message).toContain(CLIENT_ID);
    for (const text of [String(error), (error as Error).stack ?? "", JSON.stringify(error)]) expect(text).not.toContain(wrong);
    expect(seen).toEqual([`token client_credentials ${CLIENT_ID}`]);
  });

  it("refuses an empty client id or secret, naming the option", () => {
    expect(() => createCloudManagerClient({ serviceAccount: { clientId: "", clientSecret: "s" } })).toThrow('option "serviceAccount.clientId"');
    expect(() => createCloudManagerClient({ serviceAccount: { clientId: "i", clientSecret: "" } })).toThrow('option "serviceAccount.clientSecret"');
  });
});

describe("serviceAccountFetch", () => {
  it("renews the token shortly before it expires, by the clock", async () => {
    let clock = 0;
    expiresIn = 600; // renewed 60 s before the end
    const send = serviceAccountFetch({ clientId: CLIENT_ID, clientSecret: SECRET, tokenUrl: `${origin}/api/oauth/token`, fetch: (r) => fetch(r), now: () => clock });
    await send(new Request(`${origin}/api/public/v1.0/groups`));
    clock = 539_000;
    await send(new Request(`${origin}/api/public/v1.0/groups`));
    clock = 541_000;
    await send(new Request(`${origin}/api/public/v1.0/groups`));
    expect(seen.map((line) => line.split(" ").at(-1))).toEqual([CLIENT_ID, "token-1", "token-1", CLIENT_ID, "token-2"]);
  });
});
