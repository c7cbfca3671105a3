/**
 * The server side of HTTP Digest (RFC 7616) for the Cloud Manager mock: it issues challenges and
 * checks answers the way a careful server does, so that a client that gets through it would get
 * through Cloud Manager.
 *
 * - A nonce is issued by this verifier, lives `nonceLifetimeMs`, and is then answered with a new
 *   challenge marked `stale=true` (the client repeats the request with the new nonce).
 * - `qop=auth` is offered, so an answer without it (RFC 2069 style) is refused: no downgrade.
 * - For each nonce, each `nc` is accepted once: a replayed header (same nonce and nc) or a reused
 *   nc is refused, and so is one more than NC_WINDOW below the highest seen. Within that window an
 *   unused smaller nc passes: a client's requests in flight at once may arrive out of order (the
 *   anti-replay window of IPsec, RFC 4303 §3.4.3, for the same reason).
 * - Memory is bounded: at most `maxNonces` nonces are remembered; the oldest is forgotten first
 *   (a forgotten nonce is answered as stale, never accepted).
 *
 * Client-side hashing is shared with src/runtime/digest.ts; what is written here is the bookkeeping
 * no library offers as a function of a Request (digest server packages bind to an HTTP framework).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { digestResponse, parseAuthParams, type DigestAlgorithm } from "../runtime/digest.js";

export interface DigestCredentials {
  username: string;
  password: string;
}

export interface DigestVerifierOptions {
  realm: string;
  credentials: DigestCredentials;
  /** Offered in this order; default SHA-256 then MD5. */
  algorithms?: DigestAlgorithm[];
  nonceLifetimeMs?: number;
  maxNonces?: number;
  now?: () => number;
}

export type DigestVerdict =
  | { ok: true; username: string }
  | { ok: false; reason: "missing" | "stale" | "refused" | "replayed"; challenge: string[] };

/** How far below the highest nc seen an unused nc is still accepted. */
export const NC_WINDOW = 64;

interface NonceState {
  issuedAt: number;
  /** The highest nc accepted so far (0: none yet). */
  lastNc: number;
  /** The nc values accepted within the window below `lastNc`. */
  used: Set<number>;
}

export interface DigestVerifier {
  /** Checks the request's `Authorization` header; on failure, the `WWW-Authenticate` values to send with 401. */
  verify(request: { method: string; url: string; authorization: string | undefined }): DigestVerdict;
  /** Fresh challenges (one per algorithm), for a 401 without an answer to judge. */
  challenge(stale?: boolean): string[];
  /** How many nonces are remembered (for tests of the bound). */
  readonly size: number;
}

export function createDigestVerifier(options: DigestVerifierOptions): DigestVerifier {
  const algorithms = options.algorithms ?? ["SHA-256", "MD5"];
  const lifetime = options.nonceLifetimeMs ?? 5 * 60_000;
  const maxNonces = options.maxNonces ?? 10_000;
  const now = options.now ?? Date.now;
  // Insertion order is issue order, so the first key is always the oldest nonce.
  const nonces = new Map<string, NonceState>();

  const challenge = (stale = false) => {
    const nonce = randomBytes(18).toString("base64url");
    if (nonces.size >= maxNonces) nonces.delete(nonces.keys().next().value!);
    nonces.set(nonce, { issuedAt: now(), lastNc: 0, used: new Set() });
    return algorithms.map((algorithm) => `Digest realm="${options.realm}", domain="", nonce="${nonce}", algorithm=${algorithm}, qop="auth", stale=${stale}`);
  };

  const refuse = (reason: "missing" | "stale" | "refused" | "replayed", stale = false): DigestVerdict => ({ ok: false, reason, challenge: challenge(stale) });

  const verify: DigestVerifier["verify"] = ({ method, url, authorization }) => {
    const answer = parseAuthParams(authorization ?? "").find((entry) => entry.scheme === "digest")?.params;
    if (!answer?.nonce || !answer.response) return refuse("missing");
    const state = nonces.get(answer.nonce);
    if (!state) return refuse("stale", true);
    if (now() - state.issuedAt > lifetime) {
      nonces.delete(answer.nonce);
      return refuse("stale", true);
    }
    const algorithm = algorithms.find((known) => known.toLowerCase() === (answer.algorithm ?? "MD5").toLowerCase());
    if (!algorithm || answer.username !== options.credentials.username || answer.uri !== url || answer.realm !== options.realm) return refuse("refused");
    // qop=auth was offered: an answer without it, or with another qop, is a downgrade.
    if (answer.qop !== "auth" || !answer.cnonce || !/^[0-9a-f]{8}$/i.test(answer.nc ?? "")) return refuse("refused");
    const nc = Number.parseInt(answer.nc!, 16);
    const expected = digestResponse({
      challenge: { realm: options.realm, nonce: answer.nonce, algorithm, qop: ["auth"], stale: false, userhash: false },
      username: options.credentials.username,
      password: options.credentials.password,
      method,
      uri: url,
      nc,
      cnonce: answer.cnonce,
    });
    if (!sameText(expected, answer.response)) return refuse("refused");
    if (nc < 1 || nc <= state.lastNc - NC_WINDOW || state.used.has(nc)) return refuse("replayed");
    state.used.add(nc);
    if (nc > state.lastNc) {
      state.lastNc = nc;
      for (const old of state.used) if (old <= nc - NC_WINDOW) state.used.delete(old);
    }
    return { ok: true, username: answer.username };
  };

  return {
    verify,
    challenge,
    get size() {
      return nonces.size;
    },
  };
}

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
