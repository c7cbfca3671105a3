/**
 * A local recording proxy: point a client at it instead of the vendor, and every exchange is
 * forwarded untouched and written to `outDir` as a recording (the format of test/recordings/, plus
 * headers), with every secret redacted before anything reaches the disk.
 *
 *   const proxy = await startRecordingProxy({ api: "cloud66", target: "https://app.cloud66.com", outDir: "rec" });
 *   // client baseUrl: `${proxy.url}/api/3`
 *   await proxy.close();
 *
 * The proxy is written on node:http rather than taken from a library (http-proxy and friends):
 * the package takes no new dependencies, and a recorder needs to hold each body while forwarding
 * its exact bytes, which is about as much code as configuring a library's hooks. node:http rather
 * than fetch because fetch decodes gzip/br answers and normalises headers, so the client would
 * not get the upstream's answer byte for byte.
 *
 * Redaction works in two passes, both in the pure `redact()`:
 *   1. by position: secret headers, query/fragment parameters and JSON fields whose names look
 *      secret (SECRET_NAME) get "[REDACTED]", and each value so removed is remembered;
 *   2. by value: every remembered secret (and its URL-encoded forms, the token inside
 *      "Bearer …", the user and password inside "Basic …", each cookie value) is replaced wherever
 *      else it appears in the recording, because servers echo credentials in places no name
 *      gives away (an error message quoting the key, an echoed `authorization` field, a URL).
 *
 * Bodies are held in memory while they pass (the recording needs them whole): this is for
 * recording API calls, not large downloads.
 */
import { mkdir, readdir } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { join } from "node:path";
import { pipeline } from "node:stream";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { getApi } from "../apis.js";
import { writeFileAtomic } from "../atomic.js";

export interface RecordingProxyOptions {
  /** API id, e.g. "cloud66" (written into each recording's `source`). */
  api: string;
  /** Real base URL, e.g. "https://app.cloud66.com"; its path is prefixed to every request path. */
  target: string;
  /** Folder receiving one JSON file per exchange; created when missing. */
  outDir: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Called with the path of each recording once it is on disk. */
  onRecord?: (file: string) => void;
  /**
   * Called when a recording could not be written (the exchange itself was still forwarded).
   * Default: a one-line message on stderr.
   */
  onError?: (error: Error) => void;
}

export interface RecordingProxy {
  /** `http://<host>:<port>`, without a trailing slash. */
  url: string;
  port: number;
  /** Stops accepting, lets exchanges under way finish, and waits until their recordings are on disk. */
  close(): Promise<void>;
}

/** Header values by lower-case name; a header sent more than once keeps every value. */
export type RecordedHeaders = Record<string, string | string[]>;

/** One exchange as it went over the wire, before redaction. Bodies are the raw bytes. */
export interface CapturedExchange {
  request: { method: string; path: string; headers: RecordedHeaders; body: Uint8Array };
  response: { status: number; headers: RecordedHeaders; body: Uint8Array };
}

export interface Recording {
  request: { method: string; path: string; headers: RecordedHeaders; body?: unknown };
  response: { status: number; headers: RecordedHeaders; body: unknown };
  source: string;
}

export const REDACTED = "[REDACTED]";

/** Names of query parameters, JSON fields and headers whose values are secrets. */
export const SECRET_NAME = /key|token|secret|password|passwd|credential|private/i;

/** Headers that carry credentials whatever their name says. */
const SECRET_HEADERS = new Set([
  "authorization", "proxy-authorization", "cookie", "set-cookie",
  "mc-api-key", "api-public-token", "api-private-token", "x-api-key",
]);

/** Headers whose value is a URL, whose query or fragment may carry a token. */
const URL_HEADERS = new Set(["location", "content-location", "link", "referer"]);

