/**
 * The Cloud Manager mock's HTTP Digest (src/mock/digest.ts) against what RFC 7616 asks of a server:
 * a replayed answer, a reused nonce count or one far behind, and an answer without `qop` are refused;
 * nonces expire into `stale=true`; memory stays bounded. And a mock answers a client that
 * half-closes its socket after sending the request.
 */
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, startMock } from "../../scripts/prism.ts";
import { authorizationHeader, chooseChallenge, parseDigestChallenges, type DigestChallenge } from "../../src/runtime/digest.ts";
import { createDigestVerifier, NC_WINDOW } from "../../src/mock/digest.ts";

const credentials = { username: "pub", password: "priv" };
const URI = "/api/public/v1.0/groups";

function setup(options: { nonceLifetimeMs?: number; maxNonces?: number } = {}) {
  let clock = 1_000_000;
  const verifier = createDigestVerifier({ realm: "MMS Public API", credentials, now: () => clock, ...options });
  const challenge = (): DigestChallenge => chooseChallenge(parseDigestChallenges(verifier.challenge().join(", ")))!;
  const answer = (offered: DigestChallenge, nc: number, extra: Partial<{ password: string; uri: string }> = {}) =>
    authorizationHeader({ challenge: offered, username: "pub", password: extra.password ?? "priv", method: "GET", uri: extra.uri ?? URI, nc, cnonce: "0a4f113b" });
  const verify = (authorization: string, uri = URI) => verifier.verify({ method: "GET", url: uri, authorization });
  return { verifier, challenge, answer, verify, tick: (ms: number) => (clock += ms) };
}

describe("the mock's digest check", () => {
  it("accepts a correct answer, and the next nc on the same nonce", () => {
    const { challenge, answer, verify } = setup();
    const offered = challenge();
    expect(verify(answer(offered, 1))).toMatchObject({ ok: true, username: "pub" });
    expect(verify(answer(offered, 2))).toMatchObject({ ok: true });
  });

  it("refuses a replayed header, a reused nc and one far below the highest, but takes an unused one just below", () => {
    const { challenge, answer, verify } = setup();
    const offered = challenge();
    const first = answer(offered, 5);
    expect(verify(first).ok).toBe(true);
    expect(verify(first)).toMatchObject({ ok: false, reason: "replayed" });
    expect(verify(answer(offered, 5))).toMatchObject({ ok: false, reason: "replayed" });
    // Requests in flight at once arrive out of order: an unused nc within the window passes, once.
    expect(verify(answer(offered, 3)).ok).toBe(true);
    expect(verify(answer(offered, 3))).toMatchObject({ ok: false, reason: "replayed" });
    expect(verify(answer(offered, 200)).ok).toBe(true);
    expect(verify(answer(offered, 200 - NC_WINDOW))).toMatchObject({ ok: false, reason: "replayed" });
    expect(verify(answer(offered, 201)).ok).toBe(true);
  });

  it("refuses an answer without qop (an RFC 2069 downgrade) although the hash is right for it", () => {
    const { challenge, answer, verify } = setup();
    const offered = challenge();
    const downgraded = authorizationHeader({ challenge: { ...offered, qop: [] }, username: "pub", password: "priv", method: "GET", uri: URI, nc: 1, cnonce: "x" });
    expect(verify(downgraded)).toMatchObject({ ok: false, reason: "refused" });
    expect(verify(answer(offered, 1)).ok).toBe(true);
  });

  it("refuses a wrong password and an answer for another URI", () => {
    const { challenge, answer, verify } = setup();
    const offered = challenge();
    expect(verify(answer(offered, 1, { password: "guess" }))).toMatchObject({ ok: false, reason: "refused" });
    expect(verify(answer(offered, 2, { uri: "/api/public/v1.0/orgs" }))).toMatchObject({ ok: false, reason: "refused" });
  });

  it("lets a nonce expire: the answer gets a new challenge marked stale=true", () => {
    const { challenge, answer, verify, tick } = setup({ nonceLifetimeMs: 60_000 });
    const offered = challenge();
    tick(61_000);
    const verdict = verify(answer(offered, 1));
    expect(verdict).toMatchObject({ ok: false, reason: "stale" });
    expect(!verdict.ok && verdict.challenge.every((value) => value.includes("stale=true"))).toBe(true);
    expect(!verdict.ok && verdict.challenge[0]).not.toContain(offered.nonce);
  });

  it("keeps at most maxNonces nonces, and treats a forgotten one as stale", () => {
    const { verifier, challenge, answer, verify } = setup({ maxNonces: 100 });
    const first = challenge();
    for (let i = 0; i < 1_000; i++) challenge();
    expect(verifier.size).toBe(100);
    expect(verify(answer(first, 1))).toMatchObject({ ok: false, reason: "stale" });
  });
});

describe("a mock server", () => {
  it("answers a request whose client half-closes the socket after sending it", async () => {
    const mock = await startMock("cvm", { specPath: "generated/cvm/openapi.json", port: await freePort() });
    try {
      const socket = connect(mock.port, "127.0.0.1");
      const answer = await new Promise<string>((resolve, reject) => {
        let text = "";
        socket.on("data", (chunk) => (text += chunk));
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
        socket.end("GET /api/client/vps/list HTTP/1.1\r\nHost: 127.0.0.1\r\nAPI-Public-Token: a\r\nAPI-Private-Token: b\r\n\r\n");
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toContain('"vpses"');
    } finally {
      await mock.stop();
    }
  });
});
