import { beforeAll, describe, expect, it } from "vitest";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { asResponse, readRecording, readRecordings } from "../support/recordings.ts";

let contract: Contract;
beforeAll(async () => {
  contract = await loadContract("cvm");
});

const recordings = readRecordings("cvm");

describe("recorded CVM responses", () => {
  it("covers every operation of the contract", () => {
    const recorded = new Set(recordings.map(({ recording }) => contract.validateResponse(asResponse(recording)).operationId));
    const all = contract.operations.map((operation) => operation.operationId);
    expect(all).toHaveLength(11);
    expect([...recorded].sort()).toEqual(all.sort());
  });

  it.each(recordings)("$file conforms to the contract, with no undocumented property", ({ recording }) => {
    const result = contract.validateResponse(asResponse(recording), { strict: true });
    expect(formatErrors(result.errors)).toBe("");
    expect(result.valid).toBe(true);
  });
});

/** A deep copy of a recording's response, changed by `edit`. */
function broken(file: string, edit: (body: any) => void, status?: number) {
  const recording = readRecording("cvm", file);
  edit(recording.response.body);
  return { ...asResponse(recording), ...(status === undefined ? {} : { status }) };
}

const newerList = "list-valid-newer.json";

describe("hand-broken copies fail where they are broken", () => {
  it("rejects an id sent as a JSON number instead of a digit string", () => {
    const result = contract.validateResponse(broken(newerList, (body) => (body.response.vpses[0].id = 1)));
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual({ path: "$.response.vpses[0].id", keyword: "type", message: "must be string" });
  });

  it("rejects a numeric string with other characters", () => {
    const result = contract.validateResponse(broken(newerList, (body) => (body.response.vpses[1].disk_space = "40 GB")));
    expect(result.errors.map((e) => e.path)).toEqual(["$.response.vpses[1].disk_space"]);
    expect(result.errors[0]!.keyword).toBe("pattern");
  });

  it("rejects a VPS that mixes combined and split traffic keys", () => {
    const result = contract.validateResponse(broken(newerList, (body) => (body.response.vpses[0].traffic_limit = "1000")));
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.response.vpses[0].traffic_limit", message: "is not allowed here" }));
  });

  it("rejects a VPS with no traffic keys at all", () => {
    const result = contract.validateResponse(
      broken(newerList, (body) => {
        for (const key of ["traffic_in_limit", "traffic_in_used", "traffic_out_limit", "traffic_out_used"]) delete body.response.vpses[0][key];
      }),
    );
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.response.vpses[0]", keyword: "oneOf" }));
  });

  it("accepts combined traffic accounting, with the sum as a string or a number", () => {
    for (const used of ["912727849", 929651797]) {
      const result = contract.validateResponse(
        broken(newerList, (body) => {
          const vps = body.response.vpses[0];
          for (const key of ["traffic_in_limit", "traffic_in_used", "traffic_out_limit", "traffic_out_used"]) delete vps[key];
          Object.assign(vps, { traffic_limit: "1000000000000", traffic_used: used });
        }),
      );
      expect(formatErrors(result.errors)).toBe("");
    }
  });

  it("accepts a VPS without burstable_ram (vSwap)", () => {
    const result = contract.validateResponse(broken(newerList, (body) => delete body.response.vpses[0].burstable_ram));
    expect(result.valid).toBe(true);
  });

  it("rejects a status outside the documented enum", () => {
    const result = contract.validateResponse(broken("status-running-split.json", (body) => (body.response.status = "paused")));
    expect(result.errors).toEqual([expect.objectContaining({ path: "$.response.status", keyword: "enum" })]);
  });

  it("rejects an error envelope whose errors are not an array of strings", () => {
    const result = contract.validateResponse(broken("list-invalid-token-pair.json", (body) => (body.errors = body.errors[0])));
    expect(result.errors).toEqual([expect.objectContaining({ path: "$.errors", keyword: "type" })]);
  });

  it("rejects a success envelope without the response key", () => {
    const result = contract.validateResponse(broken(newerList, (body) => {
      body.vpses = body.response.vpses;
      delete body.response;
    }));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.response", keyword: "required" }));
  });

  it("rejects a body on an action that answers with an empty body", () => {
    const result = contract.validateResponse({ method: "POST", path: "/api/client/vps/1/start", status: 200, body: { response: {} } });
    expect(result).toMatchObject({ valid: false, operationId: "startVps", errors: [{ keyword: "body" }] });
  });

  it("rejects a status code the operation does not document", () => {
    const result = contract.validateResponse({ method: "GET", path: "/api/client/vps/list", status: 404, body: { errors: ["x"] } });
    expect(result).toMatchObject({ valid: false, operationId: "listVpses", errors: [{ keyword: "status" }] });
    expect(result.errors[0]!.message).toContain("401");
  });

  it("reports a path that no operation serves", () => {
    const result = contract.validateResponse({ method: "DELETE", path: "/api/client/vps/1", status: 200, body: null });
    expect(result).toMatchObject({ valid: false, operationId: undefined, errors: [{ keyword: "operation" }] });
  });
});

describe("operation lookup", () => {
  it.each([
    ["GET", "/api/client/vps/list", "listVpses"],
    ["GET", "/api/client/vps/17", "getVpsStatus"],
    ["GET", "/api/client/vps/17/status", "getLegacyVpsStatus"],
    ["POST", "/api/client/vps/17/reinstall?x=1", "reinstallVps"],
    ["get", "/api/client/template/list", "listTemplates"],
  ])("%s %s is %s", (method, path, operationId) => {
    expect(contract.findOperation(method, path)?.operation.value.operationId).toBe(operationId);
  });
});

describe("strict mode", () => {
  const drifted = () => broken(newerList, (body) => (body.response.vpses[1].ipv6_addresses = ["2001:db8::1"]));

  it("reports a property the contract does not name, with its path", () => {
    const result = contract.validateResponse(drifted(), { strict: true });
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([
      { path: "$.response.vpses[1].ipv6_addresses", keyword: "undocumented", message: "property is not described by the contract" },
    ]);
  });

  it("leaves undocumented properties alone when not strict", () => {
    expect(contract.validateResponse(drifted()).valid).toBe(true);
  });
});
