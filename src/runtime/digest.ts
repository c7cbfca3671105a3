/**
 * HTTP Digest access authentication (RFC 7616) as a `fetch` for openapi-fetch clients.
 *
 * Written here rather than taken from a library: the digest packages on npm either wrap their own
 * HTTP client (not a `Request`-based fetch that middleware sits above), or lack SHA-256, `stale`
 * handling or nonce counting. This module does exactly RFC 7616's `qop=auth` with MD5 and SHA-256
 * (and their `-sess` variants), counts nonces, reuses a challenge across requests, and answers a
 * `stale=true` challenge once. The RFC's own examples are its tests (test/runtime/digest.test.ts).
 */
import { hash as oneShotHash, randomUUID } from "node:crypto";

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

/** One request under a challenge: what changes from one answer to the next. */
export interface DigestRequest {
  method: string;
  /** Request target: path and query, as sent. */
  uri: string;
  /** Nonce count, from 1 for each new nonce. */
  nc: number;
  cnonce: string;
}

export interface DigestInput extends DigestRequest {
  challenge: DigestChallenge;
  username: string;
  password: string;
}

/** The most request targets (method and URI) whose HA2 one challenge keeps. */
const TARGET_CACHE_SIZE = 256;

// crypto.hash, one call rather than a Hash object's three: a third of the cost, on every request.
const hash = (algorithm: DigestAlgorithm, text: string) => oneShotHash(HASHES[algorithm], text, "hex");

/** What an answer holds for one request target: its HA2, and the header up to the nonce count. */
interface Target {
  ha2: string;
  start: string;
}

/**
 * The answers to one challenge with one client nonce, request after request. All that does not
 * change from one request to the next is computed once: HA1 (its `-sess` form too, the cnonce being
 * fixed), the header's fixed parts, the text hashed around the count; and per method and URI (a
 * client asks for the same few again and again: a poll, a page), HA2 and the header up to `nc`.
 * A request then costs one hash and a few concatenations: `response(method, uri, nc)` is the
 * `response` value of RFC 7616 section 3.4.1, `header(...)` the whole `Authorization` value
 * (username, realm, uri, algorithm, nonce, [nc, cnonce, qop,] response[, opaque]).
 */
function answersTo(challenge: DigestChallenge, username: string, password: string, cnonce: string) {
  const { algorithm, realm, nonce, opaque } = challenge;
  const counted = challenge.qop.length > 0; // qop=auth; an RFC 2069 server offers none
  const ha1 = hash(algorithm, `${username}:${realm}:${password}`);
  const sessionHa1 = algorithm.endsWith("-sess") ? hash(algorithm, `${ha1}:${nonce}:${cnonce}`) : ha1;
  // response = H(sessionHa1:nonce:nc:cnonce:auth:HA2), or H(sessionHa1:nonce:HA2) without qop.
  const beforeCount = `${sessionHa1}:${nonce}:`;
  const afterCount = `:${cnonce}:auth:`;
  const head = `Digest username=${quote(username)}, realm=${quote(realm)}, uri=`;
  const middle = `, algorithm=${algorithm}, nonce=${quote(nonce)}${counted ? ", nc=" : ""}`;
  const afterCountInHeader = counted ? `, cnonce=${quote(cnonce)}, qop=auth, response="` : `, response="`;
  const tail = opaque === undefined ? '"' : `", opaque=${quote(opaque)}`;

  const targets = new Map<string, Target>();
  const targetOf = (method: string, uri: string): Target => {
    const key = `${method}:${uri}`; // A2 itself
    let target = targets.get(key);
    if (target === undefined) {
      if (targets.size >= TARGET_CACHE_SIZE) targets.clear();
      target = { ha2: hash(algorithm, key), start: `${head}${quote(uri)}${middle}` };
      targets.set(key, target);
    }
    return target;
  };
  const respond = (target: Target, count: string) => hash(algorithm, counted ? beforeCount + count + afterCount + target.ha2 : beforeCount + target.ha2);

  return {
    response: (method: string, uri: string, nc: number) => respond(targetOf(method, uri), formatNc(nc)),
    header: (method: string, uri: string, nc: number) => {
      const target = targetOf(method, uri);
      const count = counted ? formatNc(nc) : "";
      return target.start + count + afterCountInHeader + respond(target, count) + tail;
    },
  };
}

/** The `response` value of RFC 7616 section 3.4.1. */
export function digestResponse(input: DigestInput): string {
  return answersTo(input.challenge, input.username, input.password, input.cnonce).response(input.method, input.uri, input.nc);
}

const formatNc = (nc: number) => nc.toString(16).padStart(8, "0");
const quote = (value: string) => `"${value.includes('"') || value.includes("\\") ? value.replace(/["\\]/g, "\\$&") : value}"`;

