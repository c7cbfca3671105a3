/** Errors every client shares. Messages name the request, never a credential. */

export interface RequestSummary {
  method: string;
  /** URL path of the request (no host, no query: a query may carry identifiers the caller passed). */
  path: string;
}

/** An HTTP answer outside 2xx, with the vendor's error body as the client parsed it. */
export class ApiError<Body = unknown> extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly body: Body;
  readonly request: RequestSummary;

  constructor(message: string, options: { status: number; body: Body; request: RequestSummary }) {
    super(message);
    this.status = options.status;
    this.body = options.body;
    this.request = options.request;
  }
}

/**
 * The exchange itself failed, beneath the API: no usable answer arrived. Subclasses say how; the
 * failure underneath (fetch's own error) is the `cause`.
 */
export class TransportError extends Error {
  override name = "TransportError";
  readonly request: RequestSummary;

  constructor(message: string, options: { request: RequestSummary; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.request = options.request;
  }
}

/** An attempt took longer than the client's `timeoutMs`, from sending it to the end of its answer. */
export class RequestTimeoutError extends TransportError {
  override name = "RequestTimeoutError";
  readonly timeoutMs: number;

  constructor(request: Request, timeoutMs: number, cause?: unknown) {
    const summary = summarize(request);
    super(`${summary.method} ${summary.path} timed out after ${timeoutMs} ms`, { request: summary, cause });
    this.timeoutMs = timeoutMs;
  }
}

/** The connection was refused, reset, or closed before the whole answer arrived. */
export class ConnectionError extends TransportError {
  override name = "ConnectionError";

  constructor(request: Request, cause: unknown) {
    const summary = summarize(request);
    super(`${summary.method} ${summary.path}: the connection failed (${innermostMessage(cause)})`, { request: summary, cause });
  }
}

/**
 * A 2xx answer whose body is not the JSON the contract promises: a proxy's HTML page, a truncated
 * body. The message gives the status and content type, never the body (it may echo the request).
 */
export class InvalidResponseError extends TransportError {
  override name = "InvalidResponseError";
  readonly status: number;
  /** The answer's `Content-Type`, when it had one. */
  readonly contentType: string | undefined;

  constructor(request: Pick<Request, "method" | "url">, response: Response) {
    const summary = summarize(request);
    const contentType = response.headers.get("Content-Type") ?? undefined;
    super(`${summary.method} ${summary.path} answered ${response.status} with a body that is not JSON (Content-Type: ${contentType ?? "none"})`, { request: summary });
    this.status = response.status;
    this.contentType = contentType;
  }
}

/**
 * An answer whose body is longer than the client's `maxResponseBytes`: the client stopped reading
 * and closed the connection. The message gives the status and the limit, never the body.
 */
export class ResponseTooLargeError extends TransportError {
  override name = "ResponseTooLargeError";
  readonly status: number;
  readonly maxResponseBytes: number;

  constructor(request: Request, status: number, maxResponseBytes: number) {
    const summary = summarize(request);
    super(`${summary.method} ${summary.path} answered ${status} with a body over the limit of ${maxResponseBytes} bytes (maxResponseBytes)`, { request: summary });
    this.status = status;
    this.maxResponseBytes = maxResponseBytes;
  }
}

/**
 * The server redirected to another origin, and the client does not follow it: its credentials
 * belong to its own origin only. `from` and `to` are origins (scheme, host, port), never paths or
 * queries, which may carry a token.
 */
export class CrossOriginRedirectError extends TransportError {
  override name = "CrossOriginRedirectError";
  /** The redirect's status: 301, 302, 303, 307 or 308. */
  readonly status: number;
  readonly from: string;
  readonly to: string;

  constructor(request: Request, status: number, from: string, to: string) {
    const summary = summarize(request);
    super(
      `${summary.method} ${summary.path} was redirected (${status}) from ${from} to another origin, ${to}; the client sends its credentials to ${from} only ` +
        '(crossOriginRedirects: "follow-without-credentials" follows such redirects without them)',
      { request: summary },
    );
    this.status = status;
    this.from = from;
    this.to = to;
  }
}

/** The server kept redirecting: more hops than the client follows for one attempt. */
export class TooManyRedirectsError extends TransportError {
  override name = "TooManyRedirectsError";
  readonly maxRedirects: number;

  constructor(request: Request, maxRedirects: number) {
    const summary = summarize(request);
    super(`${summary.method} ${summary.path} was redirected more than ${maxRedirects} times`, { request: summary });
    this.maxRedirects = maxRedirects;
  }
}

/** The message at the bottom of a cause chain: fetch says "fetch failed", its cause says why. */
function innermostMessage(error: unknown): string {
  let innermost = error;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  return innermost instanceof Error ? innermost.message : String(innermost);
}

/** Why waiting for a background task (CloudMC task, Cloud 66 action) stopped without a result. */
export type TaskErrorReason = "failed" | "timeout" | "aborted";

export class TaskError<Task = unknown> extends Error {
  override name = "TaskError";
  readonly reason: TaskErrorReason;
  readonly taskId: string;
  /** The task as last seen, when it was seen at all. */
  readonly task: Task | undefined;

  constructor(message: string, options: { reason: TaskErrorReason; taskId: string; task?: Task; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason;
    this.taskId = options.taskId;
    this.task = options.task;
  }
}

/** Reads a response body as JSON when it is JSON, else as text; never throws. */
export async function readErrorBody(response: Response): Promise<unknown> {
  const text = await response.clone().text().catch(() => "");
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The request half of an error: method and path only. */
export function summarize(request: Pick<Request, "method" | "url">): RequestSummary {
  return { method: request.method, path: new URL(request.url).pathname };
}