/** RFC 9110 section 7.6.1: meaningful for one connection only, so never forwarded. */
const HOP_BY_HOP = new Set(["connection", "proxy-connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]);

/**
 * Values shorter than this are redacted where they stand but not searched for elsewhere: replacing
 * "en" or "1" everywhere would wreck the recording, and such values are not credentials anyway.
 */
const MIN_SECRET_LENGTH = 6;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  if (SECRET_HEADERS.has(lower)) return true;
  // CORS headers name other headers (`Access-Control-Allow-Headers: MC-Api-Key`) or hold a flag
  // (`…-Allow-Credentials: true`); their names match SECRET_NAME but they never carry a secret.
  return !lower.startsWith("access-control-") && isSecretName(lower);
}

/** Remembers a secret value, and the URL-encoded forms in which it may be echoed. */
function remember(secrets: Set<string>, value: string): void {
  const trimmed = value.trim();
  if (trimmed.length < MIN_SECRET_LENGTH || trimmed === REDACTED) return;
  secrets.add(trimmed);
  const encoded = encodeURIComponent(trimmed);
  secrets.add(encoded);
  secrets.add(encoded.replace(/%20/g, "+"));
}

/** Remembers the parts of a credential header that may turn up on their own elsewhere. */
function rememberHeaderSecret(name: string, value: string, secrets: Set<string>): void {
  remember(secrets, value);
  const lower = name.toLowerCase();
  if (lower === "cookie" || lower === "set-cookie") {
    // `a=1; b=2` (Cookie) or `a=1; Path=/; HttpOnly` (Set-Cookie: only the first pair is a cookie).
    const pairs = lower === "cookie" ? value.split(";") : value.split(";").slice(0, 1);
    for (const pair of pairs) remember(secrets, pair.slice(pair.indexOf("=") + 1));
    return;
  }
  if (lower !== "authorization" && lower !== "proxy-authorization") return;
  const match = /^(\S+)\s+(.+)$/s.exec(value.trim());
  if (!match) return;
  const [, scheme, credentials] = match as unknown as [string, string, string];
  remember(secrets, credentials);
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(credentials, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    remember(secrets, decoded);
    if (colon >= 0) {
      remember(secrets, decoded.slice(0, colon));
      remember(secrets, decoded.slice(colon + 1));
    }
  } else if (/^digest$/i.test(scheme)) {
    // The digest username is the public API key for Cloud Manager.
    const username = /(?:^|[\s,])username="([^"]*)"/i.exec(credentials)?.[1];
    if (username) remember(secrets, username);
  }
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/**
 * Redacts secret-named parameters in every query string or fragment in `text` (`?a=1&api_key=x`
 * becomes `?a=1&api_key=[REDACTED]`), leaving everything else byte for byte as it was.
 */
export function redactUrlParams(text: string, secrets: Set<string> = new Set()): string {
  return text.replace(/[?#][^\s"'<>#]*/g, (tail) =>
    tail[0] +
    tail
      .slice(1)
      .split("&")
      .map((pair) => {
        const equals = pair.indexOf("=");
        if (equals < 0 || !isSecretName(decodeComponent(pair.slice(0, equals)))) return pair;
        const value = pair.slice(equals + 1);
        remember(secrets, value);
        remember(secrets, decodeComponent(value));
        return `${pair.slice(0, equals)}=${REDACTED}`;
      })
      .join("&"),
  );
}

/**
 * Replaces the value of every field whose name looks secret, at any depth, keeping the name.
 * Below a secret-named field every string and number is redacted but the shape is kept (an
 * `apiKeys` array stays an array of objects), so that the recording still exercises the
 * contract's schemas. `null` and booleans are kept: they carry no secret (`hasPassword: true`).
 * Strings elsewhere have their URL parameters redacted (a `next` link carrying `?token=`).
 */
export function redactJson(value: unknown, secrets: Set<string> = new Set(), underSecret = false): unknown {
  if (Array.isArray(value)) return value.map((item) => redactJson(item, secrets, underSecret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([name, child]) => [name, redactJson(child, secrets, underSecret || isSecretName(name))]),
    );
  }
  if (underSecret && (typeof value === "string" || typeof value === "number")) {
    remember(secrets, String(value));
    return REDACTED;
  }
  return typeof value === "string" ? redactUrlParams(value, secrets) : value;
}

