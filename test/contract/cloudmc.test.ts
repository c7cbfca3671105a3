import { beforeAll, describe, expect, it } from "vitest";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { asResponse, brokenCopy, readRecording, readRecordings } from "../support/recordings.ts";

let contract: Contract;
beforeAll(async () => {
  contract = await loadContract("cloudmc");
});

const recordings = readRecordings("cloudmc");

/** The tags of the operation a recording exercises. */
function tagsOf(method: string, path: string): string[] {
  const matched = contract.findOperation(method, path);
  return (matched?.operation.value as { tags?: string[] } | undefined)?.tags ?? [];
}

describe("recorded CloudMC responses", () => {
  it.each(recordings)("$file conforms to the contract, with no undocumented property", ({ recording }) => {
    const result = contract.validateResponse(asResponse(recording), { strict: true });
    expect(formatErrors(result.errors)).toBe("");
    expect(result.valid).toBe(true);
  });

  it("include at least one recording for every family that has operations", () => {
    const recordedTags = new Set(recordings.flatMap(({ recording }) => tagsOf(recording.request.method, recording.request.path)));
    const familiesWithOperations = new Set(contract.operations.flatMap(({ method, pathTemplate }) => tagsOf(method, pathTemplate)));
    expect([...familiesWithOperations].filter((tag) => !recordedTags.has(tag))).toEqual([]);
  });

  it("include the getting-started examples: a task in SUCCESS, a task in PENDING, and the error envelope", () => {
    const files = recordings.map(({ file }) => file);
    expect(files).toEqual(expect.arrayContaining(["tasks-get-success.json", "tasks-get-pending.json", "errors-invalid-state.json"]));
  });
});

const broken = (file: string, edit: (body: any) => void) => brokenCopy("cloudmc", file, edit);

describe("hand-broken copies fail where they are broken", () => {
  it("rejects a task in SUCCESS without its result", () => {
    const result = contract.validateResponse(broken("tasks-get-success.json", (body) => delete body.result));
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.result", keyword: "required" }));
  });

  it("rejects a result on a task that is still PENDING", () => {
    const result = contract.validateResponse(broken("tasks-get-pending.json", (body) => (body.result = { id: "x" })));
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.result", message: "is not allowed here" }));
  });

  it("rejects a task status outside PENDING, SUCCESS and FAILED", () => {
    const result = contract.validateResponse(broken("tasks-get-pending.json", (body) => (body.taskStatus = "DONE")));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.taskStatus", keyword: "enum" }));
  });

  it("rejects an error whose code is not an integer", () => {
    const result = contract.validateResponse(broken("errors-invalid-state.json", (body) => (body.errors[0].code = "2012")));
    expect(result.errors).toEqual([expect.objectContaining({ path: "$.errors[0].code", keyword: "type" })]);
  });

  it("rejects a list answered as a bare array instead of the data envelope", () => {
    const recording = readRecording("cloudmc", "organizations-list.json");
    const result = contract.validateResponse({ ...asResponse(recording), body: (recording.response.body as { data: unknown }).data });
    expect(result.valid).toBe(false);
    expect(result.errors[0]!.path).toBe("$");
  });

  it("rejects an organization without its id", () => {
    const result = contract.validateResponse(broken("organizations-list.json", (body) => delete body.data[0].id));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.data[0].id", keyword: "required" }));
  });

  it("reports, in strict mode only, a field the contract does not name", () => {
    const drifted = broken("organizations-list.json", (body) => (body.data[0].carbonFootprint = 12));
    expect(contract.validateResponse(drifted).valid).toBe(true);
    expect(contract.validateResponse(drifted, { strict: true }).errors).toEqual([
      { path: "$.data[0].carbonFootprint", keyword: "undocumented", message: "property is not described by the contract" },
    ]);
  });
});

describe("shared conventions", () => {
  it("documents 400, 403, 404, 405 and 500 with the errors envelope on every operation", () => {
    const missing = contract.operations
      .filter(({ statuses }) => !["400", "403", "404", "405", "500"].every((status) => statuses.includes(status)))
      .map(({ operationId }) => operationId);
    expect(missing).toEqual([]);
  });

  it("offers org_id on every operation that acts in an organization", () => {
    // Plugin descriptors describe a service type, not anything inside an organization.
    const global = new Set(["getServiceDescriptor", "listServiceDescriptorParameters"]);
    const withoutOrgId = contract.operations
      .filter(({ method, pathTemplate }) => {
        const operation = contract.findOperation(method, pathTemplate)!.operation.value as { parameters?: { $ref?: string; name?: string }[] };
        return !(operation.parameters ?? []).some((p) => p.$ref === "#/components/parameters/OrgId" || p.name === "org_id");
      })
      .map(({ operationId }) => operationId!)
      .filter((operationId) => !global.has(operationId));
    expect(withoutOrgId).toEqual([]);
  });
});
