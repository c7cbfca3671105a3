/**
 * The mock servers: each API's contract served on its own port by Prism's engine
 * (`@stoplight/prism-http`, used as a library), all of them in one Node process.
 *
 * Prism keeps doing what it does well: it routes, validates each request against the contract,
 * and answers with a documented example (or one chosen with `Prefer: code=…` / `example=…`, or a
 * generated one with `dynamic=true`). Around it, this module does what Prism's own server does not:
 * - serves each path under its real base path (src/mock/document.ts);
 * - checks credentials as the contract's security schemes say, with real HTTP Digest for Cloud
 *   Manager (src/mock/digest.ts) and its service account tokens (src/mock/oauth.ts);
 * - answers every refusal (invalid request, missing credentials, unknown path, wrong method,
 *   unparseable or oversized body) with the operation's documented status in the vendor's own error
 *   envelope, whose message names the actual violation (src/mock/vendors.ts), instead of the first
 *   documented example; the violations stay in the `sl-violations` header as Prism writes them;
 * - caps what it reads of a request body (test/mock/digest.test.ts also holds that a client which
 *   half-closes its socket after sending its request gets its answer).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createInstance, type IHttpRequest, type IHttpResponse } from "./engine.js";
import type { ApiId } from "../apis.js";
import { apiRootPath, childPointer, createOperationMatcher, resolveLocal, type MatchedOperation, type OpenApiDocument } from "../contract/document.js";
import { createDigestVerifier, type DigestCredentials, type DigestVerifier } from "./digest.js";
import { computeMockOperations, type MockOperations } from "./operations.js";
import { createTokenIssuer, OAUTH_PATHS, type ServiceAccountCredentials, type TokenIssuer } from "./oauth.js";
import { ERROR_ENVELOPES, type Refusal } from "./vendors.js";
import { MOCK_DIGEST_CREDENTIALS, MOCK_SERVICE_ACCOUNT } from "./credentials.js";

export { MOCK_DIGEST_CREDENTIALS, MOCK_SERVICE_ACCOUNT };

const DIGEST_REALM = "MMS Public API";
/** Largest request body read (a mock answers examples; nothing bigger is needed). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export interface MockServerOptions {
  port: number;
  host?: string;
  /** Cloud Manager's digest keys (default MOCK_DIGEST_CREDENTIALS). */
  digestCredentials?: DigestCredentials;
  /** Cloud Manager's service account (default MOCK_SERVICE_ACCOUNT). */
  serviceAccount?: ServiceAccountCredentials;
  /** Lifetime of a digest nonce (tests shorten it). */
  nonceLifetimeMs?: number;
  /** Prism's operations for `document`, when already at hand (src/mock/operations.ts); else computed. */
  operations?: MockOperations;
}

