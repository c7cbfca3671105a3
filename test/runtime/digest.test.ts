/**
 * HTTP Digest (RFC 7616) against the RFC's own examples, and the challenge–response against a
 * real loopback server that challenges, checks every answer, and rotates nonces.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizationHeader, chooseChallenge, digestFetch, digestResponse, parseDigestChallenges } from "../../src/runtime/digest.ts";

// RFC 7616 section 3.9.1: the same request answered with SHA-256 and with MD5.
const RFC7616_CHALLENGES = [
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
].join(", ");
const RFC7616_REQUEST = { username: "Mufasa", password: "Circle of Life", method: "GET", uri: "/dir/index.html", nc: 1, cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ" };

describe("RFC 7616 examples", () => {
  const [sha256, md5] = parseDigestChallenges(RFC7616_CHALLENGES);

  it("parses both challenges of the example, quoted and unquoted parameters alike", () => {
    expect(sha256).toEqual({
      realm: "http-auth@example.org",
      nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
      algorithm: "SHA-256",
      qop: ["auth", "auth-int"],
      opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
      stale: false,
      userhash: false,
    });
    expect(md5!.algorithm).toBe("MD5");
  });

  it("computes the SHA-256 response of the example", () => {
    expect(digestResponse({ challenge: sha256!, ...RFC7616_REQUEST })).toBe("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  });

  it("computes the MD5 response of the example", () => {
    expect(digestResponse({ challenge: md5!, ...RFC7616_REQUEST })).toBe("8ca523f5e9506fed4657c9700eebdbec");
  });

  it("computes RFC 2617's MD5 example too", () => {
    const [challenge] = parseDigestChallenges('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
    const response = digestResponse({ challenge: challenge!, username: "Mufasa", password: "Circle Of Life", method: "GET", uri: "/dir/index.html", nc: 1, cnonce: "0a4f113b" });
    expect(response).toBe("6629fae49393a05397450978507c4ef1");
  });

  it("prefers SHA-256 when a server offers SHA-256 and MD5", () => {
    expect(chooseChallenge(parseDigestChallenges(RFC7616_CHALLENGES))!.algorithm).toBe("SHA-256");
  });

  it("writes the Authorization header the example shows", () => {
    const header = authorizationHeader({ challenge: sha256!, ...RFC7616_REQUEST });
    expect(header).toBe(
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
        'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
  });

  it("reads the challenge Cloud Manager documents (unquoted algorithm, stale=false)", () => {
    const [challenge] = parseDigestChallenges('Digest realm="MMS Public API", domain="", nonce="abc+/=", algorithm=MD5, qop="auth", stale=false');
    expect(challenge).toMatchObject({ realm: "MMS Public API", nonce: "abc+/=", algorithm: "MD5", qop: ["auth"], stale: false });
  });

  it("ignores other schemes offered beside Digest", () => {
    expect(parseDigestChallenges('Basic realm="x", Bearer realm="y", Digest realm="z", nonce="n"')).toHaveLength(1);
  });
});

/**
 * A server that really checks digest answers (algorithm chosen per test), counts nc, can mark
 * nonces stale, and records what it saw.
 */
const USER = "pub-key";
const PASS = "priv-key-canary";
let algorithm: "SHA-256" | "MD5" = "SHA-256";
let nonce = randomBytes(8).toString("hex");
const staleNonces = new Set<string>();
const seen: { authorized: boolean; nc?: string; body?: string; cnonce?: string }[] = [];
let server: Server;
let base: string;

