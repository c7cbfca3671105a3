import { beforeAll, describe, expect, it } from "vitest";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { asResponse, brokenCopy, readRecording, readRecordings } from "../support/recordings.ts";

let contract: Contract;
beforeAll(async () => {
  contract = await loadContract("cloud66");
});

const recordings = readRecordings("cloud66");

const operationOf = (method: string, path: string) =>
  contract.findOperation(method, path)?.operation.value as { tags?: string[]; security?: Record<string, string[]>[]; operationId?: string } | undefined;

describe("recorded Cloud 66 responses", () => {
  it.each(recordings)("$file conforms to the contract, with no undocumented property", ({ recording }) => {
    const result = contract.validateResponse(asResponse(recording), { strict: true });
    expect(formatErrors(result.errors)).toBe("");
    expect(result.valid).toBe(true);
  });

  it("include at least one recording for every family that has operations", () => {
    const recordedTags = new Set(recordings.flatMap(({ recording }) => operationOf(recording.request.method, recording.request.path)?.tags ?? []));
    const familyTags = new Set(contract.operations.flatMap((op) => operationOf(op.method, op.pathTemplate)?.tags ?? []));
    expect([...familyTags].filter((tag) => !recordedTags.has(tag))).toEqual([]);
  });

});

describe("auth and scopes", () => {
  it("lets every operation be called with an OAuth 2 token of a documented scope or a personal token", () => {
    const scopes = new Set(["public", "redeploy", "jobs", "users", "admin"]);
    const document = contract.document as unknown as { security: Record<string, string[]>[] };
    for (const { method, pathTemplate, operationId } of contract.operations) {
      const security = operationOf(method, pathTemplate)?.security ?? document.security;
      const oauth = security.find((requirement) => "OAuth2" in requirement)?.OAuth2;
      expect(oauth, `${operationId} names no OAuth2 scope`).toBeDefined();
      expect(oauth!.every((scope) => scopes.has(scope)), `${operationId}: ${oauth}`).toBe(true);
      expect(security.some((requirement) => "PersonalAccessToken" in requirement), `${operationId} refuses personal tokens`).toBe(true);
    }
  });

  it("asks for admin to read environment variables, as the reference says", () => {
    expect(operationOf("GET", "/api/3/stacks/s/environments")?.security?.[0]?.OAuth2).toEqual(["admin"]);
  });
});

const broken = (file: string, edit: (body: any) => void) => brokenCopy("cloud66", file, edit);

describe("hand-broken copies fail where they are broken", () => {
  it("rejects a stack action whose id is not an integer", () => {
    const result = contract.validateResponse(broken("stack-actions-get.json", (body) => (body.response.id = "10")));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.response.id", keyword: "type" }));
  });

  it("rejects a finished_success that is neither boolean nor null", () => {
    const result = contract.validateResponse(broken("stack-actions-get.json", (body) => (body.response.finished_success = "true")));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.response.finished_success", keyword: "type" }));
  });

  it("rejects pagination whose next page is not a number", () => {
    const result = contract.validateResponse(broken("stacks-list.json", (body) => (body.pagination.next = "2")));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.pagination.next", keyword: "type" }));
  });

  it("rejects a list without the response envelope", () => {
    const recording = readRecording("cloud66", "stacks-list.json");
    const result = contract.validateResponse({ ...asResponse(recording), body: (recording.response.body as { response: unknown }).response });
    expect(result.valid).toBe(false);
  });

  it("reports, in strict mode only, a stack field the contract does not name", () => {
    const drifted = broken("stacks-get.json", (body) => (body.response.kubernetes_version = "1.29"));
    expect(contract.validateResponse(drifted).valid).toBe(true);
    expect(contract.validateResponse(drifted, { strict: true }).errors).toEqual([
      { path: "$.response.kubernetes_version", keyword: "undocumented", message: "property is not described by the contract" },
    ]);
  });
});