export interface RunningMockServer {
  readonly id: ApiId;
  readonly port: number;
  /** Where a client points its `baseUrl`: scheme, host, port and the API's root path. */
  readonly baseUrl: string;
  readonly server: Server;
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** Prism wants a pino-like logger; the mock's answers say everything, so it logs nothing. */
const silent = (() => {
  const noop = () => undefined;
  const logger: Record<string, unknown> = { level: "silent", info: noop, warn: noop, error: noop, debug: noop, trace: noop, fatal: noop, success: noop };
  logger.child = () => logger;
  return logger;
})();

const PRISM_CONFIG = { checkSecurity: false, validateRequest: true, validateResponse: false, mock: { dynamic: false }, errors: false, isProxy: false } as const;

/** Builds the request handler of one API's mock from its bundled contract. */
export async function createMockHandler(id: ApiId, document: OpenApiDocument, options: Omit<MockServerOptions, "port" | "host"> = {}): Promise<Handler> {
  const operations = options.operations ?? (await computeMockOperations(document));
  const prism = createInstance(PRISM_CONFIG as never, { logger: silent as never });
  const match = createOperationMatcher(document);
  const envelope = ERROR_ENVELOPES[id];
  const digest = usesScheme(document, "digest")
    ? createDigestVerifier({ realm: DIGEST_REALM, credentials: options.digestCredentials ?? MOCK_DIGEST_CREDENTIALS, nonceLifetimeMs: options.nonceLifetimeMs })
    : undefined;
  const tokens = id === "cloudmanager" ? createTokenIssuer(options.serviceAccount ?? MOCK_SERVICE_ACCOUNT) : undefined;

  const refuse = (response: ServerResponse, refusal: Refusal, headers: Record<string, string | string[]> = {}) => {
    send(response, refusal.status, { "Content-Type": "application/json", ...headers }, JSON.stringify(envelope(refusal)));
  };

  return (request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) refuse(response, { kind: "invalid", status: 400, message: `The mock could not read the request: ${(error as Error).message}` });
      else response.destroy();
    });
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://mock");
    const method = (request.method ?? "GET").toUpperCase();
    if (tokens && OAUTH_PATHS.has(url.pathname)) return tokens.serve(request, response, url.pathname);

    const matched = match(method, url.pathname);
    if (matched) {
      const denied = checkCredentials(document, matched, request, { digest, tokens });
      if (denied) {
        const status = documentedStatus(matched, [401, 403]) ?? 401;
        return refuse(response, { kind: "unauthorized", status, message: denied.message, documentedCodes: errorCodes(document, matched, status) }, denied.headers);
      }
    }

    const body = await readBody(request);
    if (body === TOO_LARGE) {
      return refuse(response, { kind: "too-large", status: 413, message: `The request body is larger than the mock reads (${MAX_REQUEST_BYTES} bytes).` });
    }
    let parsed: unknown = body;
    if (body !== undefined && isJson(request.headers["content-type"])) {
      try {
        parsed = JSON.parse(body);
      } catch (error) {
        const status = (matched && documentedStatus(matched, [400, 422])) ?? 400;
        return refuse(response, { kind: "unparseable", status, message: `body: not valid JSON (${(error as Error).message})`, documentedCodes: matched && errorCodes(document, matched, status) });
      }
    }

    const prefer = request.headers.prefer;
    const preferences = parsePrefer(Array.isArray(prefer) ? prefer.join(", ") : prefer);
    if (typeof preferences === "string") {
      return refuse(response, { kind: "preference", status: 400, message: preferences });
    }
    const input: IHttpRequest = {
      method: method.toLowerCase() as IHttpRequest["method"],
      url: { path: url.pathname, query: queryOf(url) },
      headers: headersOf(request),
      ...(body === undefined ? {} : { body: parsed }),
    };
    const result = await prism.request(input, operations, { ...PRISM_CONFIG, mock: { ...PRISM_CONFIG.mock, ...preferences } } as never)();
    if (result._tag === "Left") {
      const error = result.left as Error & { status?: number; detail?: string };
      const status = error.status ?? 500;
      const kind = status === 404 ? "not-found" : status === 405 ? "method" : "preference";
      const message = status === 404 ? `No operation at ${method} ${url.pathname}.` : status === 405 ? `${url.pathname} does not answer ${method}.` : (error.detail ?? error.message);
      return refuse(response, { kind, status, message, documentedCodes: matched && errorCodes(document, matched, status) });
    }

    const { output, validations } = result.right as { output: IHttpResponse; validations: { input: Violation[] } };
    const violations = validations.input.filter((violation) => violation.severity === 0);
    const headers: Record<string, string> = {};
    // As Prism's own server writes it: `location` from "request", severity by name.
    if (validations.input.length > 0) {
      const listed = validations.input.map(({ path, code, message, severity }) => ({ location: ["request", ...(path ?? [])], severity: SEVERITIES[severity] ?? "Error", code, message }));
      headers["sl-violations"] = JSON.stringify(listed).slice(0, 8000);
    }
    if (violations.length > 0 && preferences.code === undefined) {
      const status = (matched && documentedStatus(matched, [400, 422])) ?? 400;
      const described = violations.map(describeViolation);
      return refuse(response, { kind: "invalid", status, message: described.join("; "), violations: described, documentedCodes: matched && errorCodes(document, matched, status) }, headers);
    }
    const outputHeaders = Object.fromEntries(Object.entries(output.headers ?? {}).map(([name, value]) => [name, String(value)]));
    const payload = output.body === undefined ? "" : typeof output.body === "string" ? output.body : JSON.stringify(output.body);
    send(response, output.statusCode, { ...outputHeaders, ...headers }, payload);
  }
}

