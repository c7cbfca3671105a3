import { describe, expect, it } from "vitest";
import { CloudMcApiError, createCloudMcClient, waitForTask } from "../../src/clients/cloudmc.ts";
import { TaskError } from "../../src/runtime/errors.ts";

const API_KEY = "mc-key-canary-7f3a";

/** A fetch that records requests and answers from `answer`. */
function recordingFetch(answer: (request: Request) => Response) {
  const requests: Request[] = [];
  const fetch = async (request: Request) => {
    requests.push(request);
    return answer(request);
  };
  return { fetch, requests };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const task = (taskStatus: string, extra: object = {}) => ({ taskId: "b2f82e2a-123e-4f86-a4c7-dc9b850dd11e", taskStatus, ...extra });

describe("createCloudMcClient", () => {
  it("sends the API key as MC-Api-Key", async () => {
    const { fetch, requests } = recordingFetch(() => json(200, task("PENDING")));
    const client = createCloudMcClient({ baseUrl: "https://mc.example.net/api/v2", apiKey: API_KEY, fetch });
    await client.GET("/tasks/{id}", { params: { path: { id: "b2f82e2a-123e-4f86-a4c7-dc9b850dd11e" } } });
    expect(requests[0]!.headers.get("MC-Api-Key")).toBe(API_KEY);
    expect(new URL(requests[0]!.url).pathname).toBe("/api/v2/tasks/b2f82e2a-123e-4f86-a4c7-dc9b850dd11e");
  });

  it("adds org_id to every request when orgId is set, but keeps an explicit one", async () => {
    const { fetch, requests } = recordingFetch(() => json(200, task("PENDING")));
    const client = createCloudMcClient({ baseUrl: "https://mc.example.net/api/v2", apiKey: API_KEY, orgId: "org-a", fetch });
    const id = "b2f82e2a-123e-4f86-a4c7-dc9b850dd11e";
    await client.GET("/tasks/{id}", { params: { path: { id } } });
    await client.GET("/tasks/{id}", { params: { path: { id }, query: { org_id: "org-b" } } });
    expect(requests.map((request) => new URL(request.url).searchParams.getAll("org_id"))).toEqual([["org-a"], ["org-b"]]);
  });

  it("throws CloudMcApiError with the first error's code, message and context, and the status", async () => {
    const body = { errors: [{ code: 2012, message: "Cannot stop an instance that isn't in the running state", context: { currentState: "Stopped" } }] };
    const { fetch } = recordingFetch(() => json(400, body));
    const client = createCloudMcClient({ baseUrl: "https://mc.example.net/api/v2", apiKey: API_KEY, fetch });
    const error = await client.GET("/tasks/{id}", { params: { path: { id: "x" } } }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CloudMcApiError);
    expect(error).toMatchObject({
      status: 400,
      code: 2012,
      message: "Cannot stop an instance that isn't in the running state",
      context: { currentState: "Stopped" },
      errors: body.errors,
      request: { method: "GET", path: "/api/v2/tasks/x" },
    });
    expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain(API_KEY);
  });

  it("still throws a CloudMcApiError when the error body is not JSON", async () => {
    const { fetch } = recordingFetch(() => new Response("<html>Bad gateway</html>", { status: 502 }));
    const client = createCloudMcClient({ baseUrl: "https://mc.example.net/api/v2", apiKey: API_KEY, fetch });
    const error = await client.GET("/tasks/{id}", { params: { path: { id: "x" } } }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ name: "CloudMcApiError", status: 502, code: undefined, errors: [], body: "<html>Bad gateway</html>" });
    expect((error as Error).message).toBe("CloudMC answered 502 to GET /api/v2/tasks/x");
  });

  it("refuses a missing API key, naming the option", () => {
    expect(() => createCloudMcClient({ baseUrl: "https://mc.example.net/api/v2", apiKey: "" })).toThrow('option "apiKey"');
  });
});

describe("waitForTask", () => {
  it("polls until SUCCESS and resolves with the result", async () => {
    const states = [task("PENDING"), task("PENDING"), task("SUCCESS", { result: { id: "8f064230-82a6-4f93-a17d-9cf9623b0cb5", name: "morty" } })];
    const { fetch, requests } = recordingFetch(() => json(200, states.shift()));
    const client = createCloudMcClient({ baseUrl: "https://mc.example.net/api/v2", apiKey: API_KEY, fetch });
    await expect(waitForTask(client, "b2f82e2a-123e-4f86-a4c7-dc9b850dd11e", { intervalMs: 1 })).resolves.toEqual({
      id: "8f064230-82a6-4f93-a17d-9cf9623b0cb5",
      name: "morty",
    });
    expect(requests).toHaveLength(3);
  });

  it("rejects with a TaskError (reason failed) carrying the task when it FAILED", async () => {
    const { fetch } = recordingFetch(() => json(200, task("FAILED")));
    const client = createCloudMcClient({ baseUrl: "https://mc.example.net/api/v2", apiKey: API_KEY, fetch });
    const error = await waitForTask(client, "b2f82e2a-123e-4f86-a4c7-dc9b850dd11e", { intervalMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toMatchObject({ reason: "failed", task: { taskStatus: "FAILED" } });
  });

  it("rejects with the API error when the task cannot be read", async () => {
    const { fetch } = recordingFetch(() => json(404, { errors: [{ code: 404, message: "Task not found", context: {} }] }));
    const client = createCloudMcClient({ baseUrl: "https://mc.example.net/api/v2", apiKey: API_KEY, fetch });
    await expect(waitForTask(client, "gone", { intervalMs: 1 })).rejects.toMatchObject({ name: "CloudMcApiError", status: 404 });
  });
});
