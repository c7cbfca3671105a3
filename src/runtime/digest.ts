/**
 * HTTP Digest access authentication (RFC 7616) as a `fetch` for openapi-fetch clients.
 *
 * Written here rather than taken from a library: the digest packages on npm either wrap their own
 * HTTP client (not a `Request`-based fetch that middleware sits above), or lack SHA-256, `stale`
 * handling or nonce counting. This module does exactly RFC 7616's `qop=auth` with MD5 and SHA-256
 * (and their `-sess` variants), counts nonces, reuses a challenge across requests, and answers a
 * `stale=true` challenge once. The RFC's own examples are its tests (test/runtime/digest.test.ts).
 */
import { createHash, randomBytes } from "node:crypto";

export type DigestAlgorithm = "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess";

export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** Quality-of-protection options offered; only `auth` is used. Empty for RFC 2069 servers. */
  qop: string[];
  opaque?: string;
  stale: boolean;
  /** Whether the server expects the user name hashed (RFC 7616 `userhash`); not supported. */
  userhash: boolean;
}

const HASHES: Record<DigestAlgorithm, string> = { MD5: "md5", "MD5-sess": "md5", "SHA-256": "sha256", "SHA-256-sess": "sha256" };
// Strongest first, when a server offers several challenges.
const PREFERENCE: DigestAlgorithm[] = ["SHA-256", "SHA-256-sess", "MD5", "MD5-sess"];

export interface AuthParams {
  /** Authentication scheme, lower-cased (`digest`, `basic`, ...). */
  scheme: string;
  /** Its auth-params, names lower-cased, quoted values unescaped. */
  params: Record<string, string>;
}

/**
 * Parses `WWW-Authenticate` or `Authorization` values (RFC 7235): one or more schemes separated by
 * commas, each followed by auth-params written `name=token` or `name="quoted string"` (several
 * headers arrive joined by ", ").
 */
