/**
 * Typed client for CloudMC's CloudStack plugin API v1.
 *
 *   const cs = createCloudStackClient({ baseUrl: "https://portal.example.net/api/v2", apiKey,
 *                                       serviceCode: "compute-qc", environmentName: "dev" });
 *   const { data } = await cs.GET("/instances");                     // entity paths only
 *   const task = await cs.operate("instances", id, "stop", { forceStop: true });
 *   await waitForTask(cs, task.taskId);
 *
 * Every entity URL is `<API root>/services/{service_code}/{environment_name}/<entity type>`, the
 * contract's server: the client takes the service code and environment once, so calls name only
 * the entity path, as the contract's paths do. Operations
 * selected with `?operation=<name>` go through `operate`, typed per entity and operation from
 * generated/cloudstack/operations.d.ts (a wrong name or body is a type error).
 *
 * Timeouts, retries and the errors they end in are the shared transport's (src/runtime/transport.ts).
 */
import createClient, { type Client } from "openapi-fetch";
import { operations as operationTable, type Operations } from "../../generated/cloudstack/operations.js";
import type { components, paths } from "../../generated/cloudstack/schema.js";
import { TaskError } from "../runtime/errors.js";
import { checkRequiredStrings, CloudMcApiError, cloudMcMiddleware, waitForCloudMcTask, type CloudMcErrorEntry } from "../runtime/cloudmc-platform.js";
import type { PollOptions } from "../runtime/poll.js";
import type { RetryOptions } from "../runtime/retry.js";
import { createTransport, withUrl, type TransportOptions } from "../runtime/transport.js";

export type { components, paths, Operations, CloudMcErrorEntry, PollOptions, RetryOptions };
export { CloudMcApiError, TaskError };
export * from "../runtime/transport-errors.js";
export type TaskReference = components["schemas"]["TaskReference"];

/**
 * The contract's paths: entity paths (`/instances/{id}`), which its server puts under
 * `/services/{service_code}/{environment_name}`, and `/tasks/{id}` at the API root.
 */
export type EntityPaths = paths;

type OperationArgs<Spec> = Spec extends { body: infer Body; bodyRequired: infer Required }
  ? [Body] extends [never]
    ? []
    : Required extends true
      ? [body: Body]
      : [body?: Body]
  : never;

export interface CloudStackClient extends Client<EntityPaths> {
  /**
   * Runs `?operation=<name>` on an entity (`id`) or on the entity type's collection (`id` is then
   * `undefined`), and answers the task to wait for.
   */
  operate<Entity extends keyof Operations, Name extends keyof Operations[Entity] & string>(
    entityType: Entity,
    id: string | undefined,
    operation: Name,
    ...body: OperationArgs<Operations[Entity][Name]>
  ): Promise<TaskReference>;
}

export interface CloudStackClientOptions extends TransportOptions {
  /**
   * API root, e.g. `https://portal.example.net/api/v2` (or the mock's `http://127.0.0.1:4011/api/v2`);
   * portals on an older release serve `https://portal.example.net/v1` or `/api/v1`.
   */
  baseUrl: string;
  /** Your personal API key, sent as `MC-Api-Key`. */
  apiKey: string;
  /** Service code of the CloudStack connection, e.g. `compute-qc` or `compute-on`. */
  serviceCode: string;
  /** Name of the environment in that service. */
  environmentName: string;
  /** Sub-organization to act in: added as `org_id` to every request that does not set it. */
  orgId?: string;
}

export function createCloudStackClient(options: CloudStackClientOptions): CloudStackClient {
  checkRequiredStrings("createCloudStackClient", options, ["baseUrl", "apiKey", "serviceCode", "environmentName"]);
  const root = options.baseUrl.replace(/\/+$/, "");
  const servicePath = `/services/${encodeURIComponent(options.serviceCode)}/${encodeURIComponent(options.environmentName)}`;
  const transport = createTransport("createCloudStackClient", options, CloudMcApiError);
  const client = createClient<EntityPaths>({ baseUrl: root + servicePath, ...transport });
  // Tasks live at the API root, not under the service: take the service path back out.
  client.use({
    onRequest({ request, schemaPath }) {
      if (schemaPath !== "/tasks/{id}") return request;
      return withUrl(request, request.url.replace(root + servicePath, root));
    },
  });
  client.use(...cloudMcMiddleware(options));

  const operate: CloudStackClient["operate"] = async (entityType, id, operation, ...body) => {
    const entry = (operationTable as Record<string, Record<string, { method: string; path: string }>>)[entityType]?.[operation];
    if (!entry) throw new TypeError(`operate: "${operation}" is not an operation of ${String(entityType)}.`);
    const idParam = /\{([^}]+)\}$/.exec(entry.path)?.[1];
    if (idParam && id === undefined) throw new TypeError(`operate: ${String(entityType)} ${operation} needs the entity's ${idParam}.`);
    const request = client.request as unknown as (method: string, path: string, init: object) => Promise<{ data?: TaskReference }>;
    const { data } = await request(entry.method, entry.path, {
      params: { ...(idParam ? { path: { [idParam]: id } } : {}), query: { operation } },
      ...(body.length > 0 && body[0] !== undefined ? { body: body[0] } : {}),
    });
    if (!data) throw new Error(`${entry.method.toUpperCase()} ${entry.path}?operation=${operation} answered without a body.`);
    return data;
  };
  return Object.assign(client, { operate });
}

/**
 * Polls `GET /tasks/{id}` until the task succeeds (resolves with its `result`) or fails, the
 * timeout passes, or `signal` aborts: those reject with a TaskError.
 */
export function waitForTask<Result = unknown>(client: CloudStackClient, taskId: string, options: PollOptions = {}): Promise<Result> {
  return waitForCloudMcTask<Result>(
    async (id, signal) => (await client.GET("/tasks/{id}", { params: { path: { id } }, signal })).data,
    taskId,
    options,
  );
}
