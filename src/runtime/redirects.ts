/**
 * Redirects, followed by the transport instead of by fetch. undici's fetch follows a redirect to
 * any origin with every header of the request but `Authorization` and cookies: CloudMC's
 * `MC-Api-Key` and CVM's token pair went along, and on a 307 or 308 the body too. So the network
 * fetch sends with `redirect: "manual"`, and this layer, above authentication, decides:
 *
 * - within the origin of the request (the client's `baseUrl`): followed, through the
 *   authentication layer again, so digest answers for the new URI and a service account's token
 *   goes along; the API key middleware set stays on the request;
 * - to another origin: CrossOriginRedirectError naming both origins (the default); or, with
 *   `crossOriginRedirects: "follow-without-credentials"`, followed on the network fetch itself,
 *   past authentication, with only the headers that describe the content (PORTABLE_HEADERS): no
 *   API key, token pair, `Authorization` or cookie, and a digest challenge from there is not
 *   answered. A chain that has left the origin never carries credentials again, back there too:
 *   the URL is then another server's choice;
 * - 303, and 301 or 302 after a POST, become a GET without a body, as fetch does; 307 and 308 keep
 *   the method and the body;
 * - at most MAX_REDIRECTS hops, fetch's own limit, then TooManyRedirectsError.
 *
 * A request sent with `redirect: "manual"` gets its 3xx answer as it is.
 */
import { CrossOriginRedirectError, TooManyRedirectsError } from "./errors.js";

/** A fetch that is also given the attempt's signal (see ./transport.ts). */
type Send = (request: Request, signal: AbortSignal) => Promise<Response>;

/** What a client does when the server redirects to another origin. */
export type CrossOriginRedirects = "error" | "follow-without-credentials";

export const CROSS_ORIGIN_REDIRECTS: readonly CrossOriginRedirects[] = ["error", "follow-without-credentials"];
export const MAX_REDIRECTS = 20;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** The headers a request keeps on its way to another origin: none says who is asking. */
const PORTABLE_HEADERS = ["Accept", "Accept-Language", "Content-Language", "Content-Type", "User-Agent"];
/** The headers that describe a body, dropped with it (fetch's "request-body-header names"). */
const BODY_HEADERS = ["Content-Encoding", "Content-Language", "Content-Location", "Content-Type"];

/**
 * `authenticated` sends with the client's credentials (the authentication layer above the
 * network), `network` without any.
 */
export function followRedirects(authenticated: Send, network: Send, crossOrigin: CrossOriginRedirects): Send {
  return async (request, signal) => {
    if (request.redirect === "manual") return authenticated(request, signal);
    let origin: string | undefined;
    let current = request;
    let credentials = true;
    for (let hops = 0; ; hops++) {
      // Sending consumes a body, and a 307 or 308 sends it again: keep a copy (none without a body).
      const spare = current.body === null ? current : current.clone();
      const response = await (credentials ? authenticated : network)(current, signal);
      const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get("Location") : null;
      if (location === null || !URL.canParse(location, current.url)) return response;
      if (hops === MAX_REDIRECTS) throw new TooManyRedirectsError(request, MAX_REDIRECTS);
      const target = new URL(location, current.url);
      origin ??= new URL(request.url).origin;
      if (target.origin !== origin) {
        if (crossOrigin === "error") throw new CrossOriginRedirectError(request, response.status, origin, target.origin);
        credentials = false;
      }
      current = await redirected(spare, target, response.status, credentials);
    }
  };
}

/** The request a redirect asks for, as fetch would make it; without credentials, only PORTABLE_HEADERS. */
async function redirected(request: Request, target: URL, status: number, credentials: boolean): Promise<Request> {
  const { method } = request;
  const toGet = ((status === 301 || status === 302) && method === "POST") || (status === 303 && method !== "GET" && method !== "HEAD");
  const headers = credentials ? new Headers(request.headers) : portable(request.headers);
  if (toGet) for (const name of BODY_HEADERS) headers.delete(name);
  // Read into memory rather than passed as a stream, so the body keeps its Content-Length.
  const body = toGet || request.body === null ? null : await request.arrayBuffer();
  return new Request(target, { method: toGet ? "GET" : method, headers, body });
}

function portable(headers: Headers): Headers {
  const kept = new Headers();
  for (const name of PORTABLE_HEADERS) {
    const value = headers.get(name);
    if (value !== null) kept.set(name, value);
  }
  return kept;
}
