/**
 * Typed client for the CloudMC API v2 (administration).
 *
 *   const mc = createCloudMcClient({ baseUrl: "https://portal.example.net/api/v2", apiKey });
 *   const { data } = await mc.GET("/organizations");            // throws CloudMcApiError on 4xx/5xx
 *   const created = await mc.POST("/organizations", { body });  // { taskId, taskStatus, data }
 *   const result = await waitForTask(mc, created.data!.taskId);
 *
 * Timeouts, retries and the errors they end in are the shared transport's (src/runtime/transport.ts).
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, operations, paths } from "../../generated/cloudmc/schema.js";
import { TaskError } from "../runtime/errors.js";
import { checkRequiredStrings, CloudMcApiError, cloudMcMiddleware, waitForCloudMcTask, type CloudMcErrorEntry } from "../runtime/cloudmc-platform.js";
import type { PollOptions } from "../runtime/poll.js";
import type { RetryOptions } from "../runtime/retry.js";
import { createTransport, type TransportOptions } from "../runtime/transport.js";

export type { components, operations, paths, CloudMcErrorEntry, PollOptions, RetryOptions };
export { CloudMcApiError, TaskError };
export * from "../runtime/transport-errors.js";
export type CloudMcClient = Client<paths>;
export type CloudMcErrorBody = components["schemas"]["ErrorEnvelope"];
export type CloudMcTask = components["schemas"]["Task"];

export interface CloudMcClientOptions extends TransportOptions {
  /** API root, e.g. `https://portal.example.net/api/v2` (or the mock's `http://127.0.0.1:4010/api/v2`). */
  baseUrl: string;
  /** Your personal API key, sent as `MC-Api-Key`. */
  apiKey: string;
  /** Sub-organization to act in: added as `org_id` to every request that does not set it. */
  orgId?: string;
}

export function createCloudMcClient(options: CloudMcClientOptions): CloudMcClient {
  checkRequiredStrings("createCloudMcClient", options, ["baseUrl", "apiKey"]);
  const transport = createTransport("createCloudMcClient", options, CloudMcApiError);
  const client = createClient<paths>({ baseUrl: options.baseUrl, ...transport });
  client.use(...cloudMcMiddleware(options));
  return client;
}

/**
 * Polls `GET /tasks/{id}` until the task succeeds (resolves with its `result`) or fails, the
 * timeout passes, or `signal` aborts: those reject with a TaskError whose `reason` is `failed`,
 * `timeout` or `aborted`.
 */
export function waitForTask<Result = unknown>(client: CloudMcClient, taskId: string, options: PollOptions = {}): Promise<Result> {
  return waitForCloudMcTask<Result>(
    async (id, signal) => (await client.GET("/tasks/{id}", { params: { path: { id } }, signal })).data,
    taskId,
    options,
  );
}