/** Replaces every occurrence of every secret in every string (values and names) of `value`. */
export function scrubSecrets<T>(value: T, secrets: Iterable<string>): T {
  // Longest first, so that "Bearer abc…" goes as a whole rather than leaving "Bearer ".
  const ordered = [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return value;
  const scrubString = (text: string) => ordered.reduce((result, secret) => result.split(secret).join(REDACTED), text);
  const walk = (item: unknown): unknown => {
    if (typeof item === "string") return scrubString(item);
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === "object") {
      return Object.fromEntries(Object.entries(item).map(([name, child]) => [scrubString(name), walk(child)]));
    }
    return item;
  };
  return walk(value) as T;
}

function redactHeaders(headers: RecordedHeaders, secrets: Set<string>): RecordedHeaders {
  const redactOne = (name: string, value: string) => {
    if (isSecretHeader(name)) {
      rememberHeaderSecret(name, value, secrets);
      return REDACTED;
    }
    return URL_HEADERS.has(name.toLowerCase()) ? redactUrlParams(value, secrets) : value;
  };
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.map((v) => redactOne(name, v)) : redactOne(name, value)]),
  );
}

function headerValue(headers: RecordedHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

type Body = { kind: "empty" } | { kind: "json"; value: unknown } | { kind: "text"; text: string };

/** Undoes `Content-Encoding` (the recording wants the JSON, not gzip bytes); undefined when it cannot. */
function decodeContent(body: Uint8Array, encoding: string | undefined): Buffer | undefined {
  let bytes = Buffer.from(body);
  const codings = (encoding ?? "").split(",").map((coding) => coding.trim().toLowerCase()).filter((c) => c && c !== "identity");
  try {
    for (const coding of codings.reverse()) {
      if (coding === "gzip" || coding === "x-gzip") bytes = gunzipSync(bytes);
      else if (coding === "deflate") bytes = inflateSync(bytes);
      else if (coding === "br") bytes = brotliDecompressSync(bytes);
      else return undefined;
    }
  } catch {
    return undefined;
  }
  return bytes;
}

/**
 * Reads a body as JSON when its media type says JSON, or when it is not labelled JSON but parses
 * as an object or array: some vendors send JSON as text/html, and parsing it is what lets its
 * secret-named fields be redacted.
 */
function parseBody(body: Uint8Array, headers: RecordedHeaders): Body {
  if (body.length === 0) return { kind: "empty" };
  const decoded = decodeContent(body, headerValue(headers, "content-encoding"));
  if (!decoded) return { kind: "text", text: `[${body.length} bytes, Content-Encoding ${headerValue(headers, "content-encoding")}, not decoded]` };
  const text = decoded.toString("utf8");
  const type = headerValue(headers, "content-type") ?? "";
  if (/json/i.test(type) || /^\s*[{[]/.test(text)) {
    try {
      return { kind: "json", value: JSON.parse(text) as unknown };
    } catch {
      // Not JSON after all: recorded as text below.
    }
  }
  return { kind: "text", text };
}

/** Redacts a text body: form-encoded pairs (OAuth token answers) and URL parameters in it. */
function redactText(text: string, headers: RecordedHeaders, secrets: Set<string>): string {
  if (/application\/x-www-form-urlencoded/i.test(headerValue(headers, "content-type") ?? "")) {
    return redactUrlParams(`?${text}`, secrets).slice(1);
  }
  return redactUrlParams(text, secrets);
}

/**
 * The recording of an exchange, every secret redacted (see the top of this file). Pure: the
 * same exchange always gives the same recording. The request body is kept only when it is JSON;
 * the response body is the JSON, `null` when empty, or else the text.
 */
export function redact(exchange: CapturedExchange): Omit<Recording, "source"> {
  const secrets = new Set<string>();
  const { request, response } = exchange;
  const requestHeaders = redactHeaders(request.headers, secrets);
  const path = redactUrlParams(request.path, secrets);
  const requestBody = parseBody(request.body, request.headers);
  const responseHeaders = redactHeaders(response.headers, secrets);
  const responseBody = parseBody(response.body, response.headers);
  const recording = {
    request: {
      method: request.method.toUpperCase(),
      path,
      headers: requestHeaders,
      ...(requestBody.kind === "json" ? { body: redactJson(requestBody.value, secrets) } : {}),
    },
    response: {
      status: response.status,
      headers: responseHeaders,
      body:
        responseBody.kind === "empty" ? null
        : responseBody.kind === "json" ? redactJson(responseBody.value, secrets)
        : redactText(responseBody.text, response.headers, secrets),
    },
  };
  return scrubSecrets(recording, secrets);
}

/** `0001-get-api-3-stacks-200.json`: sequence, method, path without its query, status. */
export function recordingFileName(sequence: number, method: string, path: string, status: number): string {
  const slug =
    (path.split(/[?#]/)[0] ?? "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .slice(0, 80)
      .replace(/^-+|-+$/g, "") || "root";
  const verb = method.toLowerCase().replace(/[^a-z0-9]+/g, "") || "request";
  return `${String(sequence).padStart(4, "0")}-${verb}-${slug}-${status}.json`;
}

const RECORDING_NAME = /^(\d+)-.+-\d{3}\.json$/;

/** Highest sequence already in `dir`, so that a second session adds files instead of replacing them. */
async function lastSequence(dir: string): Promise<number> {
  const names = await readdir(dir);
  return names.reduce((max, name) => Math.max(max, Number(RECORDING_NAME.exec(name)?.[1] ?? 0)), 0);
}

interface TargetUrl {
  origin: string;
  protocol: "http:" | "https:";
  hostname: string;
  port: number | undefined;
  /** The target's path without a trailing slash ("" for none), prefixed to every request path. */
  prefix: string;
}

function parseTarget(target: string): TargetUrl {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new Error(`--target: "${target}" is not a URL (expected e.g. https://app.cloud66.com).`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`--target: expected an http or https URL, got ${url.protocol}`);
  // Credentials in the target would be sent on every request and could end up in `source`;
  // the client sends its own credentials, which the proxy forwards.
  if (url.username || url.password) throw new Error("--target: give credentials to the client, not in the target URL.");
  if (url.search || url.hash) throw new Error("--target: expected a base URL without query or fragment.");
  return {
    origin: url.origin,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ""), // node:http wants an IPv6 literal without brackets
    port: url.port ? Number(url.port) : undefined,
    prefix: url.pathname.replace(/\/+$/, ""),
  };
}

/**
 * Node's flat rawHeaders ([name, value, name, value, …]) grouped by name, without hop-by-hop
 * headers, those the Connection header names, and `drop`. Names keep the case they were sent in.
 */
function endToEndHeaders(rawHeaders: readonly string[], drop: readonly string[] = []): [string, string[]][] {
  const byName = new Map<string, [string, string[]]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const entry = byName.get(name.toLowerCase());
    if (entry) entry[1].push(rawHeaders[i + 1]!);
    else byName.set(name.toLowerCase(), [name, [rawHeaders[i + 1]!]]);
  }
  const listed = (byName.get("connection")?.[1] ?? []).flatMap((value) => value.split(",")).map((token) => token.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...listed, ...drop]) byName.delete(name);
  return [...byName.values()];
}

const outgoing = (headers: [string, string[]][]) =>
  Object.fromEntries(headers.map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
const recorded = (headers: [string, string[]][]): RecordedHeaders =>
  Object.fromEntries(headers.map(([name, values]) => [name.toLowerCase(), values.length === 1 ? values[0]! : values]));

/** The path a request addresses: origin-form as is; absolute-form (`GET http://h/p`) reduced to its path. */
function requestPath(url: string): string {
  if (url.startsWith("/")) return url;
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return `/${url}`;
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  const api = getApi(options.api).id;
  const target = parseTarget(options.target);
  const outDir = options.outDir;
  const host = options.host ?? "127.0.0.1";
  const onError = options.onError ?? ((error: Error) => console.error(`cloud-contracts record: ${error.message}`));
  await mkdir(outDir, { recursive: true });

  let sequence = await lastSequence(outDir);
  const transport = target.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: true });
  /** Exchanges under way, and recordings being written: close() waits for both. */
  const inFlight = new Set<Promise<void>>();
  const writes = new Set<Promise<void>>();
  const track = (set: Set<Promise<void>>, work: Promise<void>) => {
    set.add(work);
    const done = () => void set.delete(work);
    work.then(done, done);
  };

  function record(exchange: CapturedExchange, startedAt: Date): void {
    let content: string;
    let name: string;
    try {
      const recording: Recording = {
        ...redact(exchange),
        source: `recorded from ${target.origin} by cloud-contracts record (${api}) at ${startedAt.toISOString()}`,
      };
      // The sequence is taken when the exchange completes, so exchanges that fail (502) leave no gap.
      name = recordingFileName(++sequence, recording.request.method, recording.request.path, recording.response.status);
      content = `${JSON.stringify(recording, null, 2)}\n`;
    } catch (error) {
      onError(error as Error);
      return;
    }
    const file = join(outDir, name);
    track(
      writes,
      writeFileAtomic(file, content).then(
        () => options.onRecord?.(file),
        (error: Error) => onError(new Error(`could not write ${file}: ${error.message}`)),
      ).catch((error: Error) => onError(error)), // an onRecord that throws
    );
  }

  /** Forwards one exchange; resolves once it is answered and its recording (if any) is under way. */
  async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = new Date();
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch {
      response.destroy(); // the client went away mid-request
      return;
    }
    const path = target.prefix + requestPath(request.url ?? "/");
    const method = request.method ?? "GET";
    // `host` is dropped so that node:http sends the target's own. Proxy-Authorization is passed
    // on like any other header: RFC 9110 no longer counts it hop-by-hop, this proxy expects no
    // credentials of its own, and the upstream must get exactly what the client sent.
    const requestHeaders = endToEndHeaders(request.rawHeaders, ["host"]);
    const headers = outgoing(requestHeaders);
    // A chunked request body (Transfer-Encoding is hop-by-hop) goes on with its length instead.
    if (body.length > 0 && !requestHeaders.some(([name]) => name.toLowerCase() === "content-length")) {
      headers["Content-Length"] = String(body.length);
    }

    await new Promise<void>((resolve) => {
      const upstream = transport.request({ protocol: target.protocol, hostname: target.hostname, port: target.port, method, path, headers, agent });
      upstream.on("response", (answer) => {
        const answerHeaders = endToEndHeaders(answer.rawHeaders);
        const status = answer.statusCode ?? 502;
        response.writeHead(status, answer.statusMessage, outgoing(answerHeaders));
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        pipeline(answer, response, (error) => {
          // An answer cut short (upstream or client gone) is not a whole exchange: not recorded.
          if (!error && answer.complete) {
            record(
              {
                request: { method, path, headers: recorded(requestHeaders), body },
                response: { status, headers: recorded(answerHeaders), body: Buffer.concat(chunks) },
              },
              startedAt,
            );
          }
          resolve();
        });
      });
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        if (response.headersSent) {
          response.destroy();
        } else {
          // Only the code and the origin: a message could quote a header, and headers hold secrets.
          const code = typeof error.code === "string" && /^[A-Z0-9_]+$/.test(error.code) ? error.code : "request failed";
          const message = JSON.stringify({ error: "Bad Gateway", message: `cloud-contracts record could not reach ${target.origin} (${code})` });
          response.writeHead(502, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(message) }).end(message);
        }
        resolve();
      });
      // The client hung up before the answer was through: stop the upstream request too.
      response.on("close", () => {
        if (!response.writableFinished) upstream.destroy();
      });
      upstream.end(body.length > 0 ? body : undefined);
    });
  }

  const server = http.createServer((request, response) => {
    track(inFlight, forward(request, response).catch((error: Error) => {
      onError(error);
      response.destroy();
    }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => {
      agent.destroy();
      reject(error);
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      // Keep-alive connections that went idle after close() was called are ended here.
      server.closeAllConnections();
      await closed;
      while (writes.size > 0) await Promise.allSettled([...writes]);
      agent.destroy();
    },
  };
}
