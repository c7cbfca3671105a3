/**
 * Typed client for the MongoDB Cloud Manager Public API v1.0.
 *
 *   const cm = createCloudManagerClient({ publicKey, privateKey });
 *   for await (const project of paginate(cm, "/groups")) console.log(project.id, project.name);
 *
 * Requests authenticate with HTTP Digest (RFC 7616, SHA-256 or MD5, `qop=auth`) in the client's
 * `fetch`, beneath the middleware: the first request answers the server's challenge, later ones
 * reuse it with a growing nonce count. Or, with `serviceAccount: { clientId, clientSecret }`, with a
 * service account's OAuth 2 token (src/runtime/service-account.ts), fetched, renewed before it
 * expires and once on a 401. Either sits beneath the shared transport's timeout and retries
 * (src/runtime/transport.ts), so one attempt's timeout covers its challenge or token round trip.
 * Answers outside 2xx that are not retried, or still fail after the last retry, throw
 * CloudManagerApiError.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, operations, paths } from "../../generated/cloudmanager/schema.js";
import { digestAuthentication } from "../runtime/digest.js";
import { ApiError, summarize } from "../runtime/errors.js";
import { paginateGet, type ListItem, type ListParams, type ListPath, type PaginateOptions } from "../runtime/paginate.js";
import type { RetryOptions } from "../runtime/retry.js";
import { serviceAccountFetch, ServiceAccountTokenError, type ServiceAccount } from "../runtime/service-account.js";
import { aroundFetch, createTransport, type Authentication, type TransportOptions } from "../runtime/transport.js";

export type { components, operations, paths, PaginateOptions, RetryOptions, ServiceAccount };
export { ServiceAccountTokenError };
export * from "../runtime/transport-errors.js";
export type CloudManagerClient = Client<paths>;
export type CloudManagerErrorBody = components["schemas"]["ApiError"];

export const CLOUD_MANAGER_API = "https://cloud.mongodb.com/api/public/v1.0";
const PUBLIC_API_PATH = "/api/public/v1.0";
const PROMETHEUS_PATH = "/prometheus/v1.0";

/** A Cloud Manager answer outside 2xx, with the fields of its error document. */
export class CloudManagerApiError extends ApiError<unknown> {
  override name = "CloudManagerApiError";
  /** Named constant for the error, e.g. `RESOURCE_NOT_FOUND`. */
  readonly errorCode: string | undefined;
  readonly detail: string | undefined;
  readonly reason: string | undefined;
  readonly parameters: unknown[];

  constructor(status: number, body: unknown, request: Request) {
    const fields = typeof body === "object" && body !== null ? (body as Partial<CloudManagerErrorBody>) : {};
    const summary = summarize(request);
    super(fields.detail ?? `Cloud Manager answered ${status} to ${summary.method} ${summary.path}`, { status, body, request: summary });
    this.errorCode = fields.errorCode;
    this.detail = fields.detail;
    this.reason = fields.reason;
    this.parameters = fields.parameters ?? [];
  }
}

interface CommonOptions extends TransportOptions {
  /** API root; defaults to https://cloud.mongodb.com/api/public/v1.0 (the mock: http://127.0.0.1:4014/api/public/v1.0). */
  baseUrl?: string;
  /** The network `fetch` beneath authentication, timeouts and retries (tests, proxies). Defaults to the global one. */
  fetch?: (request: Request) => Promise<Response>;
}

/** Programmatic API key: HTTP Digest. */
export interface ApiKeyOptions extends CommonOptions {
  /** Public API key: the digest user name. */
  publicKey: string;
  /** Private API key: the digest password. Never logged or put in an error. */
  privateKey: string;
  serviceAccount?: never;
}

/** Service account: OAuth 2 client credentials, sent as a bearer token. */
export interface ServiceAccountOptions extends CommonOptions {
  /** `tokenUrl` defaults to `/api/oauth/token` on the origin of `baseUrl`. The secret is never logged or thrown. */
  serviceAccount: ServiceAccount;
  publicKey?: never;
  privateKey?: never;
}

export type CloudManagerClientOptions = ApiKeyOptions | ServiceAccountOptions;

const nonEmpty = (value: unknown) => typeof value === "string" && value !== "";

