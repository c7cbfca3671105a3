/**
 * HAR 1.2 files (http://www.softwareishard.com/blog/har-12-spec/) as `verify` input: what browsers'
 * developer tools, Playwright's `recordHar`, mitmproxy, Charles and `cloud-contracts record
 * --format har` export. Each entry becomes an exchange (method, URL, status, parsed body), or a
 * reason to skip it (no answer, body not saved), or a problem naming the entry.
 *
 * Which API an entry belongs to is decided by its host: `--host <host>=<id>`, else `--api`, else
 * the host of a contract's server where it is fixed (app.cloud66.com, cloud.mongodb.com), else a
 * folder on the HAR's path named after an API id. Within the API, an entry is checked when the
 * contract has an operation for it; an entry without one is skipped when it is a CORS preflight
 * (OPTIONS) or its path is outside the API's base path (`apiScope`: a page, a script, a font),
 * and a problem otherwise.
 */
import { apiRootPath, serverPath, type OpenApiDocument } from "../contract/document.js";
import { MAX_JSON_DEPTH, nestingDepth, stripJsonPrefix } from "../json-text.js";

export interface HarExchange {
  /** Index of the entry in `log.entries`, from 0. */
  entry: number;
  method: string;
  url: string;
  /** `host[:port]` of the URL, lower case. */
  host: string;
  /** Path and query of the URL. */
  path: string;
  status: number;
  /** The parsed body (JSON), the text when it is not JSON, `undefined` when empty. */
  body: unknown;
}

export type HarItem =
  | { kind: "exchange"; exchange: HarExchange }
  | { kind: "skipped"; entry: number; method?: string; url?: string; reason: string }
  | { kind: "problem"; entry: number; method?: string; url?: string; problem: "not-a-recording" | "not-json"; message: string }
  | { kind: "problem"; entry: number; method?: string; url?: string; problem: "too-deep"; depth: number };

interface HarContent {
  text?: unknown;
  encoding?: unknown;
  mimeType?: unknown;
  size?: unknown;
}

interface HarEntry {
  request?: { method?: unknown; url?: unknown };
  response?: { status?: unknown; content?: HarContent };
}

/** A parsed HAR document: `{ log: { entries: [...] } }`. */
export const isHar = (value: unknown): value is { log: { entries: unknown[] } } =>
  typeof value === "object" && value !== null && Array.isArray((value as { log?: { entries?: unknown } }).log?.entries);

const JSON_MEDIA_TYPE = /[/+]json\b/i;

/** The body of an entry's answer; a string when the body is not JSON. */
function parseContent(content: HarContent): { body: unknown } | { skip: string } | { notJson: string } | { depth: number } {
  if (typeof content.text !== "string") {
    // An export "without content" keeps the size but not the text: there is nothing to check.
    return typeof content.size === "number" && content.size > 0 ? { skip: "answer body not saved in the HAR (export it with content)" } : { body: undefined };
  }
  const text = content.encoding === "base64" ? Buffer.from(content.text, "base64").toString("utf8") : content.text;
  if (text === "") return { body: undefined };
  const stripped = stripJsonPrefix(text);
  const labelledJson = typeof content.mimeType === "string" && JSON_MEDIA_TYPE.test(content.mimeType);
  // JSON labelled text/html, as CVM sends it, is JSON all the same.
  if (labelledJson || /^\s*[{["]/.test(stripped)) {
    // The HAR's own depth was checked with the file; a body inside it is a string until parsed here.
    const depth = nestingDepth(stripped);
    if (depth > MAX_JSON_DEPTH) return { depth };
    try {
      return { body: JSON.parse(stripped) as unknown };
    } catch (error) {
      if (labelledJson) return { notJson: `answer labelled ${content.mimeType as string} is not JSON: ${(error as Error).message}` };
    }
  }
  return { body: text };
}

/** Every entry of a HAR document, as an exchange to check, a skip, or a problem. */
export function readHarEntries(har: { log: { entries: unknown[] } }): HarItem[] {
  return har.log.entries.map((value, entry): HarItem => {
    const { request, response } = (value ?? {}) as HarEntry;
    const method = typeof request?.method === "string" ? request.method : undefined;
    const url = typeof request?.url === "string" ? request.url : undefined;
    if (!method || !url || typeof response?.status !== "number") {
      return { kind: "problem", entry, method, url, problem: "not-a-recording", message: "not a HAR entry: needs request.method, request.url and response.status" };
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { kind: "problem", entry, method, url, problem: "not-a-recording", message: `request.url "${url}" is not a URL` };
    }
    // Browsers record requests that got no answer (blocked, cancelled, failed) with status 0.
    if (response.status === 0) return { kind: "skipped", entry, method, url, reason: "no answer (request blocked, cancelled or failed)" };
    const content = parseContent(response.content ?? {});
    if ("skip" in content) return { kind: "skipped", entry, method, url, reason: content.skip };
    if ("notJson" in content) return { kind: "problem", entry, method, url, problem: "not-json", message: content.notJson };
    if ("depth" in content) return { kind: "problem", entry, method, url, problem: "too-deep", depth: content.depth };
    return {
      kind: "exchange",
      exchange: { entry, method, url, host: parsed.host.toLowerCase(), path: parsed.pathname + parsed.search, status: response.status, body: content.body },
    };
  });
}

/** The hosts a contract's servers name literally (no `{variable}` in the host): `app.cloud66.com`. */
export function fixedHosts(document: OpenApiDocument): string[] {
  const urls = [
    ...(document.servers ?? []),
    ...Object.values(document.paths).flatMap((item) => ((item as { servers?: { url: string }[] }).servers ?? [])),
  ].map((server) => server.url);
  const hosts = urls.map((url) => /^[a-z][a-z0-9+.-]*:\/\/([^/]*)/i.exec(url)?.[1]?.toLowerCase()).filter((host): host is string => !!host && !host.includes("{"));
  return [...new Set(hosts)];
}

/**
 * The base path an API's calls live under, for telling a call the contract lacks (a problem)
 * from a page or asset of the same host (skipped): the API's root (`/api/3`, `/api/v2`), or,
 * for an API served at the host root (CVM), the literal segments every path template starts
 * with (`/api/client`). "" when the paths share nothing.
 */
export function apiScope(document: OpenApiDocument): string {
  const root = apiRootPath(document);
  if (root) return root;
  const prefixes = Object.keys(document.paths).map((template) => {
    const segments = template.split("/");
    const variable = segments.findIndex((segment) => segment.includes("{"));
    return (variable === -1 ? segments.slice(0, -1) : segments.slice(0, variable)).join("/");
  });
  const shared = prefixes.reduce<string[] | undefined>((common, prefix) => {
    const segments = prefix.split("/");
    if (!common) return segments;
    const differs = common.findIndex((segment, index) => segments[index] !== segment);
    return differs === -1 ? common : common.slice(0, differs);
  }, undefined);
  return serverPath((shared ?? []).join("/"));
}

/** Whether `path` (with its query) lies under `scope` ("" covers every path). */
export const inScope = (path: string, scope: string) => {
  const pathname = path.split(/[?#]/)[0] ?? "";
  return scope === "" || pathname === scope || pathname.startsWith(`${scope}/`);
};