/** The `Authorization` header value answering a challenge. */
export function authorizationHeader(input: DigestInput): string {
  return answersTo(input.challenge, input.username, input.password, input.cnonce).header(input.method, input.uri, input.nc);
}

export interface DigestCredentials {
  username: string;
  password: string;
  /** Client nonce source, called once for each challenge (tests pin it); defaults to a random UUID. */
  cnonce?: () => string;
}

export interface DigestFetchOptions extends DigestCredentials {
  fetch?: (request: Request) => Promise<Response>;
}

type Fetch = (request: Request) => Promise<Response>;
/** A fetch that is also handed what to send with: the transport's attempt signal (or nothing, alone). */
type Send<Signal> = (request: Request, signal: Signal) => Promise<Response>;
/** An authentication layer: `send` carries `request`, and the challenge round trip, with `signal`. */
export type DigestLayer = <Signal extends AbortSignal | undefined>(request: Request, send: Send<Signal>, signal: Signal) => Promise<Response>;

/**
 * HTTP Digest as an authentication layer that is handed the `send` of each call (the transport's,
 * bound to that call's attempt): it answers the server's 401 challenge, then keeps using that
 * challenge (counting `nc` up) until the server asks for a new one. A `stale=true` challenge is
 * answered with the new nonce; a second plain 401 is returned as it is (wrong keys).
 *
 * The client nonce is drawn once for each challenge, not for each request: what it is for (RFC
 * 7616 section 3.4: randomness of the client's own in every answer, against chosen plaintexts) a
 * value the server cannot know when it picks its nonce gives, and `nc`, counted up, makes each
 * answer to that nonce unique. Drawing one per request cost a loopback call some 1–4 µs.
 *
 * `send` must have copied the request by the time it returns its promise, as fetch does: the
 * answer is set on the caller's request for the length of that call only (see sendAuthorized).
 * A request with a body is sent as a clone each time, so the body survives the challenge round trip.
 */
export function digestAuthentication(options: DigestCredentials): DigestLayer {
  // A random UUID's 122 random bits are the cnonce as they come (an opaque quoted string may hold the dashes).
  const newCnonce = options.cnonce ?? randomUUID;
  let challenge: { nonce: string; answers: ReturnType<typeof answersTo> } | undefined;
  let nc = 0;

  /** Sends the request, answering `answered` (the current challenge) if there is one. */
  const attempt = <Signal>(request: Request, send: Send<Signal>, signal: Signal, answered: typeof challenge) => {
    const sent = request.body === null ? request : request.clone();
    if (!answered) return send(sent, signal);
    nc += 1;
    return sendAuthorized(sent, answered.answers.header(sent.method, requestTarget(sent.url), nc), send, signal);
  };

  return async <Signal>(request: Request, send: Send<Signal>, signal: Signal) => {
    let answered = challenge;
    let response = await attempt(request, send, signal, answered);
    for (let round = 0; round < 2 && response.status === 401; round++) {
      const offered = chooseChallenge(parseDigestChallenges(response.headers.get("WWW-Authenticate") ?? ""));
      // The server refused the very nonce we answered, and not because it expired: wrong keys.
      const refused = offered === undefined || (answered?.nonce === offered.nonce && !offered.stale);
      if (refused) return response;
      await response.body?.cancel();
      challenge = answered = { nonce: offered.nonce, answers: answersTo(offered, options.username, options.password, newCnonce()) };
      nc = 0;
      response = await attempt(request, send, signal, answered);
    }
    return response;
  };
}

/**
 * The request target of an absolute URL as a Request serializes it (path and query, no fragment):
 * what follows the authority. Sliced rather than parsed again with `new URL`, once per request.
 */
function requestTarget(url: string): string {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  if (path === -1) return "/";
  const fragment = url.indexOf("#", path);
  return fragment === -1 ? url.slice(path) : url.slice(path, fragment);
}

/**
 * `send(request)` with `Authorization: value`, the request's own header put back as soon as `send`
 * returns, before anything else can see it. Rather than a clone with the header: a clone costs a
 * third of what a whole loopback request does in Node 20.
 */
function sendAuthorized<Signal>(request: Request, value: string, send: Send<Signal>, signal: Signal): Promise<Response> {
  const own = request.headers.get("Authorization");
  request.headers.set("Authorization", value);
  try {
    return send(request, signal);
  } finally {
    if (own === null) request.headers.delete("Authorization");
    else request.headers.set("Authorization", own);
  }
}

/**
 * A fetch that authenticates with HTTP Digest (see digestAuthentication) through `options.fetch`,
 * which gets a clone of each request (it may read the request after returning), or the global fetch.
 */
export function digestFetch(options: DigestFetchOptions): Fetch {
  const authenticate = digestAuthentication(options);
  const given = options.fetch;
  const send: Send<undefined> = given === undefined ? (request) => fetch(request) : (request) => given(request.clone());
  return (request) => authenticate(request, send, undefined);
}
