/**
 * A digest-checking front for a Prism mock. Prism's own `http digest` check only looks at the
 * header's shape and rejects real RFC 7616 headers, so for an API secured by HTTP Digest the mock
 * is two servers: this front on the API's port, which challenges (`401` + `WWW-Authenticate:
 * Digest`, SHA-256 and MD5) and checks every answer against the mock's keys, and Prism behind it
 * on a private port, serving the contract with its security requirement removed.
 *
 * The front is also Cloud Manager's service account token endpoint (`POST /api/oauth/token`, with
 * the mock's client id and secret in HTTP Basic, and `/api/oauth/revoke`): a request carrying a
 * bearer token it issued, and not yet expired or revoked, passes without digest.
 */
import { randomBytes } from "node:crypto";
import { createServer, request as forward, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { digestResponse, parseAuthParams, type DigestAlgorithm } from "../src/runtime/digest.ts";

export interface DigestCredentials {
  username: string;
  password: string;
}

/** The keys the Cloud Manager mock accepts unless CLOUDMANAGER_MOCK_PUBLIC_KEY / _PRIVATE_KEY say otherwise. */
export const MOCK_CREDENTIALS: DigestCredentials = {
  username: process.env.CLOUDMANAGER_MOCK_PUBLIC_KEY ?? "pub",
  password: process.env.CLOUDMANAGER_MOCK_PRIVATE_KEY ?? "priv",
};

/** The service account the mock accepts unless CLOUDMANAGER_MOCK_CLIENT_ID / _CLIENT_SECRET say otherwise. */
export const MOCK_SERVICE_ACCOUNT = {
  clientId: process.env.CLOUDMANAGER_MOCK_CLIENT_ID ?? "mdb_sa_id_mock",
  clientSecret: process.env.CLOUDMANAGER_MOCK_CLIENT_SECRET ?? "mdb_sa_sk_mock",
};

const REALM = "MMS Public API";
const TOKEN_LIFETIME_S = 3600;
/** Tokens kept at most; the oldest is forgotten first (a forgotten token is refused, as an expired one). */
const MAX_TOKENS = 10_000;
/** Largest token or revoke request body read. */
const MAX_FORM_BYTES = 16 * 1024;
const ALGORITHMS: DigestAlgorithm[] = ["SHA-256", "MD5"];

export interface DigestFront {
  server: Server;
  close(): Promise<void>;
}

export async function startDigestFront(options: { port: number; host: string; upstreamPort: number; credentials?: DigestCredentials }): Promise<DigestFront> {
  const credentials = options.credentials ?? MOCK_CREDENTIALS;
  const nonces = new Set<string>();
  const issue = () => {
    const nonce = randomBytes(16).toString("base64");
    nonces.add(nonce);
    return nonce;
  };

  const challenge = (response: ServerResponse, stale: boolean) => {
    const nonce = issue();
    const offers = ALGORITHMS.map((algorithm) => `Digest realm="${REALM}", domain="", nonce="${nonce}", algorithm=${algorithm}, qop="auth", stale=${stale}`);
    response.writeHead(401, { "WWW-Authenticate": offers, "Content-Type": "application/json" });
    response.end(JSON.stringify({ detail: "You are not authorized for this resource.", error: 401, errorCode: "USER_UNAUTHORIZED", parameters: [], reason: "Unauthorized" }));
  };

  /** `ok`, or why the request is refused: no/invalid answer, or a nonce this front did not issue. */
  const check = (request: IncomingMessage): "ok" | "refused" | "stale" => {
    const answer = parseAuthParams(request.headers.authorization ?? "").find((entry) => entry.scheme === "digest")?.params;
    if (!answer?.nonce || !answer.response) return "refused";
    if (!nonces.has(answer.nonce)) return "stale";
    const algorithm = ALGORITHMS.find((known) => known.toLowerCase() === (answer.algorithm ?? "MD5").toLowerCase());
    if (!algorithm || answer.username !== credentials.username || answer.uri !== request.url || answer.realm !== REALM) return "refused";
    const qop = answer.qop ? [answer.qop] : [];
    const expected = digestResponse({
      challenge: { realm: REALM, nonce: answer.nonce, algorithm, qop, stale: false, userhash: false },
      username: credentials.username,
      password: credentials.password,
      method: request.method ?? "GET",
      uri: request.url ?? "",
      nc: Number.parseInt(answer.nc ?? "0", 16),
      cnonce: answer.cnonce ?? "",
    });
    return expected === answer.response ? "ok" : "refused";
  };

  const tokens = new Map<string, number>(); // token → expiry (ms since the epoch)
  const bearer = (request: IncomingMessage) => /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
  const tokenValid = (token: string) => (tokens.get(token) ?? 0) > Date.now();

  /** `POST /api/oauth/token` and `/api/oauth/revoke`, as the service account endpoints answer them. */
  const serveOAuth = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    const json = (status: number, body?: object) => {
      response.writeHead(status, body ? { "Content-Type": "application/json" } : {});
      response.end(body ? JSON.stringify(body) : undefined);
    };
    const form = await readForm(request);
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const [id = "", secret = ""] = Buffer.from(basic ?? "", "base64").toString().split(":").map((part) => decodeURIComponent(part.replace(/\+/g, " ")));
    if (request.method !== "POST") return json(405, { error: "invalid_request", error_description: "Use POST." });
    if (id !== MOCK_SERVICE_ACCOUNT.clientId || secret !== MOCK_SERVICE_ACCOUNT.clientSecret) {
      return json(401, { error: "invalid_client", error_description: "Invalid client credentials." });
    }
    if (path === "/api/oauth/revoke") {
      tokens.delete(form?.get("token") ?? "");
      return json(200);
    }
    if (form?.get("grant_type") !== "client_credentials") return json(400, { error: "unsupported_grant_type", error_description: "Only client_credentials is supported." });
    const token = randomBytes(24).toString("base64url");
    if (tokens.size >= MAX_TOKENS) tokens.delete(tokens.keys().next().value!);
    tokens.set(token, Date.now() + TOKEN_LIFETIME_S * 1000);
    return json(200, { access_token: token, expires_in: TOKEN_LIFETIME_S, token_type: "Bearer" });
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0]!;
    if (path === "/api/oauth/token" || path === "/api/oauth/revoke") {
      serveOAuth(request, response, path).catch(() => response.destroy());
      return;
    }
    const token = bearer(request);
    const verdict = token !== undefined ? (tokenValid(token) ? "ok" : "refused") : check(request);
    if (verdict !== "ok") {
      request.resume();
      challenge(response, verdict === "stale");
      return;
    }
    const { authorization: _secret, ...headers } = request.headers;
    const upstream = forward({ host: "127.0.0.1", port: options.upstreamPort, method: request.method, path: request.url, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      pipeline(answer, response).catch(() => response.destroy());
    });
    upstream.on("error", () => {
      if (!response.headersSent) response.writeHead(502).end();
    });
    pipeline(request, upstream).catch(() => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A form body (`application/x-www-form-urlencoded`), or undefined when it is larger than the cap. */
async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > MAX_FORM_BYTES) return undefined;
  }
  return new URLSearchParams(text);
}
