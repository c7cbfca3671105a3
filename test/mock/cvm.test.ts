/**
 * The CVM mock: a real Prism process on a free loopback port, called through createCvmClient,
 * every answer checked against the contract.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CvmApiError, createCvmClient, type CvmClient } from "../../src/clients/cvm.ts";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import type { RunningMock } from "../../scripts/prism.ts";
import { useMock } from "../support/mock.ts";

const running = useMock("cvm");
let mock: RunningMock;
let contract: Contract;
let client: CvmClient;

beforeAll(async () => {
  mock = running.current;
  contract = await loadContract("cvm");
  client = createCvmClient({ baseUrl: mock.baseUrl, publicToken: "public-token", privateToken: "private-token" });
});

describe("every CVM operation through the client", () => {
  const calls: [string, () => Promise<{ data?: unknown; error?: unknown; response: Response }>, string, number][] = [
    ["listVpses", () => client.GET("/api/client/vps/list"), "GET", 200],
    ["getVpsStatus", () => client.GET("/api/client/vps/{id}", { params: { path: { id: "1" } } }), "GET", 200],
    ["getLegacyVpsStatus", () => client.GET("/api/client/vps/{id}/status", { params: { path: { id: "1" } } }), "GET", 200],
    ["startVps", () => client.POST("/api/client/vps/{id}/start", { params: { path: { id: "1" } } }), "POST", 200],
    ["stopVps", () => client.POST("/api/client/vps/{id}/stop", { params: { path: { id: "1" } } }), "POST", 200],
    ["restartVps", () => client.POST("/api/client/vps/{id}/restart", { params: { path: { id: "1" } } }), "POST", 200],
    ["reinstallVps", () => client.POST("/api/client/vps/{id}/reinstall", { params: { path: { id: "1" } }, body: { template: "3" } }), "POST", 200],
    ["listNodes", () => client.GET("/api/client/node/list"), "GET", 200],
    ["getNode", () => client.GET("/api/client/node/{id}", { params: { path: { id: "1" } } }), "GET", 200],
    ["listTemplates", () => client.GET("/api/client/template/list"), "GET", 200],
    ["getTemplate", () => client.GET("/api/client/template/{id}", { params: { path: { id: "3" } } }), "GET", 200],
  ];

  it("exercises every operation of the contract", () => {
    expect(calls.map(([operationId]) => operationId).sort()).toEqual(contract.operations.map((op) => op.operationId).sort());
  });

  it.each(calls)("%s answers as the contract says", async (operationId, call, method, status) => {
    const result = await call();
    expect(result.response.status).toBe(status);
    const check = contract.validateResponse({
      method,
      path: new URL(result.response.url).pathname,
      status: result.response.status,
      body: result.data ?? null,
    }, { strict: true });
    expect(check.operationId).toBe(operationId);
    expect(formatErrors(check.errors)).toBe("");
  });
});

describe("authentication", () => {
  const listUrl = () => `${mock.baseUrl}/api/client/vps/list`;

  it("rejects a list call without the token pair with 401 and the errors envelope", async () => {
    const response = await fetch(listUrl());
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(contract.validateResponse({ method: "GET", path: "/api/client/vps/list", status: 401, body }).valid).toBe(true);
    expect(body.errors).toEqual(["No valid API token pair was specified."]);
  });

  it.each(["API-Public-Token", "API-Private-Token"])("rejects a call that sends only %s", async (header) => {
    const response = await fetch(listUrl(), { headers: { [header]: "token" } });
    expect(response.status).toBe(401);
  });

  it("sends both tokens from the client", async () => {
    const seen: Headers[] = [];
    const spying = createCvmClient({
      baseUrl: mock.baseUrl,
      publicToken: "pub",
      privateToken: "priv",
      fetch: (request) => {
        seen.push(request.headers);
        return fetch(request);
      },
    });
    const { response } = await spying.GET("/api/client/vps/list");
    expect(response.status).toBe(200);
    expect([seen[0]!.get("API-Public-Token"), seen[0]!.get("API-Private-Token")]).toEqual(["pub", "priv"]);
  });
});

describe("errors through the client", () => {
  it("answers a VPS that does not exist with the documented 404, thrown as CvmApiError", async () => {
    const response = await fetch(`${mock.baseUrl}/api/client/vps/999`, {
      headers: { "API-Public-Token": "a", "API-Private-Token": "b", Prefer: "code=404" },
    });
    expect(response.status).toBe(404);
    const body = await response.json();
    expect(body).toEqual({ errors: ["The specified VPS ID does not exist or is not accessible to this user."] });
    expect(contract.validateResponse({ method: "GET", path: "/api/client/vps/999", status: 404, body }, { strict: true }).valid).toBe(true);
    const error = await client.GET("/api/client/vps/{id}", { params: { path: { id: "999" } }, headers: { Prefer: "code=404" } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, errors: body.errors });
  });

  it("throws a CvmApiError with the messages of a failed action", async () => {
    const failing = client.POST("/api/client/vps/{id}/start", { params: { path: { id: "1" } }, headers: { Prefer: "code=503" } });
    const error = await failing.then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CvmApiError);
    expect(error).toMatchObject({
      status: 503,
      errors: ["The host node could not be reached."],
      message: "The host node could not be reached.",
      request: { method: "POST", path: "/api/client/vps/1/start" },
    });
  });

  it("form-encodes the reinstall body, as the server (and the mock) read it", async () => {
    const sent: string[] = [];
    const spying = createCvmClient({
      baseUrl: mock.baseUrl,
      publicToken: "pub",
      privateToken: "priv",
      fetch: async (request) => {
        sent.push(`${request.headers.get("Content-Type")} ${await request.clone().text()}`);
        return fetch(request);
      },
    });
    const { response } = await spying.POST("/api/client/vps/{id}/reinstall", { params: { path: { id: "1" } }, body: { template: "3" } });
    expect(sent).toEqual(["application/x-www-form-urlencoded template=3"]);
    expect(response.status).toBe(200);
  });

  it("gets 422 from the mock for a reinstall body it cannot read", async () => {
    const headers = { "API-Public-Token": "a", "API-Private-Token": "b" };
    const asJson = await fetch(`${mock.baseUrl}/api/client/vps/1/reinstall`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ template: "3" }),
    });
    const badTemplate = await fetch(`${mock.baseUrl}/api/client/vps/1/reinstall`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" },
      body: "template=abc",
    });
    expect([asJson.status, badTemplate.status]).toEqual([422, 422]);
  });
});
