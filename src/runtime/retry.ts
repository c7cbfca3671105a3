/**
 * Retrying 429 and 503 answers with backoff that honours `Retry-After`, as a `fetch` beneath the
 * middleware chain (openapi-fetch does not retry by design). The loop itself is fetch-retry's;
 * this module decides what is retried and how long to wait, and sends a fresh clone of the request
 * each time so a body can be sent again.
 */
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
  return (request) => {
    const withRetries = fetchRetry((original: Request) => send(original.clone()), {
      retries,
      // Answers the server refused for load are retried for any method (it did not act on them);
      // a dropped connection only for methods that are safe to repeat.
      retryOn: (attempt, error, response) =>
        attempt < retries && (error !== null ? IDEMPOTENT.has(request.method) : statuses.includes(response!.status)),
      retryDelay: (attempt, _error, response) =>
        Math.min(maxDelayMs, retryAfterMs(response?.headers.get("Retry-After") ?? null) ?? baseDelayMs * 2 ** attempt),
    });
    return withRetries(request);
  };
}
