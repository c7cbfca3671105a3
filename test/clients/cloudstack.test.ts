import { describe, expect, it } from "vitest";
import { CloudMcApiError, createCloudStackClient, waitForTask } from "../../src/clients/cloudstack.ts";

const API_KEY = "cs-key-canary-91b2";
const TASK = { taskId: "b2f82e2a-123e-4f86-a4c7-dc9b850dd11e", taskStatus: "PENDING" };

function client(answer: (request: Request) => Response = () => Response.json(TASK), extra: { orgId?: string; baseUrl?: string } = {}) {
  const requests: { method: string; url: URL; headers: Headers; body: string }[] = [];
  const cs = createCloudStackClient({
    baseUrl: "https://mc.example.net/api/v2/",
    apiKey: API_KEY,
    serviceCode: "compute-qc",
    environmentName: "dev env",
    ...extra,
    fetch: async (request) => {
      requests.push({ method: request.method, url: new URL(request.url), headers: request.headers, body: await request.clone().text() });
      return answer(request);
    },
  });
  return { cs, requests };
}

describe("createCloudStackClient", () => {
  it("puts the service code and environment in front of the entity path", async () => {
    const { cs, requests } = client(() => Response.json({ data: [], metadata: { recordCount: 0 } }));
    await cs.GET("/instances");
    expect(requests[0]!.url.pathname).toBe("/api/v2/services/compute-qc/dev%20env/instances");
    expect(requests[0]!.headers.get("MC-Api-Key")).toBe(API_KEY);
  });

  it("works with a legacy portal's /v1 root as well: baseUrl is the caller's", async () => {
    const { cs, requests } = client(() => Response.json({ data: [], metadata: { recordCount: 0 } }), { baseUrl: "https://old.example.net/v1" });
    await cs.GET("/instances");
    await cs.GET("/tasks/{id}", { params: { path: { id: TASK.taskId } } });
    expect(requests.map((r) => r.url.pathname)).toEqual(["/v1/services/compute-qc/dev%20env/instances", `/v1/tasks/${TASK.taskId}`]);
  });

  it("reads tasks at the API root, not under the service", async () => {
    const { cs, requests } = client();
    await cs.GET("/tasks/{id}", { params: { path: { id: TASK.taskId } } });
    expect(requests[0]!.url.pathname).toBe(`/api/v2/tasks/${TASK.taskId}`);
  });

  it("adds org_id when orgId is set", async () => {
    const { cs, requests } = client(() => Response.json({ data: [] }), { orgId: "org-7" });
    await cs.GET("/zones");
    expect(requests[0]!.url.searchParams.get("org_id")).toBe("org-7");
  });

  it("operate sends ?operation=<name> with the operation's body and answers the task", async () => {
    const { cs, requests } = client();
    const task = await cs.operate("instances", "5951c2b8", "stop", { forceStop: true });
    expect(task).toEqual(TASK);
    expect(requests[0]).toMatchObject({ method: "POST", body: '{"forceStop":true}' });
    expect(requests[0]!.url.pathname).toBe("/api/v2/services/compute-qc/dev%20env/instances/5951c2b8");
    expect(requests[0]!.url.searchParams.get("operation")).toBe("stop");
  });

  it("operate uses the operation's own verb and a collection URL when it has no id", async () => {
    const { cs, requests } = client();
    await cs.operate("loadbalancerrules", "lb-1", "updateInstances", { instanceIds: ["i-1"] });
    await cs.operate("snapshots", undefined, "create", { volumeId: "v-1" });
    expect(requests.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
      "PUT /api/v2/services/compute-qc/dev%20env/loadbalancerrules/lb-1?operation=updateInstances",
      "POST /api/v2/services/compute-qc/dev%20env/snapshots?operation=create",
    ]);
  });

  it("operate refuses a missing id for an entity operation, before any request", async () => {
    const { cs, requests } = client();
    await expect(cs.operate("instances", undefined, "start")).rejects.toThrow(/needs the entity's id/);
    expect(requests).toHaveLength(0);
  });

  it("types operations: an unknown name or a wrong body does not compile", () => {
    const { cs } = client();
    // Never called: `tsc` (npm test) checks that each line is a type error.
    const typeChecks = () => {
      // @ts-expect-error "explode" is not an instance operation
      void cs.operate("instances", "1", "explode");
      // @ts-expect-error stop takes { forceStop?: boolean }
      void cs.operate("instances", "1", "stop", { forceStop: "yes" });
      // @ts-expect-error start takes no body
      void cs.operate("instances", "1", "start", {});
      // @ts-expect-error changeComputeOffering needs its body
      void cs.operate("instances", "1", "changeComputeOffering");
      // @ts-expect-error entity paths are named without the service prefix (it is the server's)
      void cs.GET("/services/{service_code}/{environment_name}/instances");
    };
    expect(typeof typeChecks).toBe("function");
  });

  it("throws CloudMcApiError on an error answer, without the key in it", async () => {
    const body = { errors: [{ code: 2012, message: "Cannot stop an instance that isn't in the running state", context: { currentState: "Stopped" } }] };
    const { cs } = client(() => Response.json(body, { status: 400 }));
    const error = await cs.operate("instances", "1", "stop").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudMcApiError);
    expect(error).toMatchObject({ status: 400, code: 2012, context: { currentState: "Stopped" } });
    expect(String(error) + JSON.stringify(error)).not.toContain(API_KEY);
  });

  it("waitForTask polls the root tasks URL until SUCCESS", async () => {
    const states = [TASK, { ...TASK, taskStatus: "SUCCESS", result: { id: "i-1" } }];
    const { cs, requests } = client(() => Response.json(states.shift()));
    await expect(waitForTask(cs, TASK.taskId, { intervalMs: 1 })).resolves.toEqual({ id: "i-1" });
    expect(requests.map((r) => r.url.pathname)).toEqual([`/api/v2/tasks/${TASK.taskId}`, `/api/v2/tasks/${TASK.taskId}`]);
  });

  it.each(["serviceCode", "environmentName"] as const)("refuses an empty %s, naming the option", (field) => {
    expect(() => createCloudStackClient({ baseUrl: "https://x/api/v2", apiKey: "k", serviceCode: "s", environmentName: "e", [field]: "" })).toThrow(`option "${field}"`);
  });
});