export function parseAuthParams(header: string): AuthParams[] {
  const found: AuthParams[] = [];
  let rest = header;
  while (rest.trim() !== "") {
    rest = rest.replace(/^[\s,]+/, "");
    const param = /^([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/.exec(rest);
    if (param) {
      const [whole, name, quoted, token] = param;
      const current = found.at(-1);
      if (current) current.params[name!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : token!;
      rest = rest.slice(whole.length);
      continue;
    }
    const scheme = /^([\w-]+)/.exec(rest);
    if (!scheme) break; // not RFC 7235 syntax: keep what was understood
    found.push({ scheme: scheme[1]!.toLowerCase(), params: {} });
    rest = rest.slice(scheme[0].length);
  }
  return found;
}

/** The Digest challenges of a `WWW-Authenticate` value that name a known algorithm. */
export function parseDigestChallenges(header: string): DigestChallenge[] {
  const challenges = parseAuthParams(header).filter((entry) => entry.scheme === "digest").map((entry) => entry.params);
  return challenges.flatMap((params) => {
    const algorithm = PREFERENCE.find((known) => known.toLowerCase() === (params.algorithm ?? "MD5").toLowerCase());
    if (!algorithm || params.realm === undefined || params.nonce === undefined) return [];
    return [{
      realm: params.realm,
      nonce: params.nonce,
      algorithm,
      qop: (params.qop ?? "").split(",").map((option) => option.trim().toLowerCase()).filter(Boolean),
      ...(params.opaque === undefined ? {} : { opaque: params.opaque }),
      stale: (params.stale ?? "").toLowerCase() === "true",
      userhash: (params.userhash ?? "").toLowerCase() === "true",
    }];
  });
}

/** Picks the strongest challenge this module can answer. */
export function chooseChallenge(challenges: DigestChallenge[]): DigestChallenge | undefined {
  const usable = challenges.filter((c) => !c.userhash && (c.qop.length === 0 || c.qop.includes("auth")));
  return usable.sort((a, b) => PREFERENCE.indexOf(a.algorithm) - PREFERENCE.indexOf(b.algorithm))[0];
}

export interface DigestInput {
  challenge: DigestChallenge;
  username: string;
  password: string;
  method: string;
  /** Request target: path and query, as sent. */
  uri: string;
  /** Nonce count, from 1 for each new nonce. */
  nc: number;
  cnonce: string;
}

const hash = (algorithm: DigestAlgorithm, text: string) => createHash(HASHES[algorithm]).update(text, "utf8").digest("hex");

/** The `response` value of RFC 7616 section 3.4.1. */
export function digestResponse({ challenge, username, password, method, uri, nc, cnonce }: DigestInput): string {
  const { algorithm, realm, nonce } = challenge;
  const ncValue = formatNc(nc);
  let ha1 = hash(algorithm, `${username}:${realm}:${password}`);
  if (algorithm.endsWith("-sess")) ha1 = hash(algorithm, `${ha1}:${nonce}:${cnonce}`);
  const ha2 = hash(algorithm, `${method}:${uri}`);
  return challenge.qop.length === 0
    ? hash(algorithm, `${ha1}:${nonce}:${ha2}`)
    : hash(algorithm, `${ha1}:${nonce}:${ncValue}:${cnonce}:auth:${ha2}`);
}

const formatNc = (nc: number) => nc.toString(16).padStart(8, "0");
const quote = (value: string) => `"${value.replace(/["\\]/g, "\\$&")}"`;

/** The `Authorization` header value answering a challenge. */
export function authorizationHeader(input: DigestInput): string {
  const { challenge } = input;
  const parts = [
    `username=${quote(input.username)}`,
    `realm=${quote(challenge.realm)}`,
    `uri=${quote(input.uri)}`,
    `algorithm=${challenge.algorithm}`,
    `nonce=${quote(challenge.nonce)}`,
  ];
  if (challenge.qop.length > 0) parts.push(`nc=${formatNc(input.nc)}`, `cnonce=${quote(input.cnonce)}`, "qop=auth");
  parts.push(`response=${quote(digestResponse(input))}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(", ")}`;
}

export interface DigestFetchOptions {
  username: string;
  password: string;
  fetch?: (request: Request) => Promise<Response>;
  /** Client nonce source (tests pin it); defaults to 16 random bytes, hex. */
  cnonce?: () => string;
}

/**
 * A fetch that authenticates with HTTP Digest: it answers the server's 401 challenge, then keeps
 * using that challenge (counting `nc` up) until the server asks for a new one. A `stale=true`
 * challenge is answered with the new nonce; a second plain 401 is returned as it is (wrong keys).
 * Each attempt sends a clone of the caller's request, so bodies survive the challenge round trip.
 */
export function digestFetch(options: DigestFetchOptions): (request: Request) => Promise<Response> {
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const newCnonce = options.cnonce ?? (() => randomBytes(16).toString("hex"));
  let challenge: DigestChallenge | undefined;
  let nc = 0;

  /** Sends a clone of the request, answering the current challenge if there is one. */
  const attempt = async (request: Request) => {
    const copy = request.clone();
    const answered = challenge;
    if (answered) {
      const url = new URL(copy.url);
      nc += 1;
      const input = { challenge: answered, username: options.username, password: options.password, method: copy.method, uri: url.pathname + url.search, nc, cnonce: newCnonce() };
      copy.headers.set("Authorization", authorizationHeader(input));
    }
    return { response: await send(copy), nonce: answered?.nonce };
  };

  return async (request) => {
    let { response, nonce } = await attempt(request);
    for (let round = 0; round < 2 && response.status === 401; round++) {
      const offered = chooseChallenge(parseDigestChallenges(response.headers.get("WWW-Authenticate") ?? ""));
      // The server refused the very nonce we answered, and not because it expired: wrong keys.
      const refused = offered === undefined || (nonce === offered.nonce && !offered.stale);
      if (refused) return response;
      await response.body?.cancel();
      challenge = offered;
      nc = 0;
      ({ response, nonce } = await attempt(request));
    }
    return response;
  };
}
