import { beforeAll, describe, expect, it } from "vitest";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { asResponse, brokenCopy, readRecording, readRecordings } from "../support/recordings.ts";

let contract: Contract;
beforeAll(async () => {
  contract = await loadContract("cloudstack");
});

const recordings = readRecordings("cloudstack");

/** The entity type a path template addresses: `instances` for `/instances/{id}`. */
const entityOf = (pathTemplate: string) => pathTemplate.split("/")[1]!;

describe("recorded CloudStack responses", () => {
  it.each(recordings)("$file conforms to the contract, with no undocumented property", ({ recording }) => {
    const result = contract.validateResponse(asResponse(recording), { strict: true });
    expect(formatErrors(result.errors)).toBe("");
    expect(result.valid).toBe(true);
  });

  it("include at least one recording for every entity type", () => {
    const entities = new Set(contract.operations.filter((op) => op.pathTemplate !== "/tasks/{id}").map((op) => entityOf(op.pathTemplate)));
    const recorded = new Set(
      recordings.map(({ recording }) => contract.findOperation(recording.request.method, recording.request.path)?.pathTemplate ?? "").map(entityOf),
    );
    expect([...entities].filter((entity) => !recorded.has(entity))).toEqual([]);
    expect(entities.size).toBeGreaterThanOrEqual(25);
  });

  it("include the task and error examples", () => {
    const files = recordings.map(({ file }) => file);
    expect(files).toEqual(expect.arrayContaining(["tasks-get-success.json", "tasks-get-pending.json", "instances-stop-not-running.json"]));
  });
});

const broken = (file: string, edit: (body: any) => void) => brokenCopy("cloudstack", file, edit);

describe("hand-broken copies fail where they are broken", () => {
  it("rejects a list whose metadata.recordCount is not a number", () => {
    const result = contract.validateResponse(broken("instances-list.json", (body) => (body.metadata.recordCount = "2")));
    expect(result.errors).toEqual([expect.objectContaining({ path: "$.metadata.recordCount", keyword: "type" })]);
  });

  it("rejects an instance without its id", () => {
    const result = contract.validateResponse(broken("instances-get.json", (body) => delete body.data.id));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.data.id", keyword: "required" }));
  });

  it("rejects a task answer without taskId", () => {
    const result = contract.validateResponse(broken("instances-stop-task.json", (body) => delete body.taskId));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.taskId", keyword: "required" }));
  });

  it("rejects a task in SUCCESS without its result", () => {
    const result = contract.validateResponse(broken("tasks-get-success.json", (body) => delete body.result));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.result", keyword: "required" }));
  });

  it("rejects an error envelope whose errors are bare strings", () => {
    const result = contract.validateResponse(broken("instances-stop-not-running.json", (body) => (body.errors = [body.errors[0].message])));
    expect(result.valid).toBe(false);
    expect(result.errors[0]!.path).toBe("$.errors[0]");
  });

  it("reports, in strict mode only, a field the contract does not name", () => {
    const drifted = broken("volumes-get.json", (body) => (body.data.encrypted = true));
    expect(contract.validateResponse(drifted).valid).toBe(true);
    expect(contract.validateResponse(drifted, { strict: true }).errors).toEqual([
      { path: "$.data.encrypted", keyword: "undocumented", message: "property is not described by the contract" },
    ]);
  });
});

describe("operation modelling", () => {
  it("finds the operation of a ?operation= URL by its path, ignoring the query", () => {
    expect(contract.findOperation("POST", "/api/v2/services/compute-qc/dev/instances/1?operation=stop")?.operation.value.operationId).toBe("operateInstance");
    expect(contract.findOperation("POST", "/api/v2/services/compute-on/prod/instances")?.operation.value.operationId).toBe("createInstance");
  });

  it("accepts any service code, not only the documented ones", () => {
    expect(contract.findOperation("GET", "/api/v2/services/my-own-cloud/dev/zones")?.operation.value.operationId).toBe("listZones");
  });

  it("serves entities under /api/v2/services/{service_code}/{environment_name} first, the legacy bases after", () => {
    expect(contract.document.servers?.map(({ url }) => url)).toEqual([
      "https://{cloudmc_endpoint}/api/v2/services/{service_code}/{environment_name}",
      "https://{cloudmc_endpoint}/api/v1/services/{service_code}/{environment_name}",
      "https://{cloudmc_endpoint}/v1/services/{service_code}/{environment_name}",
    ]);
    expect(contract.findOperation("GET", "/v1/services/compute-qc/dev/zones")?.operation.value.operationId).toBe("listZones");
    expect(contract.findOperation("GET", "/api/v1/services/compute-qc/dev/zones/1")?.operation.value.operationId).toBe("getZone");
  });

  it("finds tasks at the API root, not under the service", () => {
    expect(contract.findOperation("GET", "/api/v2/tasks/abc")?.operation.value.operationId).toBe("getTask");
    expect(contract.findOperation("GET", "/v1/tasks/abc")?.operation.value.operationId).toBe("getTask");
    expect(contract.findOperation("GET", "/api/v2/services/compute-qc/dev/tasks/abc")).toBeUndefined();
  });
});
