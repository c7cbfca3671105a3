/**
 * Typed client for the CloudMC API v2 (administration).
 *
 *   const mc = createCloudMcClient({ baseUrl: "https://portal.example.net/api/v2", apiKey });
 *   const { data } = await mc.GET("/organizations");            // throws CloudMcApiError on 4xx/5xx
 *   const task = await mc.POST("/organizations", { body });     // { taskId, taskStatus, ... }
 *   const result = await waitForTask(mc, task.data!.taskId);
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "../../generated/cloudmc/schema.js";
import { ApiError, readErrorBody, summarize, TaskError } from "../runtime/errors.js";
import { pollTask, type PollOptions } from "../runtime/poll.js";

export type { components, operations, paths };
export { TaskError };
export type { PollOptions };
export type CloudMcClient = Client<paths>;
/** One entry of the `errors` array of a failed request. */
export type CloudMcError = components["schemas"]["Error"];
export type CloudMcErrorBody = components["schemas"]["ErrorEnvelope"];
export type CloudMcTask = components["schemas"]["Task"];

/** A CloudMC answer outside 2xx. `code`, `message` and `context` are those of its first error. */
export class CloudMcApiError extends ApiError<CloudMcErrorBody | unknown> {
  override name = "CloudMcApiError";
  /** The CloudMC error code of the first error, when the body carried one. */
  readonly code: number | undefined;
  readonly context: Record<string, unknown> | undefined;
  /** Every error of the body (empty when the body was not CloudMC's error envelope). */
  readonly errors: CloudMcError[];

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

const isErrorEnvelope = (body: unknown): body is CloudMcErrorBody =>
  typeof body === "object" && body !== null && Array.isArray((body as { errors?: unknown }).errors);

export interface CloudMcClientOptions {
  /** API root, e.g. `https://portal.example.net/api/v2` (or the mock's `http://127.0.0.1:4010/api/v2`). */
  baseUrl: string;
  /** Your personal API key, sent as `MC-Api-Key`. */
  apiKey: string;
  /** Sub-organization to act in: added as `org_id` to every request that does not set it. */
  orgId?: string;
  /** A `fetch` to send requests with (tests, proxies, retries). Defaults to the global one. */
  fetch?: (request: Request) => Promise<Response>;
}

export function createCloudMcClient(options: CloudMcClientOptions): CloudMcClient {
  for (const field of ["baseUrl", "apiKey"] as const) {
    if (typeof options[field] !== "string" || options[field] === "") {
      throw new TypeError(`createCloudMcClient: option "${field}" must be a non-empty string.`);
    }
  }
  const client = createClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  client.use(apiKeyAuth(options.apiKey));
  if (options.orgId) client.use(subOrganization(options.orgId));
  client.use(throwOnError);
  return client;
}

const apiKeyAuth = (apiKey: string): Middleware => ({
  onRequest({ request }) {
    request.headers.set("MC-Api-Key", apiKey);
    return request;
  },
});

const subOrganization = (orgId: string): Middleware => ({
  onRequest({ request }) {
    const url = new URL(request.url);
    if (url.searchParams.has("org_id")) return request;
    url.searchParams.set("org_id", orgId);
    return new Request(url, request);
  },
});

const throwOnError: Middleware = {
  async onResponse({ request, response }) {
    if (response.ok) return response;
    throw new CloudMcApiError(response.status, await readErrorBody(response), request);
  },
};

/**
 * Polls `GET /tasks/{id}` until the task succeeds (resolves with its `result`) or fails, the
 * timeout passes, or `signal` aborts: those reject with a TaskError whose `reason` is `failed`,
 * `timeout` or `aborted`.
 */
export function waitForTask<Result = unknown>(client: CloudMcClient, taskId: string, options: PollOptions = {}): Promise<Result> {
  return pollTask<CloudMcTask, Result>(
    taskId,
    async (signal) => {
      const { data: task } = await client.GET("/tasks/{id}", { params: { path: { id: taskId } }, signal });
      if (!task) throw new Error(`GET /tasks/${taskId} answered without a body.`);
      if (task.taskStatus === "SUCCESS") return { state: "succeeded", task, result: task.result as Result };
      if (task.taskStatus === "FAILED") return { state: "failed", task, message: "the task reported FAILED" };
      return { state: "pending", task };
    },
    options,
  );
}