function check(request: IncomingMessage): { ok: boolean; nc?: string; cnonce?: string } {
  const header = request.headers.authorization;
  if (!header?.startsWith("Digest ")) return { ok: false };
  const params = Object.fromEntries([...header.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)].map((m) => [m[1], m[2] ?? m[3]]));
  const h = (text: string) => createHash(algorithm === "MD5" ? "md5" : "sha256").update(text).digest("hex");
  const expected = h(`${h(`${USER}:${params.realm}:${PASS}`)}:${params.nonce}:${params.nc}:${params.cnonce}:auth:${h(`${request.method}:${params.uri}`)}`);
  const ok = params.username === USER && params.nonce === nonce && params.algorithm === algorithm && params.uri === request.url && params.response === expected;
  return { ok, nc: params.nc, cnonce: params.cnonce };
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const { ok, nc, cnonce } = check(request);
    seen.push({ authorized: ok, ...(nc ? { nc } : {}), ...(body ? { body } : {}), ...(cnonce ? { cnonce } : {}) });
    const sentNonce = /nonce="([^"]*)"/.exec(request.headers.authorization ?? "")?.[1];
    if (!ok) {
      const stale = sentNonce !== undefined && staleNonces.has(sentNonce);
      response.writeHead(401, {
        "WWW-Authenticate": `Digest realm="MMS Public API", domain="", nonce="${nonce}", algorithm=${algorithm}, qop="auth", stale=${stale}`,
        "Content-Type": "application/json",
      });
      response.end(JSON.stringify({ error: 401, reason: "Unauthorized" }));
      return;
    }
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: true, echo: body }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("digestFetch against a server that checks every answer", () => {
  it.each(["SHA-256", "MD5"] as const)("answers the %s challenge and reuses it with a growing nc", async (chosen) => {
    algorithm = chosen;
    nonce = randomBytes(8).toString("hex");
    seen.length = 0;
    const fetchDigest = digestFetch({ username: USER, password: PASS });
    const first = await fetchDigest(new Request(`${base}/api/public/v1.0/groups?pageNum=1`));
    const second = await fetchDigest(new Request(`${base}/api/public/v1.0/groups/5e2211c17a3e5a48f5497de3`));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(seen.map((s) => [s.authorized, s.nc])).toEqual([[false, undefined], [true, "00000001"], [true, "00000002"]]);
  });

  it("answers right for every method and URI, again and again, past the HA2 values it keeps (256)", async () => {
    algorithm = "SHA-256";
    nonce = randomBytes(8).toString("hex");
    seen.length = 0;
    const fetchDigest = digestFetch({ username: USER, password: PASS });
    const targets = Array.from({ length: 300 }, (_, index) => `/api/public/v1.0/groups/${index}`);
    for (const round of [1, 2]) {
      for (const path of targets) {
        const method = round === 1 ? "GET" : "DELETE";
        expect((await fetchDigest(new Request(`${base}${path}`, { method }))).status, `${method} ${path}`).toBe(200);
        expect((await fetchDigest(new Request(`${base}${path}`, { method }))).status, `${method} ${path} again`).toBe(200);
      }
    }
    expect(seen.filter((s) => !s.authorized)).toHaveLength(1); // the first request's challenge only
  });

  it("sends a POST body again after the challenge", async () => {
    algorithm = "SHA-256";
    nonce = randomBytes(8).toString("hex");
    seen.length = 0;
    const fetchDigest = digestFetch({ username: USER, password: PASS });
    const response = await fetchDigest(new Request(`${base}/groups`, { method: "POST", body: '{"name":"p"}', headers: { "Content-Type": "application/json" } }));
    expect(await response.json()).toEqual({ ok: true, echo: '{"name":"p"}' });
    expect(seen.map((s) => s.body)).toEqual(['{"name":"p"}', '{"name":"p"}']);
  });

  it("answers a stale=true challenge with the new nonce, once", async () => {
    algorithm = "SHA-256";
    nonce = randomBytes(8).toString("hex");
    const fetchDigest = digestFetch({ username: USER, password: PASS });
    await fetchDigest(new Request(`${base}/groups`));
    staleNonces.add(nonce);
    nonce = randomBytes(8).toString("hex");
    seen.length = 0;
    const response = await fetchDigest(new Request(`${base}/groups`));
    expect(response.status).toBe(200);
    expect(seen.map((s) => [s.authorized, s.nc])).toEqual([[false, "00000002"], [true, "00000001"]]);
    // One client nonce for each challenge: the same for the old nonce's answers, a new one for the new nonce.
    expect(seen[1]!.cnonce).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]!.cnonce).not.toBe(seen[0]!.cnonce);
  });

  it("returns the 401 for wrong keys instead of retrying forever", async () => {
    algorithm = "MD5";
    nonce = randomBytes(8).toString("hex");
    seen.length = 0;
    const fetchDigest = digestFetch({ username: USER, password: "wrong" });
    const response = await fetchDigest(new Request(`${base}/groups`));
    expect(response.status).toBe(401);
    expect(seen).toHaveLength(2);
    const again = await fetchDigest(new Request(`${base}/groups`));
    expect(again.status).toBe(401);
    expect(seen).toHaveLength(3);
  });
});
