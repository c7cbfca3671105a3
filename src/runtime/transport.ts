/**
 * How every client talks to its server, from the bottom up:
 *
 *   the network `fetch` (the global one, or the caller's), sending with `redirect: "manual"` and
 *     reading each answer whole, at most `maxResponseBytes` of it, before passing it up (./body.ts)
 *   authentication that needs a round trip of its own, when a client has one (Cloud Manager's digest
 *     or service account token)
 *   redirects (./redirects.ts): followed within the origin, through authentication again; to
 *     another origin, an error, or (opted in) followed on the network fetch without credentials
 *   one attempt: its own timeout combined with the caller's signal; failures become typed errors
 *   retries (./retry.ts: 429 and 503 for any method, a failed attempt for idempotent ones)
 *   the API's errors: an answer outside 2xx, after the last retry, thrown as the client's ApiError
 *   openapi-fetch and the client's middleware; openapi-fetch parses a 2xx body with the answer's
 *     `json()`, which parses once and throws InvalidResponseError for a body that is not JSON
 *
 * An attempt ends with its answer's body read, so nothing of it (timer, signal, the request it
 * sent) is kept after it. The caller's own abort is never turned into a typed error: it stays the
 * standard AbortError.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { readWhole } from "./body.js";
import { ConnectionError, readErrorBody, RequestTimeoutError, type ApiError } from "./errors.js";
import { CROSS_ORIGIN_REDIRECTS, followRedirects, type CrossOriginRedirects } from "./redirects.js";
import { retryingFetch, type RetryOptions } from "./retry.js";

export type Fetch = (request: Request) => Promise<Response>;
export type { CrossOriginRedirects };

/** Options every client takes for the way it sends requests. */
export interface TransportOptions {
  /** A `fetch` to send requests with (tests, proxies), beneath retries and timeouts. Defaults to the global one. */
  fetch?: Fetch;
  /** Longest wait for one attempt, from sending it to the end of its answer (default 30 000 ms). */
  timeoutMs?: number;
  /**
   * Retries: 429 and 503 for any method (honouring Retry-After), a dropped connection or a timed-out
   * attempt for GET, HEAD, OPTIONS, PUT and DELETE only (default: 3 retries from 500 ms); `false`
   * sends each request once.
   */
  retry?: RetryOptions | false;
  /** Longest answer body read, in bytes (default 64 MiB); a longer one throws ResponseTooLargeError. */
  maxResponseBytes?: number;
  /**
   * A redirect to another origin than `baseUrl`'s: `"error"` (default) throws CrossOriginRedirectError;
   * `"follow-without-credentials"` follows it without the API key, tokens or `Authorization`.
   */
  crossOriginRedirects?: CrossOriginRedirects;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** What each layer beneath the attempt is: a fetch that is also given the attempt's signal. */
type Send = (request: Request, signal: AbortSignal) => Promise<Response>;

/**
 * An authentication layer that needs round trips of its own (a challenge, a token): it sends
 * `request`, and whatever else it needs, through `send` with the attempt's `signal`.
 */
export type Authentication = (request: Request, send: Send, signal: AbortSignal) => Promise<Response>;

/** A client's error for an answer outside 2xx, made from its status, its body (JSON, else text) and the request. */
export type ApiErrorClass = new (status: number, body: unknown, request: Request) => ApiError;

/** What openapi-fetch's `createClient` sends with: spread into its options. */
export interface Transport {
  fetch: Fetch;
  Request: typeof ClientRequest;
}

/**
 * Builds a client's transport, the `fetch` (and the Request class) to give openapi-fetch's
 * `createClient`; `factory` names the client in the TypeError of a bad option, and an answer outside
 * 2xx (after the last retry) throws `apiError`. `authentication`, when the client has one, sits
 * between the network fetch and redirects, so that one attempt's timeout covers the challenge or
 * token round trip too.
 */
export function createTransport(factory: string, options: TransportOptions, apiError: ApiErrorClass, authentication?: Authentication): Transport {
  checkOptions(factory, options);
  const { timeoutMs = DEFAULT_TIMEOUT_MS, retry = {}, maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES, crossOriginRedirects = "error" } = options;
  const network = networkFetch(options.fetch, maxResponseBytes);
  const authenticated: Send = authentication === undefined ? network : (request, signal) => authentication(request, network, signal);
  const attempt = timedAttempt(followRedirects(authenticated, network, crossOriginRedirects), timeoutMs);
  return { fetch: throwingApiErrors(retry === false ? attempt : retryingFetch(attempt, retry), apiError), Request: ClientRequest };
}

/**
 * The Request openapi-fetch builds each call with: one that notes whether the caller gave it a
 * signal. A request's signal follows only the one it was made with, so without one it never aborts,
 * and an attempt need not listen to it: a listener on an AbortSignal is some 3 µs of a loopback
 * call in Node 20, more than a tenth of what the transport costs (bench/README.md). A request made
 * any other way (by a middleware, for a retry) is listened to.
 */
export class ClientRequest extends Request {
  /**
   * openapi-fetch checks the request a middleware returns against the class it builds with: any
   * Request will do (withUrl's, a caller's own `new Request`), as with openapi-fetch's default.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Request;
  }

  readonly mayAbort: boolean;

  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(input, init);
    this.mayAbort = init?.signal != null || input instanceof Request;
  }
}

const mayAbort = (request: Request) => (request as Partial<ClientRequest>).mayAbort !== false;

/**
 * Every answer outside 2xx thrown as the API's error, here rather than by a middleware: a client
 * with middleware makes openapi-fetch build a context and await every hook of every call (about 5
 * µs of a loopback call in Node 20, bench/README.md), and Cloud Manager's has no other. So a
 * middleware of the caller's sees an error answer in `onError`, as this error, not in `onResponse`.
 */
function throwingApiErrors(send: Fetch, apiError: ApiErrorClass): Fetch {
  return async (request) => {
    const response = await send(request);
    if (response.ok) return response;
    throw new apiError(response.status, await readErrorBody(response), request);
  };
}

/*
 * Why the attempt's signal is handed down beside the Request rather than on it: in Node 20, undici
 * links a clone's signal to its original's only through a WeakRef to the clone's AbortController,
 * which nothing else holds, so a clone (digest and service accounts clone every request they send)
 * stops following once garbage collection has run, and a timeout or an abort lost that way leaves
 * the call hanging. So each layer gets the attempt's signal as an argument, and the network fetch
 * at the bottom sends each request with it. The attempt's AbortController is held by its timer,
 * cleared when the attempt ends (its body read), and by a listener on the request's own signal,
 * which goes with the request. test/clients/failures.test.ts forces collections before the answer
 * and halfway through its body to hold this in place; test/clients/bounded.test.ts checks that
 * nothing is left once a call has returned.
 */

/** One attempt under its own timeout; the timer starts with the attempt, so waits between retries do not count. */
function timedAttempt(send: Send, timeoutMs: number): Fetch {
  return async (request) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), timeoutMs);
    // Not removed after the attempt (that costs more than the rest of this function): it goes with
    // the request, and aborting a finished attempt does nothing.
    if (request.signal.aborted) controller.abort(request.signal.reason);
    else if (mayAbort(request)) request.signal.addEventListener("abort", () => controller.abort(request.signal.reason));
    try {
      return await send(request, controller.signal);
    } catch (error) {
      throw typedFailure(error, request, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The network fetch: each request sent with the signal of the attempt it belongs to and without
 * following redirects, and its answer read whole (see ./body.ts) before it goes up. The global
 * fetch takes those as its init; a caller's fetch, which takes a Request only, gets a copy.
 */
function networkFetch(fetchOption: Fetch | undefined, maxResponseBytes: number): Send {
  const send = fetchOption === undefined
    ? (request: Request, init: RequestInit) => fetch(request, init)
    : (request: Request, init: RequestInit) => fetchOption(new Request(request, init));
  return async (request, signal) => {
    const response = await send(request, { signal, redirect: "manual" });
    return readWhole(response, request, maxResponseBytes, signal);
  };
}

/**
 * An authentication layer built once around a fetch, as service-account.ts's is, made an
 * Authentication: each call's `send` reaches it as async context. Node 20's AsyncLocalStorage
 * hooks every promise of the process once in use (about 25 µs, 8% of a loopback call, when the
 * transport used it for every client), which is why a layer that can take `send` per call (digest)
 * does.
 */
export function aroundFetch(layer: (send: Fetch) => Fetch): Authentication {
  const current = new AsyncLocalStorage<Fetch>();
  const wrapped = layer((request) => current.getStore()!(request));
  return (request, send, signal) => current.run((sent) => send(sent, signal), () => wrapped(request));
}

/** Requests made from another (see `withUrl`), each mapped to the one it was made from. */
const madeFrom = new WeakMap<Request, Request>();

/**
 * `request` sent to another URL, for middleware. The copy's signal follows the original's, and in
 * Node 20 only while the original is reachable (see above), so the copy keeps it reachable: the
 * caller's abort must still arrive.
 */
export function withUrl(request: Request, url: string | URL): Request {
  const copy = new Request(url, request);
  madeFrom.set(copy, request);
  return copy;
}

/**
 * What fetch threw, as a typed error: a DOMException `TimeoutError` is the attempt's own timer (the
 * caller's signal has not aborted), and a TypeError is fetch's way of saying the network failed.
 * The caller's abort, and anything else, is passed on as it is.
 */
function typedFailure(error: unknown, request: Request, timeoutMs: number): unknown {
  if (request.signal.aborted) return error;
  if (error instanceof DOMException && error.name === "TimeoutError") return new RequestTimeoutError(request, timeoutMs, error);
  if (error instanceof TypeError) return new ConnectionError(request, error);
  return error;
}

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer one would fire at once. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

function checkOptions(factory: string, { timeoutMs, retry, maxResponseBytes, crossOriginRedirects }: TransportOptions): void {
  const invalid = (option: string, rule: string) => new TypeError(`${factory}: option "${option}" must be ${rule}.`);
  // NaN and Infinity fail these comparisons too.
  const isDelay = (value: unknown): value is number => typeof value === "number" && value >= 0 && value <= LONGEST_TIMER_MS;
  if (timeoutMs !== undefined && !(isDelay(timeoutMs) && timeoutMs > 0)) {
    throw invalid("timeoutMs", `a positive finite number of milliseconds (at most ${LONGEST_TIMER_MS})`);
  }
  if (maxResponseBytes !== undefined && !(Number.isSafeInteger(maxResponseBytes) && maxResponseBytes > 0)) {
    throw invalid("maxResponseBytes", "a whole number of bytes, 1 or more");
  }
  if (crossOriginRedirects !== undefined && !CROSS_ORIGIN_REDIRECTS.includes(crossOriginRedirects)) {
    throw invalid("crossOriginRedirects", CROSS_ORIGIN_REDIRECTS.map((value) => `"${value}"`).join(" or "));
  }
  if (retry === undefined || retry === false) return;
  if (typeof retry !== "object" || retry === null) throw invalid("retry", "retry options or false");
  if (retry.retries !== undefined && !(Number.isInteger(retry.retries) && retry.retries >= 0)) throw invalid("retry.retries", "a whole number, 0 or more");
  for (const field of ["baseDelayMs", "maxDelayMs"] as const) {
    if (retry[field] !== undefined && !isDelay(retry[field])) throw invalid(`retry.${field}`, `a number of milliseconds from 0 to ${LONGEST_TIMER_MS}`);
  }
}
