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
export function summarize(request: Request): RequestSummary {
  return { method: request.method, path: new URL(request.url).pathname };
}
