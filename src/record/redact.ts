/**
 * Redaction of recorded exchanges: what `cloud-contracts record` does to an exchange before any
 * byte of it reaches the disk. Pure: the same exchange always gives the same recording.
 *
 * Two passes, both in `redact()`:
 *   1. by position: secret headers, query/fragment/form parameters, JSON fields whose names look
 *      secret (`isSecretName`), the value of `{ "key": "apiSecret", "value": … }` pairs, and in text
 *      that is not JSON (an HTML page, JSON after a prefix that does not parse, a JSON string
 *      inside JSON) every `name=value`, `"name": "value"`, `name: value` line, `<name>value</name>`
 *      and `<input name=… value=…>` with a secret name get "[REDACTED]", and each value so removed
 *      is remembered;
 *   2. by value: every remembered secret (and its URL-encoded forms, the token inside
 *      "Bearer …", the user and password inside "Basic …", each cookie value, each secret form
 *      field the client sent) is replaced wherever else it appears in the recording, because
 *      servers echo credentials in places no name gives away (an error message quoting the key,
 *      a form's password repeated in a message, an echoed `authorization` field, a URL).
 *
 * Bodies are decoded (`Content-Encoding`) to be redacted, never to more than `maxBodyBytes`: a
 * gzip bomb ends in a `BodyTooLargeError`, not in gigabytes.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { looksLikeJson, MAX_JSON_DEPTH, nestingDepth, stripJsonPrefix } from "../json-text.js";

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

/** Default cap on a body the recorder holds, raw or decoded: 32 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A body (or what it decodes to) is larger than the recorder holds. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number, what: string, outcome = "forwarded, not recorded") {
    super(`${what} is larger than ${limit.toLocaleString("en-US")} bytes (--max-body-bytes): ${outcome}`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Parts that make a name secret wherever they appear in it, any case: `apiKey`, `X-Api-Key`,
 * `client_secret`, `access_token`, `password`, `passwd`, `passphrase`, `credentials`,
 * `privateKey`, `signature`, `session_id` / `X-Session-Id`.
 */
const SECRET_PART = /key|token|secret|passw|passphrase|credential|private|signature|session[-_]?id|sessid/i;

/**
 * Words that make a name secret only as a whole word of it (`X-Auth`, `auth_code`, `userPin`,
 * `sig`): inside other words they mean nothing (`author`, `design`, `shipping`).
 */
const SECRET_WORDS = new Set(["auth", "authorization", "pwd", "pass", "sig", "pin", "otp", "sid", "jwt", "cookie", "cookies"]);

/** The words of a name: `X-Session-Id` → x, session, id; `userPIN` → user, pin; `apiKey` → api, key. */
const words = (name: string) =>
  name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/);

/** Whether a query parameter, form field, JSON field or header with this name holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_PART.test(name) || words(name).some((word) => SECRET_WORDS.has(word));
}

/** Headers that carry credentials whatever their name says. */
const SECRET_HEADERS = new Set([
  "authorization", "proxy-authorization", "cookie", "set-cookie",
  "mc-api-key", "api-public-token", "api-private-token", "x-api-key",
]);

/** Headers whose value is a URL, whose query or fragment may carry a token. */
const URL_HEADERS = new Set(["location", "content-location", "link", "referer"]);

export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  if (SECRET_HEADERS.has(lower)) return true;
  // CORS headers name other headers (`Access-Control-Allow-Headers: MC-Api-Key`) or hold a flag
  // (`…-Allow-Credentials: true`); their names match isSecretName but they never carry a secret.
  return !lower.startsWith("access-control-") && isSecretName(lower);
}

/**
 * Fields that name the setting in a `{ "key": "DB_PASSWORD", "value": "…" }` pair (environment
 * variables, settings, custom fields), and fields that hold its value.
 */
const PAIR_NAME_FIELDS = new Set(["key", "name", "field", "parameter", "param", "header", "variable", "var", "setting", "option", "property", "attribute", "label", "id"]);
const PAIR_VALUE_FIELDS = new Set(["value", "values", "val", "content", "data", "text", "secret"]);

