/**
 * How every client talks to its server, from the bottom up:
 *
 *   the network `fetch` (the global one, or the caller's)
 *   authentication that needs a round trip of its own, when a client has one (Cloud Manager's digest)
 *   one attempt: its own timeout combined with the caller's signal; failures become typed errors
 *   retries (./retry.ts: 429 and 503 for any method, a failed attempt for idempotent ones)
 *   openapi-fetch, whose middleware includes `transport.middleware`: a 2xx body must be JSON
 *
 * The caller's own abort is never turned into a typed error: it stays the standard AbortError.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Middleware } from "openapi-fetch";
import { ConnectionError, InvalidResponseError, RequestTimeoutError } from "./errors.js";
import { retryingFetch, type RetryOptions } from "./retry.js";

export type Fetch = (request: Request) => Promise<Response>;

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
}

export interface Transport {
  /** The `fetch` to give openapi-fetch's `createClient`. */
  fetch: Fetch;
  /** Middleware to `use` on the client: a 2xx answer whose body is not JSON throws InvalidResponseError. */
  middleware: Middleware;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Builds a client's transport; `factory` names the client in the TypeError of a bad option.
 * `authenticate` wraps the network fetch in an authentication layer that answers challenges
 * itself, so that one attempt's timeout covers the challenge round trip too.
 */
export function createTransport(factory: string, options: TransportOptions, authenticate: (send: Fetch) => Fetch = (send) => send): Transport {
  checkOptions(factory, options);
  const { timeoutMs = DEFAULT_TIMEOUT_MS, retry = {} } = options;
  const network = withAttemptSignal(options.fetch ?? ((request: Request) => fetch(request)), timeoutMs);
  const attempt = timedAttempt(authenticate(network), timeoutMs);
  return {
    fetch: retry === false ? attempt : retryingFetch(attempt, retry),
    middleware: expectJson(timeoutMs),
  };
}

/*
 * Why the attempt's signal does not simply ride down on the Request: in Node 20, undici links a
 * Request's signal to its source only weakly, and a clone's (digest clones every request it sends)
 * stops following once garbage collection has run; AbortSignal.any holds its sources, the timeout
 * among them, weakly too. A timeout or an abort lost that way leaves the call hanging. So the
 * attempt's signal travels down as async context, the network fetch at the bottom attaches it to
 * the Request it sends, and each layer keeps what it made reachable for as long as it may abort.
 * test/clients/failures.test.ts forces collections mid-request to hold this in place.
 */
const attemptSignal = new AsyncLocalStorage<AbortSignal>();

/** One attempt under its own timeout; the timer starts with the attempt, so waits between retries do not count. */
function timedAttempt(send: Fetch, timeoutMs: number): Fetch {
  return async (request) => {
    const timeout = AbortSignal.timeout(Math.ceil(timeoutMs));
    const signal = AbortSignal.any([request.signal, timeout]);
    keepReachable(timeoutMs, request, timeout, signal);
    try {
      return await attemptSignal.run(signal, () => send(request));
    } catch (error) {
      throw typedFailure(error, request, timeoutMs);
    }
  };
}

/** The network fetch, sending each request with the signal of the attempt it belongs to. */
function withAttemptSignal(send: Fetch, timeoutMs: number): Fetch {
  return (request) => {
    const sent = new Request(request, { signal: attemptSignal.getStore() });
    keepReachable(timeoutMs, sent);
    return send(sent);
  };
}

/**
 * Keeps `values` reachable for `ms`: an attempt can be aborted only within its timeout. The cost:
 * a finished attempt's request and signals stay in memory until its timeout would have passed
 * (30 s by default), some kilobytes each; lower `timeoutMs` for very high request rates.
 */
function keepReachable(ms: number, ...values: unknown[]): void {
  setTimeout(() => values, ms).unref();
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
 * A 2xx answer that openapi-fetch will parse as JSON (its default `parseAs`) must be JSON or empty.
 * Judged by parsing the body, not by its Content-Type: CVM's PHP answers JSON as `text/html`. The
 * body is read from a clone, so openapi-fetch still reads the original (from memory, by then), and
 * a timeout or dropped connection while reading it fails the same way as one before the answer.
 */
function expectJson(timeoutMs: number): Middleware {
  return {
    async onResponse({ request, response, options }) {
      if (!response.ok || response.status === 204 || request.method === "HEAD" || options.parseAs !== "json") return undefined;
      const text = await response.clone().text().catch((error: unknown) => {
        throw typedFailure(error, request, timeoutMs);
      });
      if (text !== "" && !isJson(text)) throw new InvalidResponseError(request, response);
      return undefined;
    },
  };
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

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer one would fire at once. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

function checkOptions(factory: string, { timeoutMs, retry }: TransportOptions): void {
  const invalid = (option: string, rule: string) => new TypeError(`${factory}: option "${option}" must be ${rule}.`);
  // NaN and Infinity fail these comparisons too.
  const isDelay = (value: unknown): value is number => typeof value === "number" && value >= 0 && value <= LONGEST_TIMER_MS;
  if (timeoutMs !== undefined && !(isDelay(timeoutMs) && timeoutMs > 0)) {
    throw invalid("timeoutMs", `a positive finite number of milliseconds (at most ${LONGEST_TIMER_MS})`);
  }
  if (retry === undefined || retry === false) return;
  if (typeof retry !== "object" || retry === null) throw invalid("retry", "retry options or false");
  if (retry.retries !== undefined && !(Number.isInteger(retry.retries) && retry.retries >= 0)) throw invalid("retry.retries", "a whole number, 0 or more");
  for (const field of ["baseDelayMs", "maxDelayMs"] as const) {
    if (retry[field] !== undefined && !isDelay(retry[field])) throw invalid(`retry.${field}`, `a number of milliseconds from 0 to ${LONGEST_TIMER_MS}`);
  }
}