/** Starts one API's mock on its port; resolves once it listens. */
export async function startMockServer(id: ApiId, document: OpenApiDocument, options: MockServerOptions): Promise<RunningMockServer> {
  const host = options.host ?? "127.0.0.1";
  const handler = await createMockHandler(id, document, options);
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "EADDRINUSE" ? `Port ${options.port} (${id} mock) is already in use.` : `The ${id} mock cannot listen on ${host}:${options.port}: ${error.message}`)),
    );
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    id,
    port,
    baseUrl: `http://${host}:${port}${apiRootPath(document)}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const SEVERITIES = ["Error", "Warning", "Information", "Hint"];

interface Violation {
  path?: (string | number)[];
  code?: string | number;
  message: string;
  severity: number;
}

/** `body.name: must be string` from Prism's `["body","name"]` and "Request body property name must be string". */
export function describeViolation({ path, message }: Violation): string {
  const where = path?.join(".") || "request";
  const rule = message
    .replace(/^Request (body|query|path|header)s?( parameter| property)? [^ ]+ (?=must|should|is|has|does)/i, "")
    .replace(/^Request (body|query|path|header)s? (parameter |property )?/i, "");
  return `${where}: ${rule}`;
}

/** The first of `statuses` the operation documents. */
function documentedStatus(matched: MatchedOperation, statuses: number[]): number | undefined {
  const responses = matched.operation.value.responses ?? {};
  return statuses.find((status) => String(status) in responses);
}

/** The `errorCode` values the contract lists for a status of an operation (Cloud Manager), if any. */
function errorCodes(document: OpenApiDocument, matched: MatchedOperation, status: number): readonly string[] | undefined {
  const raw = matched.operation.value.responses?.[String(status)];
  if (raw === undefined) return undefined;
  const response = resolveLocal<{ content?: Record<string, { schema?: unknown }> }>(document, { value: raw, pointer: childPointer(matched.operation.pointer, "responses", String(status)) }).value;
  const schema = response.content?.["application/json"]?.schema;
  return findPropertyEnum(document, schema, "errorCode", 0);
}

function findPropertyEnum(document: OpenApiDocument, schema: unknown, property: string, depth: number): string[] | undefined {
  if (depth > 8 || typeof schema !== "object" || schema === null) return undefined;
  const resolved = resolveLocal<Record<string, unknown>>(document, { value: schema, pointer: "#" }).value;
  const own = (resolved.properties as Record<string, { enum?: string[] }> | undefined)?.[property]?.enum;
  if (own) return own;
  for (const part of (resolved.allOf as unknown[] | undefined) ?? []) {
    const found = findPropertyEnum(document, part, property, depth + 1);
    if (found) return found;
  }
  return undefined;
}

interface SecurityScheme {
  type: string;
  scheme?: string;
  in?: string;
  name?: string;
}

function usesScheme(document: OpenApiDocument, httpScheme: string): boolean {
  const schemes = (document.components?.securitySchemes ?? {}) as Record<string, SecurityScheme>;
  return Object.values(schemes).some((scheme) => scheme.type === "http" && scheme.scheme?.toLowerCase() === httpScheme);
}

/**
 * Checks the request against the operation's security requirements (any one of them, each with all
 * its schemes). Answers why it is refused, with the headers to send, or undefined when it passes.
 */
function checkCredentials(
  document: OpenApiDocument,
  matched: MatchedOperation,
  request: IncomingMessage,
  checkers: { digest: DigestVerifier | undefined; tokens: TokenIssuer | undefined },
): { message: string; headers: Record<string, string | string[]> } | undefined {
  const requirements = ((matched.operation.value as { security?: Record<string, unknown>[] }).security ??
    (document as { security?: Record<string, unknown>[] }).security ??
    []) as Record<string, unknown>[];
  if (requirements.length === 0 || requirements.some((requirement) => Object.keys(requirement).length === 0)) return undefined;
  const schemes = (document.components?.securitySchemes ?? {}) as Record<string, SecurityScheme>;
  const authorization = request.headers.authorization;
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  let digestChallenge: string[] | undefined;
  let challengeDue = false;
  const missing: string[] = [];

  const satisfied = (name: string): boolean => {
    const scheme = schemes[name];
    if (!scheme) return false;
    if (scheme.type === "apiKey") {
      const value = scheme.in === "header" ? request.headers[scheme.name!.toLowerCase()] : new URL(request.url ?? "/", "http://mock").searchParams.get(scheme.name!);
      if (value) return true;
      missing.push(`the ${scheme.name} ${scheme.in === "header" ? "header" : "parameter"}`);
      return false;
    }
    const kind = scheme.type === "http" ? scheme.scheme?.toLowerCase() : scheme.type;
    if (kind === "digest") {
      if (!checkers.digest) return false;
      if (/^Digest\s/i.test(authorization ?? "")) {
        const verdict = checkers.digest.verify({ method: request.method ?? "GET", url: request.url ?? "/", authorization });
        if (verdict.ok) return true;
        digestChallenge = verdict.challenge;
        missing.push(`a valid HTTP Digest answer (${verdict.reason})`);
        return false;
      }
      challengeDue = true;
      missing.push("HTTP Digest credentials");
      return false;
    }
    if (kind === "bearer" || kind === "oauth2" || kind === "openidconnect") {
      // Cloud Manager's bearer tokens are its service account tokens: only those it issued pass.
      if (bearer && (!checkers.tokens || checkers.tokens.valid(bearer))) return true;
      missing.push(checkers.tokens ? "a valid service account token" : "a bearer token in Authorization");
      return false;
    }
    if (kind === "basic") {
      if (/^Basic\s+\S+/i.test(authorization ?? "")) return true;
      missing.push("HTTP Basic credentials");
      return false;
    }
    return false;
  };

  if (requirements.some((requirement) => Object.keys(requirement).every(satisfied))) return undefined;
  const headers: Record<string, string | string[]> = {};
  if (!digestChallenge && challengeDue) digestChallenge = checkers.digest!.challenge();
  if (digestChallenge) headers["WWW-Authenticate"] = digestChallenge;
  return { message: `Missing or wrong credentials: expected ${[...new Set(missing)].join(" or ")}.`, headers };
}

const TOO_LARGE = Symbol("too large");

/** The request body as text (undefined when there is none), or TOO_LARGE past the cap. */
async function readBody(request: IncomingMessage): Promise<string | undefined | typeof TOO_LARGE> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      request.resume();
      return TOO_LARGE;
    }
    chunks.push(chunk);
  }
  return size === 0 ? undefined : Buffer.concat(chunks).toString("utf8");
}

const isJson = (contentType: string | undefined) => /^application\/([\w.+-]*\+)?json\b/i.test(contentType ?? "");

/** `Prefer: code=404, example=NotFound, dynamic=true` → Prism's mock options, or an error text. */
function parsePrefer(header: string | undefined): { code?: number; exampleKey?: string; dynamic?: boolean } | string {
  const preferences: { code?: number; exampleKey?: string; dynamic?: boolean } = {};
  for (const part of (header ?? "").split(/[,;]/)) {
    const [rawName, ...rest] = part.split("=");
    const name = rawName?.trim().toLowerCase();
    const value = rest.join("=").trim().replace(/^"(.*)"$/, "$1");
    if (!name) continue;
    if (name === "code") {
      if (!/^\d{3}$/.test(value)) return `Prefer: code must be a three-digit status, got "${value}".`;
      preferences.code = Number(value);
    } else if (name === "example") preferences.exampleKey = value;
    else if (name === "dynamic") preferences.dynamic = value === "true";
  }
  return preferences;
}

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  return query;
}

function headersOf(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : (value ?? "")]));
}

function send(response: ServerResponse, status: number, headers: Record<string, string | string[]>, body: string): void {
  response.writeHead(status, headers);
  response.end(body);
}
