/**
 * The CloudStack mock (real Prism on a free loopback port, serving under /api/v2) driven through
 * createCloudStackClient: create instance → poll task, stop instance → poll task, and an error.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CloudMcApiError, createCloudStackClient, waitForTask, type CloudStackClient } from "../../src/clients/cloudstack.ts";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { loggingFetch, useMock } from "../support/mock.ts";

const mock = useMock("cloudstack");
let contract: Contract;

beforeAll(async () => {
  contract = await loadContract("cloudstack");
});

/** A client on the mock; every exchange is kept, and `prefer` may pick a documented answer. */
function clientOnMock(prefer?: (request: Request) => string | undefined) {
  const { fetch, exchanges } = loggingFetch(prefer);
  const client: CloudStackClient = createCloudStackClient({ baseUrl: mock.current.baseUrl, apiKey: "mc-api-key", serviceCode: "compute-qc", environmentName: "dev", fetch });
  return { client, exchanges };
}

const pendingFirst = () => {
  let reads = 0;
  return (request: Request) => (new URL(request.url).pathname.includes("/tasks/") && reads++ === 0 ? "example=Pending" : undefined);
};

const conforms = (exchanges: { method: string; path: string; status: number; body: unknown }[]) => {
  for (const exchange of exchanges) expect(formatErrors(contract.validateResponse(exchange, { strict: true }).errors)).toBe("");
};

describe("the CloudStack mock", () => {
  it("answers GET /api/v2/services/compute-qc/dev/instances with an API key: 200 and a data array", async () => {
    const response = await fetch(`${mock.current.baseUrl}/services/compute-qc/dev/instances`, { headers: { "MC-Api-Key": "k" } });
    expect(response.status).toBe(200);
    expect(Array.isArray((await response.json()).data)).toBe(true);
    expect(mock.current.baseUrl).toMatch(/:\d+\/api\/v2$/);
  });

  it("answers a call without the API key with the documented 403, in CloudMC's envelope", async () => {
    const response = await fetch(`${mock.current.baseUrl}/services/compute-qc/dev/instances`);
    expect(response.status).toBe(403);
    const body = await response.json();
    expect(body.errors[0].message).toContain("MC-Api-Key");
    expect(formatErrors(contract.validateResponse({ method: "GET", path: "/api/v2/services/compute-qc/dev/instances", status: 403, body }, { strict: true }).errors)).toBe("");
  });

  it("creates an instance, then polls its task until SUCCESS", async () => {
    const { client, exchanges } = clientOnMock(pendingFirst());
    const { data: task } = await client.POST("/instances", {
      body: {
        name: "jarvis",
        computeOfferingId: "3caab5ed-b5a2-4d8a-82e4-51c46168ee6c",
        networkId: "55ccea7f-8286-479e-a648-dd4a45866daf",
        templateId: "5f968ad6-56d0-4d0d-ad7e-f8f4a5b5d986",
      },
    });
    const result = await waitForTask(client, task!.taskId, { intervalMs: 10, timeoutMs: 10_000 });
    expect(result).toEqual({ id: "8f064230-82a6-4f93-a17d-9cf9623b0cb5", name: "morty" });
    expect(exchanges.map((e) => `${e.method} ${e.path.replace(/[0-9a-f-]{36}$/, "{id}")} ${e.status}`)).toEqual([
      "POST /api/v2/services/compute-qc/dev/instances 200",
      "GET /api/v2/tasks/{id} 200",
      "GET /api/v2/tasks/{id} 200",
    ]);
    conforms(exchanges);
  });

  it("stops an instance through operate, then polls the task", async () => {
    const { client, exchanges } = clientOnMock(pendingFirst());
    const task = await client.operate("instances", "5951c2b8-e901-4c01-8ae0-cb8d7c508d29", "stop", { forceStop: true });
    expect(task.taskStatus).toBe("PENDING");
    await expect(waitForTask(client, task.taskId, { intervalMs: 10 })).resolves.toBeDefined();
    expect(exchanges[0]).toMatchObject({ method: "POST", query: "?operation=stop", status: 200 });
    expect(exchanges.slice(1).map((e) => (e.body as { taskStatus: string }).taskStatus)).toEqual(["PENDING", "SUCCESS"]);
    conforms(exchanges);
  });

  it("rejects an operation name the contract does not list", async () => {
    const response = await fetch(`${mock.current.baseUrl}/services/compute-qc/dev/instances/1?operation=explode`, {
      method: "POST",
      headers: { "MC-Api-Key": "k" },
    });
    // Prism answers an invalid request with the documented 400 and names the violation.
    expect(response.status).toBe(400);
    expect(response.headers.get("sl-violations") ?? "").toContain("operation");
  });

  it("surfaces the documented error as CloudMcApiError", async () => {
    const { client, exchanges } = clientOnMock(() => "code=400");
    const error = await client.operate("instances", "4534cc36-bc46-48bc-ac5c-3ee4e42f0a44", "stop").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudMcApiError);
    expect(error).toMatchObject({ status: 400, code: 2012, context: { expectedStates: ["Running"] } });
    conforms(exchanges);
  });
});
