/**
 * A digest-checking front for a Prism mock. Prism's own `http digest` check only looks at the
 * header's shape and rejects real RFC 7616 headers, so for an API secured by HTTP Digest the mock
 * is two servers: this front on the API's port, which challenges (`401` + `WWW-Authenticate:
 * Digest`, SHA-256 and MD5) and checks every answer against the mock's keys, and Prism behind it
 * on a private port, serving the contract with its security requirement removed.
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

const REALM = "MMS Public API";
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

  const server = createServer((request, response) => {
    const verdict = check(request);
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