export function createCloudManagerClient(options: CloudManagerClientOptions): CloudManagerClient {
  const baseUrlOption = options.baseUrl ?? CLOUD_MANAGER_API;
  let authentication: Authentication;
  if (options.serviceAccount !== undefined) {
    const { clientId, clientSecret, tokenUrl } = options.serviceAccount;
    for (const [field, value] of [["clientId", clientId], ["clientSecret", clientSecret]] as const) {
      if (!nonEmpty(value)) throw new TypeError(`createCloudManagerClient: option "serviceAccount.${field}" must be a non-empty string.`);
    }
    const tokenEndpoint = tokenUrl ?? new URL("/api/oauth/token", baseUrlOption).href;
    authentication = aroundFetch((send) => serviceAccountFetch({ clientId, clientSecret, tokenUrl: tokenEndpoint, fetch: send }));
  } else {
    for (const field of ["publicKey", "privateKey"] as const) {
      if (!nonEmpty(options[field])) {
        throw new TypeError(`createCloudManagerClient: option "${field}" must be a non-empty string (or pass serviceAccount instead).`);
      }
    }
    const { publicKey, privateKey } = options;
    authentication = digestAuthentication({ username: publicKey, password: privateKey });
  }
  const transport = createTransport("createCloudManagerClient", options, CloudManagerApiError, authentication);
  const baseUrl = baseUrlOption.replace(/\/+$/, "");
  const client = createClient<paths>({ baseUrl, ...transport });
  if (baseUrl.endsWith(PUBLIC_API_PATH)) discoveryAtPrometheusRoot(client, baseUrl);
  return client;
}

const DISCOVERY = "/groups/{groupId}/discovery";

/**
 * The Prometheus discovery call lives beside the public API (`/prometheus/v1.0`), as the contract's
 * own server for that path says: its GET goes to that root, through openapi-fetch's per-request
 * `baseUrl`, when the API root ends with the usual `/api/public/v1.0`. Done in GET itself, not in a
 * middleware, which every call would pay for (a hook, an await, a URL parse): a string comparison.
 */
function discoveryAtPrometheusRoot(client: CloudManagerClient, baseUrl: string): void {
  const prometheusRoot = (root: string | undefined) => {
    const from = root?.replace(/\/+$/, "") ?? baseUrl;
    return from.endsWith(PUBLIC_API_PATH) ? from.slice(0, -PUBLIC_API_PATH.length) + PROMETHEUS_PATH : from;
  };
  type Init = { baseUrl?: string } | undefined;
  const { GET, request } = client as unknown as Record<"GET", (url: string, init: Init) => unknown> & Record<"request", (method: string, url: string, init: Init) => unknown>;
  const rerooted = (init: Init) => ({ ...init, baseUrl: prometheusRoot(init?.baseUrl) });
  Object.assign(client, {
    GET: (url: string, init: Init) => GET(url, url === DISCOVERY ? rerooted(init) : init),
    request: (method: string, url: string, init: Init) => request(method, url, url === DISCOVERY && method.toUpperCase() === "GET" ? rerooted(init) : init),
  });
}

type ListBody = { results: readonly unknown[]; totalCount?: number; links?: readonly { rel?: string; href?: string }[] };
type PagedPath = ListPath<paths, ListBody>;

/**
 * Every item of a paged list: asks for `pageNum` 1, 2, … (with the caller's `itemsPerPage`),
 * following the `next` link, or `totalCount` when the page carries no links, and fetches each page
 * only as the loop reaches it.
 *
 *   for await (const host of paginate(cm, "/groups/{groupId}/hosts", { path: { groupId } })) …
 */
export function paginate<Path extends PagedPath>(
  client: CloudManagerClient,
  path: Path,
  params?: ListParams<paths, Path>,
  options: PaginateOptions = {},
): AsyncGenerator<ListItem<paths, Path, "results">, void, undefined> {
  return paginateGet(client, path, params, "pageNum", (body: ListBody | undefined, pageNum, query) => ({
    items: (body?.results ?? []) as ListItem<paths, Path, "results">[],
    next: nextPage(body, pageNum, Number(query.itemsPerPage ?? 100)),
  }), options);
}

function nextPage(page: ListBody | undefined, pageNum: number, itemsPerPage: number): number | undefined {
  if (!page || page.results.length === 0) return undefined;
  const next = page.links?.find((link) => link.rel === "next")?.href;
  if (next) return Number(new URL(next).searchParams.get("pageNum") ?? pageNum + 1);
  if (page.links?.some((link) => link.rel === "self")) return undefined; // links given, none to a next page
  return page.totalCount !== undefined && pageNum * itemsPerPage < page.totalCount ? pageNum + 1 : undefined;
}
