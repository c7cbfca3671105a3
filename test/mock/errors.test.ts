/**
 * What each mock answers when it refuses a request, for every API and every kind of refusal: an
 * invalid request (a field of the wrong type, a required one missing), missing credentials, an
 * unknown path, a wrong method and a body that is not JSON. Each answer has the operation's
 * documented status, the vendor's error envelope as the contract describes it, and a message that
 * names the actual problem. `Prefer: code=` still picks a documented answer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startMock, type RunningMock } from "../../scripts/prism.ts";
import type { ApiId } from "../../src/apis.ts";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { MOCK_DIGEST_CREDENTIALS } from "../../src/mock/server.ts";
import { digestFetch } from "../../src/runtime/digest.ts";

interface Case {
  /** Credentials that pass: headers, and for Cloud Manager HTTP Digest with the mock's keys. */
  auth: Record<string, string>;
  digest?: true;
  /** An operation taking a JSON body: path under the mock's root, and a body with one wrong field. */
  invalid: { method: string; path: string; body: unknown; contentType?: string; status: number; mentions: string[] };
  /** A plain read: path under the root, and the status a call without credentials gets. */
  read: { path: string; unauthorized: number; mentions: string };
  /** A method the read's path does not answer. */
  wrongMethod: string;
  /** A status the read documents, whose envelope a 404 for an unknown path must match. */
  envelopeStatus: number;
}

const TOKEN = { Authorization: "Bearer mock-token" };
const CASES: Record<ApiId, Case> = {
  cloudmanager: {
    auth: {},
    digest: true,
    invalid: { method: "POST", path: "/groups", body: { name: 5 }, status: 400, mentions: ["body.name", "string"] },
    read: { path: "/groups", unauthorized: 401, mentions: "HTTP Digest" },
    wrongMethod: "PATCH",
    envelopeStatus: 404,
  },
  cloudmc: {
    auth: { "MC-Api-Key": "k" },
    invalid: { method: "POST", path: "/organizations", body: { name: 5, entryPoint: "umbrella" }, status: 400, mentions: ["body.name", "string"] },
    read: { path: "/organizations", unauthorized: 403, mentions: "MC-Api-Key" },
    wrongMethod: "PATCH",
    envelopeStatus: 400,
  },
  cloudstack: {
    auth: { "MC-Api-Key": "k" },
    invalid: {
      method: "POST",
      path: "/services/compute-qc/dev/affinitygroups",
      body: { name: 5, description: "web tier", type: "host anti-affinity", instanceIds: [] },
      status: 400,
      mentions: ["body.name", "string"],
    },
    read: { path: "/services/compute-qc/dev/instances", unauthorized: 403, mentions: "MC-Api-Key" },
    wrongMethod: "PATCH",
    envelopeStatus: 400,
  },
  cloud66: {
    auth: TOKEN,
    invalid: { method: "POST", path: "/stacks/5999b763474b0eafa5fafb64bff0ba80/actions", body: { command: 7 }, status: 400, mentions: ["body.command"] },
    read: { path: "/stacks", unauthorized: 401, mentions: "bearer" },
    wrongMethod: "DELETE",
    envelopeStatus: 400,
  },
  cvm: {
    auth: { "API-Public-Token": "a", "API-Private-Token": "b" },
    invalid: { method: "POST", path: "/api/client/vps/1/reinstall", body: "template=abc", contentType: "application/x-www-form-urlencoded", status: 422, mentions: ["body.template", "pattern"] },
    read: { path: "/api/client/vps/list", unauthorized: 401, mentions: "No valid API token pair" },
    wrongMethod: "DELETE",
    envelopeStatus: 401,
  },
};

const mocks = new Map<string, RunningMock>();
const contracts = new Map<string, Contract>();
beforeAll(async () => {
  for (const id of Object.keys(CASES)) {
    mocks.set(id, await startMock(id, { specPath: `generated/${id}/openapi.json`, port: await freePort() }));
    contracts.set(id, await loadContract(id));
  }
});
afterAll(async () => {
  await Promise.all([...mocks.values()].map((mock) => mock.stop()));
});