/**
 * Values shorter than this are redacted where they stand but not searched for elsewhere: replacing
 * "en" or "1" everywhere would wreck the recording, and such values are not credentials anyway.
 */
const MIN_SECRET_LENGTH = 6;

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

/** Redacts the secret-named pairs of one `a=1&b=2` list. */
function redactPairs(pairs: string, secrets: Set<string>): string {
  return pairs
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      if (equals < 0 || !isSecretName(decodeComponent(pair.slice(0, equals)))) return pair;
      const value = pair.slice(equals + 1);
      remember(secrets, value);
      remember(secrets, decodeComponent(value));
      return `${pair.slice(0, equals)}=${REDACTED}`;
    })
    .join("&");
}

/**
 * Redacts secret-named parameters in every query string or fragment in `text` (`?a=1&api_key=x`
 * becomes `?a=1&api_key=[REDACTED]`), leaving everything else byte for byte as it was.
 */
export function redactUrlParams(text: string, secrets: Set<string> = new Set()): string {
  return text.replace(/[?#][^\s"'<>#]*/g, (tail) => tail[0] + redactPairs(tail.slice(1), secrets));
}

/** Redacts a form-encoded body (`a=1&password=x`). */
export const redactForm = (text: string, secrets: Set<string> = new Set()) => redactPairs(text, secrets);

/** `\"` and friends in a quoted value, undone (best effort: the value is also remembered as written). */
const unescapeQuoted = (value: string) => {
  try {
    return JSON.parse(`"${value}"`) as string;
  } catch {
    return value;
  }
};

/**
 * Secret-named values in free text (a body that is not JSON, a string inside JSON), each kind of
 * place a pattern: the name captured, the value replaced when the name looks secret.
 */
interface TextPattern {
  pattern: RegExp;
  /** Group numbers of the name and the value; every group before the value is kept as it was. */
  name: number;
  value: number;
  /** The group of the value's opening quote, put back after it. */
  quote?: number;
  /** Line-oriented: for text bodies only, not for strings inside JSON ("Token: expired" in a message is prose). */
  lines?: boolean;
}

const TEXT_PATTERNS: TextPattern[] = [
  // "password": "x", 'token': 'x', {apiKey: "x"}, password="x" (JSON that does not parse, JavaScript, Python reprs)
  { pattern: /(["']?)([A-Za-z_$][\w$.-]{0,63})(\1\s*[:=]\s*)(["'])((?:\\.|(?!\4)[^\\\r\n]){0,4096})\4/g, name: 2, value: 5, quote: 4 },
  // "pin": 1234
  { pattern: /(["'])([A-Za-z_$][\w$.-]{0,63})(\1\s*:\s*)(-?\d[\d.eE+-]{0,63})/g, name: 2, value: 4 },
  // password=x in a log line or an echoed form
  { pattern: /(^|[\s;,&?(])([A-Za-z_$][\w$.-]{0,63})(=)([^\s&;,"'<>]{1,4096})/gm, name: 2, value: 4 },
  // X-Auth: x as a header or YAML line
  { pattern: /^([ \t]*)([A-Za-z_$][\w$.-]{0,63})([ \t]*:[ \t]*)([^\s"'{[][^\r\n]{0,4095})$/gm, name: 2, value: 4, lines: true },
  // <password>x</password>
  { pattern: /(<)([A-Za-z_][\w.-]{0,63})(>)([^<]{1,4096})(?=<\/\2>)/g, name: 2, value: 4 },
];

/**
 * Redacts secret-named values in free text, and URL parameters in it. `lines: false` leaves out
 * the `name: value` line pattern (for strings inside JSON, which are prose more often than not).
 */
export function redactText(text: string, secrets: Set<string> = new Set(), { lines = true } = {}): string {
  let result = redactUrlParams(text, secrets);
  for (const { pattern, name, value, quote, lines: lineOriented } of TEXT_PATTERNS) {
    if (lineOriented && !lines) continue;
    result = result.replace(pattern, (match: string, ...groups: string[]) => {
      if (!isSecretName(groups[name - 1]!) || groups[value - 1] === REDACTED) return match;
      const secret = groups[value - 1]!;
      remember(secrets, secret);
      if (quote) remember(secrets, unescapeQuoted(secret));
      // Everything before the value, the value redacted, and the closing quote when there is one.
      const before = groups.slice(0, value - 1).join("");
      return `${before}${REDACTED}${quote ? groups[quote - 1] : ""}`;
    });
  }
  // <input type="hidden" name="csrf_token" value="x">, <meta name="csrf-token" content="x"> (HTML)
  return result.replace(/<(?:input|meta)\b[^>]*>/gi, (tag) => {
    const name = /\bname\s*=\s*["']([^"']*)["']/i.exec(tag)?.[1];
    if (!name || !isSecretName(name)) return tag;
    return tag.replace(/(\b(?:value|content)\s*=\s*)(["'])([^"']*)\2/i, (_, prefix: string, quote: string, secret: string) => {
      remember(secrets, secret);
      return `${prefix}${quote}${REDACTED}${quote}`;
    });
  });
}

/** A string that holds JSON (an API that encodes twice), redacted as JSON; undefined when it is not JSON. */
function redactJsonString(text: string, secrets: Set<string>): string | undefined {
  if (!looksLikeJson(text) || nestingDepth(text) > MAX_JSON_DEPTH) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripJsonPrefix(text));
  } catch {
    return undefined;
  }
  const redacted = JSON.stringify(redactJson(parsed, secrets));
  // Unchanged: keep the string as it was sent, spacing and all.
  return redacted === JSON.stringify(parsed) ? text : redacted;
}

/** Whether an object has the shape of a `{ "key": …, "value": … }` pair. */
const isPairShaped = (entries: [string, unknown][]) => entries.some(([name]) => PAIR_VALUE_FIELDS.has(name.toLowerCase()));

/** Whether a pair names a secret: `{ "key": "apiSecret", "value": … }`. */
const namesSecret = (entries: [string, unknown][]) =>
  entries.some(([name, value]) => PAIR_NAME_FIELDS.has(name.toLowerCase()) && typeof value === "string" && isSecretName(value));

/**
 * Replaces the value of every field whose name looks secret, at any depth, keeping the name; and
 * the value of `{ "key": "apiSecret", "value": … }` pairs (whose `key` is a name, and is kept). Below a secret-named field every string
 * and number is redacted but the shape is kept (an `apiKeys` array stays an array of objects), so
 * that the recording still exercises the contract's schemas. `null` and booleans are kept: they
 * carry no secret (`hasPassword: true`). Other strings are redacted as JSON when they hold JSON,
 * else as text (a `next` link carrying `?token=`, a message quoting `password=…`).
 * The caller makes sure the value nests at most MAX_JSON_DEPTH levels.
 */
export function redactJson(value: unknown, secrets: Set<string> = new Set(), underSecret = false): unknown {
  if (Array.isArray(value)) return value.map((item) => redactJson(item, secrets, underSecret));
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    const pair = !underSecret && isPairShaped(entries);
    const secretPair = pair && namesSecret(entries);
    return Object.fromEntries(
      entries.map(([name, child]) => {
        const lower = name.toLowerCase();
        // In a pair, `key` is the setting's name (`DB_PASSWORD`), which stays readable; its value goes.
        const secretName = isSecretName(name) && !(pair && lower === "key" && typeof child === "string");
        return [name, redactJson(child, secrets, underSecret || secretName || (secretPair && PAIR_VALUE_FIELDS.has(lower)))];
      }),
    );
  }
  if (underSecret && (typeof value === "string" || typeof value === "number")) {
    remember(secrets, String(value));
    return REDACTED;
  }
  return typeof value === "string" ? (redactJsonString(value, secrets) ?? redactText(value, secrets, { lines: false })) : value;
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

export function headerValue(headers: RecordedHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

type Body = { kind: "empty" } | { kind: "json"; value: unknown } | { kind: "text"; text: string };

/**
 * Undoes `Content-Encoding` (the recording wants the JSON, not gzip bytes), never to more than
 * `maxBytes`; undefined when it cannot decode.
 */
function decodeContent(body: Uint8Array, encoding: string | undefined, maxBytes: number, what: string): Buffer | undefined {
  let bytes = Buffer.from(body);
  const codings = (encoding ?? "").split(",").map((coding) => coding.trim().toLowerCase()).filter((c) => c && c !== "identity");
  const options = { maxOutputLength: maxBytes };
  try {
    for (const coding of codings.reverse()) {
      if (coding === "gzip" || coding === "x-gzip") bytes = gunzipSync(bytes, options);
      else if (coding === "deflate") bytes = inflateSync(bytes, options);
      else if (coding === "br") bytes = brotliDecompressSync(bytes, options);
      else return undefined;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw new BodyTooLargeError(maxBytes, `${what}, decoded (${encoding}),`);
    return undefined;
  }
  return bytes;
}

/**
 * Reads a body as JSON when its media type says JSON, or when it is not labelled JSON but parses
 * as an object or array once a byte-order mark or anti-XSSI prefix is taken off: some vendors send
 * JSON as text/html, and parsing it is what lets its secret-named fields be redacted. A body that
 * does not parse, or nests deeper than MAX_JSON_DEPTH, is text (and redacted as text).
 */
function parseBody(body: Uint8Array, headers: RecordedHeaders, maxBytes: number, what: string): Body {
  if (body.length === 0) return { kind: "empty" };
  const encoding = headerValue(headers, "content-encoding");
  const decoded = decodeContent(body, encoding, maxBytes, what);
  if (!decoded) return { kind: "text", text: `[${body.length} bytes, Content-Encoding ${encoding}, not decoded]` };
  const text = decoded.toString("utf8");
  const stripped = stripJsonPrefix(text);
  if ((/json/i.test(headerValue(headers, "content-type") ?? "") || looksLikeJson(stripped)) && nestingDepth(stripped) <= MAX_JSON_DEPTH) {
    try {
      return { kind: "json", value: JSON.parse(stripped) as unknown };
    } catch {
      // Not JSON after all: recorded as text below.
    }
  }
  return { kind: "text", text };
}

const isForm = (headers: RecordedHeaders) => /application\/x-www-form-urlencoded/i.test(headerValue(headers, "content-type") ?? "");

/** Redacts a text body: form-encoded pairs (OAuth token answers), or free text. */
const redactTextBody = (text: string, headers: RecordedHeaders, secrets: Set<string>) =>
  isForm(headers) ? redactForm(text, secrets) : redactText(text, secrets);

/**
 * The recording of an exchange, every secret redacted (see the top of this file). The request
 * body is kept only when it is JSON, but a form or text body is read for secrets all the same,
 * since the server may echo them. The response body is the JSON, `null` when empty, or else the
 * text. Throws a `BodyTooLargeError` when a body decodes to more than `maxBodyBytes`.
 */
export function redact(exchange: CapturedExchange, { maxBodyBytes = DEFAULT_MAX_BODY_BYTES } = {}): Omit<Recording, "source"> {
  const secrets = new Set<string>();
  const { request, response } = exchange;
  const what = `${request.method.toUpperCase()} ${request.path.split(/[?#]/)[0]}`;
  const requestHeaders = redactHeaders(request.headers, secrets);
  const path = redactUrlParams(request.path, secrets);
  const requestBody = parseBody(request.body, request.headers, maxBodyBytes, `the request body of ${what}`);
  if (requestBody.kind === "text") redactTextBody(requestBody.text, request.headers, secrets);
  const responseHeaders = redactHeaders(response.headers, secrets);
  const responseBody = parseBody(response.body, response.headers, maxBodyBytes, `the answer to ${what}`);
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
        : redactTextBody(responseBody.text, response.headers, secrets),
    },
  };
  return scrubSecrets(recording, secrets);
}
