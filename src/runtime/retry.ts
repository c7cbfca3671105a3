/**
 * Retries as a `fetch` beneath the middleware chain (openapi-fetch does not retry by design). Each
 * attempt sends the request itself when it has no body, else a fresh copy, so the body can be sent
 * again. What is retried, and how long to wait:
 *
 * - an answer with a status in `statuses` (429 and 503) is retried for any method: the server
 *   refused the request for load and did not act on it. The wait is what `Retry-After` says
 *   (seconds or an HTTP date), else `baseDelayMs` doubled each time; never more than `maxDelayMs`;
 * - a thrown error (a dropped connection, a timed-out attempt) only for idempotent methods (GET,
 *   HEAD, OPTIONS, PUT, DELETE): the server may have acted before the failure, and repeating a POST
 *   could do it twice;
 * - nothing else: 400, 401, 404 and 500 are answers, not accidents, and neither are a body over
 *   `maxResponseBytes` or a redirect the client refuses to follow.
 *
 * Once the caller's own signal aborts, the wait before a retry ends at once with their abort reason.
 *
 * After the last attempt the caller gets its answer (the 429 or 503) or its error as it is.
 *
 * The loop is written here rather than taken from fetch-retry (which this module used before): with
 * a clone of every request, even the first, and its promise plumbing, fetch-retry cost 20–25 µs a
 * loopback call in Node 20, more than all the rest of the transport (bench/README.md).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CrossOriginRedirectError, ResponseTooLargeError, TooManyRedirectsError } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff delay when the server gives no Retry-After, doubled each time (default 500 ms). */
  baseDelayMs?: number;
  /** Longest wait, whatever Retry-After says (default 30 s). */
  maxDelayMs?: number;
  /** Statuses to retry (default 429 and 503). */
  statuses?: readonly number[];
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/** Failures that would fail the same way again. */
const isFinal = (error: Error) => error instanceof ResponseTooLargeError || error instanceof CrossOriginRedirectError || error instanceof TooManyRedirectsError;

/** Seconds or an HTTP date, as RFC 9110 allows; `undefined` when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function retryingFetch(
  send: (request: Request) => Promise<Response>,
  options: RetryOptions = {},
): (request: Request) => Promise<Response> {
  const { retries = 3, baseDelayMs = 500, maxDelayMs = 30_000, statuses = [429, 503] } = options;
  const delayMs = (attempt: number, response: Response | null) =>
    Math.min(maxDelayMs, retryAfterMs(response?.headers.get("Retry-After") ?? null) ?? baseDelayMs * 2 ** attempt);

  return async (request) => {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries;
      // In Node 20 a clone's signal stops following the original's once garbage collection has
      // run: the copy gets the original's signal itself.
      const sent = request.body === null ? request : new Request(request.clone(), { signal: request.signal });
      let response: Response;
      try {
        response = await send(sent);
      } catch (error) {
        if (last || !IDEMPOTENT.has(request.method) || (error instanceof Error && isFinal(error))) throw error;
        await wait(delayMs(attempt, null), request.signal);
        continue;
      }
      if (last || !statuses.includes(response.status)) return response;
      await dropAndWait(response, delayMs(attempt, response), request.signal);
    }
  };
}

/** Lets go of the answer to be retried (freeing its connection), then waits. */
async function dropAndWait(response: Response, ms: number, signal: AbortSignal): Promise<void> {
  await response.body?.cancel();
  await wait(ms, signal);
}

/** Waits `ms`, or rejects with the signal's reason, as fetch does, as soon as it aborts. */
async function wait(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  }
}
