/**
 * The CloudMC mock (real Prism on a free loopback port, serving under /api/v2) driven through
 * createCloudMcClient: a create → task → poll flow and the error flows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CloudMcApiError, createCloudMcClient, waitForTask, type CloudMcClient } from "../../src/clients/cloudmc.ts";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { TaskError } from "../../src/runtime/errors.ts";
import { loggingFetch, useMock } from "../support/mock.ts";

const mock = useMock("cloudmc");
let contract: Contract;

beforeAll(async () => {
  contract = await loadContract("cloudmc");
});

/** A client on the mock whose requests (and answers) are kept for the assertions. */
function clientWithLog(prefer?: (request: Request) => string | undefined) {
  const { fetch, exchanges } = loggingFetch(prefer);
  const client: CloudMcClient = createCloudMcClient({ baseUrl: mock.current.baseUrl, apiKey: "mc-api-key", fetch });
  return { client, exchanges };
}

describe("the CloudMC mock", () => {
  it("serves the API under its real base path", () => {
    expect(mock.current.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v2$/);
  });

  it("lists organizations in the data envelope", async () => {
    const { client } = clientWithLog();
    const { data, response } = await client.GET("/organizations");
    expect(response.status).toBe(200);
    expect(Array.isArray(data!.data)).toBe(true);
    expect(data!.data[0]!.name).toEqual(expect.any(String));
  });

  it("creates an organization, then polls its task until SUCCESS and returns the result", async () => {
    let taskReads = 0;
    // The first read of the task answers the documented PENDING example, later reads SUCCESS.
    const { client, exchanges } = clientWithLog((request) =>
      new URL(request.url).pathname.includes("/tasks/") && taskReads++ === 0 ? "example=Pending" : undefined,
    );
    const created = await client.POST("/organizations", { body: { name: "Umbrella Corporation", entryPoint: "umbrella" } });
    expect(created.response.status).toBe(200);
    const taskId = created.data!.taskId;

    const result = await waitForTask(client, taskId, { intervalMs: 10, timeoutMs: 10_000 });

    expect(result).toEqual({ id: "8f064230-82a6-4f93-a17d-9cf9623b0cb5", name: "morty" });
    expect(exchanges.map((e) => `${e.method} ${e.path.replace(/[0-9a-f-]{36}/, "{id}")} ${e.status}`)).toEqual([
      "POST /api/v2/organizations 200",
      "GET /api/v2/tasks/{id} 200",
      "GET /api/v2/tasks/{id} 200",
    ]);
    expect(exchanges[1]!.body).toMatchObject({ taskStatus: "PENDING" });
    for (const exchange of exchanges) expect(formatErrors(contract.validateResponse(exchange, { strict: true }).errors)).toBe("");
  });

  it("rejects the wait with a typed TaskError when the task times out", async () => {
    const { client } = clientWithLog((request) => (new URL(request.url).pathname.includes("/tasks/") ? "example=Pending" : undefined));
    const error = await waitForTask(client, "c2c13744-8610-4012-800a-0907bea110a5", { intervalMs: 20, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toMatchObject({ reason: "timeout", task: { taskStatus: "PENDING" } });
  });

  it("surfaces a documented error answer as CloudMcApiError with code, message, context and status", async () => {
    const { client, exchanges } = clientWithLog(() => "code=400");
    const error = await client.GET("/organizations/{id}", { params: { path: { id: "03bc22bd-adc4-46b8-988d-afddc24c0cb5" } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudMcApiError);
    expect(error).toMatchObject({ status: 400, code: 2012, context: { currentState: "Stopped", type: "instances" } });
    expect((error as Error).message).toBe("Cannot stop an instance that isn't in the running state");
    expect(contract.validateResponse(exchanges[0]!).valid).toBe(true);
  });

  it("answers a request without the MC-Api-Key header with the documented 403, in CloudMC's envelope naming the header", async () => {
    const response = await fetch(`${mock.current.baseUrl}/organizations`);
    expect(response.status).toBe(403);
    const body = await response.json();
    expect(body.errors[0].message).toContain("MC-Api-Key");
    expect(formatErrors(contract.validateResponse({ method: "GET", path: "/api/v2/organizations", status: 403, body }, { strict: true }).errors)).toBe("");
  });

  it("answers a create whose required fields are missing with the documented 400, as CloudMcApiError", async () => {
    const { client } = clientWithLog();
    // @ts-expect-error entryPoint is required by the contract
    const error = await client.POST("/organizations", { body: { name: "No entry point" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudMcApiError);
    // Prism answers an invalid request with the operation's documented 400 (its example body).
    expect(error).toMatchObject({ status: 400, errors: [expect.objectContaining({ code: expect.any(Number) })] });
  });
});
