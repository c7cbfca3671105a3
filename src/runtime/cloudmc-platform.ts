/**
 * The conventions of CloudMC's platform, shared by its administration API and its service
 * plugin APIs (CloudStack): the `MC-Api-Key` header, the `org_id` query parameter, the
 * `{"errors": [{code, message, context}]}` envelope and tasks polled at `GET /tasks/{id}`.
 */
import type { Middleware } from "openapi-fetch";
import { ApiError, summarize } from "./errors.js";
import { pollTask, type PollOptions } from "./poll.js";
import { withUrl } from "./transport.js";

/** One entry of the `errors` array of a failed CloudMC request. */
export interface CloudMcErrorEntry {
  code: number;
  message: string;
  context?: Record<string, unknown>;
}

/** A CloudMC answer outside 2xx. `code`, `message` and `context` are those of its first error. */
export class CloudMcApiError extends ApiError<unknown> {
  override name = "CloudMcApiError";
  /** The CloudMC error code of the first error, when the body carried one. */
  readonly code: number | undefined;
  readonly context: Record<string, unknown> | undefined;
  /** Every error of the body (empty when the body was not CloudMC's error envelope). */
  readonly errors: CloudMcErrorEntry[];

  constructor(status: number, body: unknown, request: Request) {
    const errors = isErrorEnvelope(body) ? body.errors : [];
    const first = errors[0];
    const summary = summarize(request);
    super(first?.message ?? `CloudMC answered ${status} to ${summary.method} ${summary.path}`, { status, body, request: summary });
    this.code = first?.code;
    this.context = first?.context;
    this.errors = errors;
  }
}

const isErrorEnvelope = (body: unknown): body is { errors: CloudMcErrorEntry[] } =>
  typeof body === "object" && body !== null && Array.isArray((body as { errors?: unknown }).errors);

export interface CloudMcAuthOptions {
  /** Your personal API key, sent as `MC-Api-Key`. */
  apiKey: string;
  /** Sub-organization to act in: added as `org_id` to every request that does not set it. */
  orgId?: string;
}

/** Checks the options every CloudMC client takes; the message names the option, never its value. */
export function checkRequiredStrings(factory: string, options: object, fields: readonly string[]): void {
  for (const field of fields) {
    const value = (options as Record<string, unknown>)[field];
    if (typeof value !== "string" || value === "") throw new TypeError(`${factory}: option "${field}" must be a non-empty string.`);
  }
}

/** The middleware of every CloudMC client: the API key, and the sub-organization when there is one. */
export function cloudMcMiddleware({ apiKey, orgId }: CloudMcAuthOptions): Middleware[] {
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set("MC-Api-Key", apiKey);
      return request;
    },
  };
  const subOrganization = (orgId: string): Middleware => ({
    onRequest({ request }) {
      const url = new URL(request.url);
      if (url.searchParams.has("org_id")) return request;
      url.searchParams.set("org_id", orgId);
      return withUrl(request, url);
    },
  });
  // Without an orgId there is nothing to add: no middleware to run on every request.
  return orgId ? [auth, subOrganization(orgId)] : [auth];
}

/** What `GET /tasks/{id}` answers, as far as waiting is concerned. */
export interface CloudMcTaskLike {
  taskId: string;
  taskStatus: "PENDING" | "SUCCESS" | "FAILED";
  result?: unknown;
}

/**
 * Polls a task (read with `readTask`) until it succeeds (resolves with its `result`) or fails,
 * the timeout passes, or the signal aborts: those reject with a TaskError.
 */
export function waitForCloudMcTask<Result>(
  readTask: (taskId: string, signal: AbortSignal) => Promise<CloudMcTaskLike | undefined>,
  taskId: string,
  options: PollOptions = {},
): Promise<Result> {
  return pollTask<CloudMcTaskLike, Result>(
    taskId,
    async (signal) => {
      const task = await readTask(taskId, signal);
      if (!task) throw new Error(`GET /tasks/${taskId} answered without a body.`);
      if (task.taskStatus === "SUCCESS") return { state: "succeeded", task, result: task.result as Result };
      if (task.taskStatus === "FAILED") return { state: "failed", task, message: "the task reported FAILED" };
      return { state: "pending", task };
    },
    options,
  );
}