/** The message(s) of a vendor envelope, whatever its shape. */
function messagesOf(body: any): string {
  if (Array.isArray(body?.errors)) return body.errors.map((entry: any) => (typeof entry === "string" ? entry : entry.message)).join(" | ");
  return [body?.error_description, body?.detail, body?.error].filter(Boolean).join(" | ");
}

describe.each(Object.entries(CASES))("the %s mock refuses", (id, c) => {
  const digest = digestFetch(MOCK_DIGEST_CREDENTIALS);
  const call = async (method: string, path: string, init: { headers?: Record<string, string>; body?: string; anonymous?: boolean } = {}) => {
    const mock = mocks.get(id)!;
    const request = new Request(`${mock.baseUrl}${path}`, { method, headers: init.headers, body: init.body });
    const response = c.digest && !init.anonymous ? await digest(request) : await fetch(request);
    const text = await response.text();
    const root = new URL(mock.baseUrl).pathname.replace(/\/$/, "");
    return { status: response.status, body: text ? JSON.parse(text) : undefined, path: `${root}${path}` };
  };
  /** The answer's body against the contract: as the operation's answer for that status. */
  const conforms = (method: string, path: string, status: number, body: unknown) =>
    expect(formatErrors(contracts.get(id)!.validateResponse({ method, path, status, body }, { strict: true }).errors)).toBe("");

  it("an invalid request with the documented status, naming the violation", async () => {
    const { method, path, body, contentType, status, mentions } = c.invalid;
    const answer = await call(method, path, {
      headers: { ...c.auth, "Content-Type": contentType ?? "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    expect(answer.status).toBe(status);
    conforms(method, answer.path, status, answer.body);
    const message = messagesOf(answer.body);
    expect(message).toMatch(/: /);
    for (const word of mentions) expect(message).toContain(word);
    expect(message).not.toMatch(/Cannot stop an instance|template is not available/);
  });

  it("a call without credentials with the documented status, in the vendor's envelope", async () => {
    const answer = await call("GET", c.read.path, { anonymous: true });
    expect(answer.status).toBe(c.read.unauthorized);
    conforms("GET", answer.path, answer.status, answer.body);
    expect(messagesOf(answer.body)).toContain(c.read.mentions);
  });

  it("an unknown path with 404 and a wrong method with 405, in the vendor's envelope", async () => {
    const unknown = await call("GET", `${c.read.path}/no/such/thing/here`, { headers: c.auth });
    expect(unknown.status).toBe(404);
    expect(messagesOf(unknown.body)).toContain("No operation at GET");
    conforms("GET", `${new URL(mocks.get(id)!.baseUrl).pathname.replace(/\/$/, "")}${c.read.path}`, c.envelopeStatus, unknown.body);
    const wrong = await call(c.wrongMethod, c.read.path, { headers: c.auth });
    expect(wrong.status).toBe(405);
    expect(messagesOf(wrong.body)).toContain(`does not answer ${c.wrongMethod}`);
  });

  it("a body that is not JSON with 400 (or the documented 4xx), naming the parse error", async () => {
    const { method, path } = c.invalid;
    const answer = await call(method, path, { headers: { ...c.auth, "Content-Type": "application/json" }, body: "{not json" });
    expect([400, 422]).toContain(answer.status);
    expect(messagesOf(answer.body)).toContain("not valid JSON");
  });

  it("but still gives a documented answer chosen with Prefer: code=", async () => {
    const answer = await call("GET", c.read.path, { headers: { ...c.auth, Prefer: `code=${c.read.unauthorized}` } });
    expect(answer.status).toBe(c.read.unauthorized);
    conforms("GET", answer.path, answer.status, answer.body);
  });
});
