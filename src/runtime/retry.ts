/**
 * Retries as a `fetch` beneath the middleware chain (openapi-fetch does not retry by design). The
 * loop is fetch-retry's, which sends a fresh clone of the request each time so a body can be sent
 * again; this module decides what is retried and how long to wait:
 *
 * - an answer with a status in `statuses` (429 and 503) is retried for any method: the server
 *   refused the request for load and did not act on it. The wait is what `Retry-After` says
 *   (seconds or an HTTP date), else `baseDelayMs` doubled each time; never more than `maxDelayMs`;
 * - a thrown error (a dropped connection, a timed-out attempt) only for idempotent methods (GET,
 *   HEAD, OPTIONS, PUT, DELETE): the server may have acted before the failure, and repeating a POST
 *   could do it twice;
 * - nothing else: 400, 401, 404 and 500 are answers, not accidents.
 *
 * Once the caller's own signal aborts, the wait before a retry ends at once with their abort reason.
 *
 * After the last attempt the caller gets its answer (the 429 or 503) or its error as it is.
 */
import { setTimeout as sleep } from "node:timers/promises";
import fetchRetry from "fetch-retry";

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

  return (request) => {
    const retryable = (error: Error | null, response: Response | null) =>
      error !== null ? IDEMPOTENT.has(request.method) : statuses.includes(response!.status);
    // fetch-retry sends a clone each time (so a body can be sent again), and in Node 20 a clone's
    // signal stops following the original's once garbage collection has run: give it back.
    const resend = (copy: Request) => send(new Request(copy, { signal: request.signal }));
    return fetchRetry(resend, {
      retries,
      // The wait happens in retryOn rather than in fetch-retry's retryDelay, whose timer cannot be
      // cancelled: a caller who aborts during a long Retry-After gets the AbortError at once.
      retryDelay: 0,
      retryOn: async (attempt, error, response) => {
        if (attempt >= retries || !retryable(error, response)) return false;
        await response?.body?.cancel(); // this answer is dropped: free its connection now
        await wait(delayMs(attempt, response), request.signal);
        return true;
      },
    })(request);
  };
}

/** Waits `ms`, or rejects with the signal's reason, as fetch does, as soon as it aborts. */
async function wait(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  }
}
