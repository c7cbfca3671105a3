/**
 * Typed client for the Cloud 66 API v3.
 *
 *   const c66 = createCloud66Client({ token: process.env.CLOUD66_TOKEN! });
 *   for await (const stack of paginate(c66, "/stacks")) console.log(stack.uid, stack.name);
 *   const { data } = await c66.POST("/stacks/{stack_id}/actions", { params, body: { command: "service_restart" } });
 *   const action = await waitForAction(c66, stackId, data!.response.id);
 *
 * Timeouts, retries and the errors they end in are the shared transport's (src/runtime/transport.ts).
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "../../generated/cloud66/schema.js";
import { ApiError, summarize, TaskError } from "../runtime/errors.js";
import { paginateGet, type ListItem, type ListParams, type ListPath, type PaginateOptions } from "../runtime/paginate.js";
import { pollTask, type PollOptions } from "../runtime/poll.js";
import type { RetryOptions } from "../runtime/retry.js";
import { createTransport, type TransportOptions } from "../runtime/transport.js";

export type { components, operations, paths, PollOptions, PaginateOptions, RetryOptions };
export { TaskError };
export * from "../runtime/transport-errors.js";
export type Cloud66Client = Client<paths>;
export type StackAction = components["schemas"]["StackAction"];
export type Cloud66ErrorBody = components["schemas"]["Error"];

export const CLOUD66_API = "https://app.cloud66.com/api/3";

/** A Cloud 66 answer outside 2xx, with the error fields the server sent (all optional). */
export class Cloud66ApiError extends ApiError<unknown> {
  override name = "Cloud66ApiError";
  /** Short error identifier, e.g. `unauthenticated`. */
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  readonly details: string | undefined;

  constructor(status: number, body: unknown, request: Request) {
    const fields = typeof body === "object" && body !== null ? (body as Cloud66ErrorBody) : {};
    const summary = summarize(request);
    super(fields.error_description ?? fields.error ?? `Cloud 66 answered ${status} to ${summary.method} ${summary.path}`, { status, body, request: summary });
    this.error = fields.error;
    this.errorDescription = fields.error_description;
    this.details = fields.details;
  }
}

export interface Cloud66ClientOptions extends TransportOptions {
  /** An OAuth 2 access token or a personal access token, sent as `Authorization: Bearer …`. */
  token: string;
  /** API root; defaults to https://app.cloud66.com/api/3 (the mock: http://127.0.0.1:4012/api/3). */
  baseUrl?: string;
}

export function createCloud66Client(options: Cloud66ClientOptions): Cloud66Client {
  if (typeof options.token !== "string" || options.token === "") {
    throw new TypeError('createCloud66Client: option "token" must be a non-empty string.');
  }
  const transport = createTransport("createCloud66Client", options, Cloud66ApiError);
  const client = createClient<paths>({ baseUrl: options.baseUrl ?? CLOUD66_API, ...transport });
  client.use(bearer(options.token));
  return client;
}

const bearer = (token: string): Middleware => ({
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
});

/**
 * Polls `GET /stacks/{stack_id}/actions/{id}` until the action has finished: resolves with the
 * finished action when `finished_success` is true; rejects with a TaskError whose `reason` is
 * `failed` (with `finished_message`), `timeout` or `aborted` otherwise.
 */
export function waitForAction(client: Cloud66Client, stackId: string, actionId: number, options: PollOptions = {}): Promise<StackAction> {
  return pollTask<StackAction, StackAction>(
    String(actionId),
    async (signal) => {
      const { data } = await client.GET("/stacks/{stack_id}/actions/{id}", { params: { path: { stack_id: stackId, id: actionId } }, signal });
      const action = data?.response;
      if (!action) throw new Error(`GET /stacks/${stackId}/actions/${actionId} answered without an action.`);
      if (action.finished_at === null || action.finished_at === undefined) return { state: "pending", task: action };
      if (action.finished_success === true) return { state: "succeeded", task: action, result: action };
      return { state: "failed", task: action, message: action.finished_message ?? "the action did not succeed" };
    },
    options,
  );
}

type PagedPath = ListPath<paths, { response: readonly unknown[]; pagination?: unknown }>;

/**
 * Every item of a paged list, page after page (`?page=N`, following `pagination.next`). Pages are
 * fetched as the loop consumes them.
 *
 *   for await (const server of paginate(c66, "/stacks/{stack_id}/servers", { path: { stack_id } })) …
 */
export function paginate<Path extends PagedPath>(
  client: Cloud66Client,
  path: Path,
  params?: ListParams<paths, Path>,
  options: PaginateOptions = {},
): AsyncGenerator<ListItem<paths, Path, "response">, void, undefined> {
  type Body = { response?: ListItem<paths, Path, "response">[]; pagination?: { next?: number | null } };
  return paginateGet(client, path, params, "page", (body: Body | undefined) => ({ items: body?.response ?? [], next: body?.pagination?.next ?? undefined }), options);
}
