/**
 * The Cloud 66 mock (real Prism on a free loopback port, under /api/3) driven through
 * createCloud66Client: restart services → poll the action, a list through paginate, a 401.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Cloud66ApiError, createCloud66Client, paginate, waitForAction, type Cloud66Client } from "../../src/clients/cloud66.ts";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { loggingFetch, useMock } from "../support/mock.ts";

const mock = useMock("cloud66");
let contract: Contract;
beforeAll(async () => {
  contract = await loadContract("cloud66");
});

function clientOnMock(prefer?: (request: Request) => string | undefined) {
  const { fetch, exchanges } = loggingFetch(prefer);
  const client: Cloud66Client = createCloud66Client({ baseUrl: mock.current.baseUrl, token: "ubg5kvaowx6ngpp9pex63pe75bxsjrzia0gcp60y6tmieeg1iwi7fh0fen9nce56", fetch });
  return { client, exchanges };
}

describe("the Cloud 66 mock", () => {
  it("answers GET /api/3/stacks with a bearer token (200) and without one (401)", async () => {
    const url = `${mock.current.baseUrl}/stacks`;
    expect((await fetch(url, { headers: { Authorization: "Bearer x" } })).status).toBe(200);
    expect((await fetch(url)).status).toBe(401);
  });

  it("restarts services with a stack action, then polls the action until it has finished", async () => {
    const stackId = "5999b763474b0eafa5fafb64bff0ba80";
    // The action starts unfinished (its documented example); polling reads the finished example.
    const { client, exchanges } = clientOnMock((request) => (request.method === "GET" ? "example=StackActionFinished" : undefined));
    const { data } = await client.POST("/stacks/{stack_id}/actions", {
      params: { path: { stack_id: stackId } },
      body: { command: "service_restart" },
    });
    const started = data!.response!;
    expect(started.finished_at).toBeNull();

    const finished = await waitForAction(client, stackId, started.id, { intervalMs: 10, timeoutMs: 10_000 });

    expect(finished.finished_success).toBe(true);
    expect(exchanges.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      `POST /api/3/stacks/${stackId}/actions 200`,
      `GET /api/3/stacks/${stackId}/actions/${started.id} 200`,
    ]);
    for (const exchange of exchanges) expect(formatErrors(contract.validateResponse(exchange, { strict: true }).errors)).toBe("");
  });

  it("walks a list through paginate, asking for page 1 and stopping where pagination ends", async () => {
    const { client, exchanges } = clientOnMock();
    const stacks = [];
    for await (const stack of paginate(client, "/stacks")) stacks.push(stack);
    expect(stacks.length).toBeGreaterThan(0);
    expect(stacks.every((stack) => typeof stack.uid === "string")).toBe(true);
    expect(exchanges.map((e) => e.query)).toEqual(["?page=1"]);
    expect(formatErrors(contract.validateResponse(exchanges[0]!, { strict: true }).errors)).toBe("");
  });

  it("runs the README's SSL certificate example: list a stack's certificates, then ask for a new one", async () => {
    const { client: c66, exchanges } = clientOnMock();
    const stack_id = "5999b763474b0eafa5fafb64bff0ba80";
    const { data: certificates } = await c66.GET("/stacks/{stack_id}/ssl_certificates", { params: { path: { stack_id } } });
    for (const certificate of certificates!.response) expect(certificate.server_names).toEqual(expect.any(String));
    await c66.POST("/stacks/{stack_id}/ssl_certificates", {
      params: { path: { stack_id } },
      body: { ssl_certificate: { type: "lets_encrypt", server_names: "www.example.com", ssl_termination: true } },
    });
    expect(exchanges.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      `GET /api/3/stacks/${stack_id}/ssl_certificates 200`,
      `POST /api/3/stacks/${stack_id}/ssl_certificates 200`,
    ]);
    for (const exchange of exchanges) expect(formatErrors(contract.validateResponse(exchange, { strict: true }).errors)).toBe("");
  });

  it("answers a call without a token with 401, which the client raises as Cloud66ApiError", async () => {
    const response = await fetch(`${mock.current.baseUrl}/stacks/5999b763474b0eafa5fafb64bff0ba80/servers`);
    expect(response.status).toBe(401);
    const { client } = clientOnMock(() => "code=401");
    await expect(client.GET("/stacks")).rejects.toBeInstanceOf(Cloud66ApiError);
  });
});
