/**
 * Which operation a method and a concrete path address, on a small document that has every kind
 * of template the matcher must tell apart; and which of an operation's responses a status leads to.
 */
import { describe, expect, it } from "vitest";
import { createOperationMatcher, type OpenApiDocument } from "../../src/contract/document.ts";
import { createContract } from "../../src/contract/index.ts";

const op = (operationId: string) => ({ operationId, responses: { "200": { description: "ok" } } });
const document: OpenApiDocument = {
  openapi: "3.1.0",
  info: { title: "matcher", version: "1" },
  servers: [{ url: "https://{host}/api/v2" }],
  paths: {
    "/vps/{id}": { get: op("getVps"), delete: op("deleteVps") },
    "/vps/list": { get: op("listVpses") },
    "/vps/{id}/disks/{disk}": { get: op("getDisk") },
    "/vps/{id}/disks/primary": { get: op("getPrimaryDisk") },
    "/{group}/settings/{key}": { get: op("getGroupSetting") },
    "/files/{name}.json": { get: op("getJsonFile") },
    "/files/{name}": { get: op("getFile") },
    "/shared": { $ref: "#/components/pathItems/Shared" },
  },
  components: { pathItems: { Shared: { get: op("getShared") } } },
};
const match = createOperationMatcher(document);
const operationId = (method: string, path: string) => match(method, path)?.operation.value.operationId;

describe("createOperationMatcher", () => {
  it("prefers a literal segment over a template at the same place", () => {
    expect(operationId("GET", "/vps/list")).toBe("listVpses");
    expect(operationId("GET", "/vps/1234")).toBe("getVps");
    expect(operationId("GET", "/vps/9/disks/primary")).toBe("getPrimaryDisk");
    expect(operationId("GET", "/vps/9/disks/sdb")).toBe("getDisk");
  });

  it("prefers the template with more literal segments, then falls back to one with the method", () => {
    // `/{group}/settings/{key}` and `/vps/{id}/disks/{disk}` do not compete; `/vps/{id}` has no POST.
    expect(operationId("GET", "/ops/settings/ttl")).toBe("getGroupSetting");
    expect(operationId("DELETE", "/vps/list")).toBe("deleteVps");
    expect(match("POST", "/vps/1")).toBeUndefined();
  });

  it("matches a template with text around a parameter by its pattern", () => {
    expect(operationId("GET", "/files/report.json")).toBe("getJsonFile");
    expect(operationId("GET", "/files/report.csv")).toBe("getFile");
  });

  it("takes the path with or without the server's base path, and ignores query and fragment", () => {
    expect(operationId("get", "/api/v2/vps/7?expand=disks#top")).toBe("getVps");
    expect(operationId("GET", "/vps/7#x?y")).toBe("getVps");
    expect(match("GET", "/api/v2/vps/7")).toEqual({ method: "get", pathTemplate: "/vps/{id}", operation: expect.objectContaining({ pointer: "#/paths/~1vps~1{id}/get" }) });
  });

  it("follows a path item $ref", () => {
    expect(match("GET", "/shared")?.operation).toEqual({ value: op("getShared"), pointer: "#/components/pathItems/Shared/get" });
  });

  it("accepts a trailing slash, but not an empty parameter or an unknown method", () => {
    expect(operationId("GET", "/vps/7/")).toBe("getVps");
    expect(match("GET", "/vps//disks/sdb")).toBeUndefined();
    expect(match("GET", "/vps/")).toBeUndefined();
    expect(match("PROPFIND", "/vps/7")).toBeUndefined();
    expect(match("GET", "/nothing/here")).toBeUndefined();
  });
});

describe("the response a status leads to", () => {
  const json = (schema: unknown) => ({ description: "d", content: { "application/json": { schema } } });
  const contract = createContract("statuses", {
    openapi: "3.1.0",
    info: { title: "statuses", version: "1" },
    paths: {
      "/things": {
        get: {
          operationId: "listThings",
          responses: {
            "200": json({ type: "array" }),
            "404": json({ const: "exactly 404" }),
            "4XX": json({ const: "any other 4xx" }),
            default: json({ const: "anything else" }),
          },
        },
      },
      "/bare": { get: { operationId: "getBare", responses: { "204": { description: "empty" } } } },
    },
  });
  const check = (path: string, status: number, body: unknown) => contract.validateResponse({ method: "GET", path, status, body });

  it("takes the exact code first, then the code's range, then default", () => {
    expect(check("/things", 200, []).valid).toBe(true);
    expect(check("/things", 404, "exactly 404").valid).toBe(true);
    expect(check("/things", 404, "any other 4xx").valid).toBe(false);
    expect(check("/things", 409, "any other 4xx").valid).toBe(true);
    expect(check("/things", 503, "anything else").valid).toBe(true);
    expect(check("/things", 201, "anything else").valid).toBe(true);
  });

  it("reports a status the operation does not document, naming those it does", () => {
    expect(check("/bare", 500, null).errors).toEqual([
      { path: "$", keyword: "status", message: "Status 500 is not documented for getBare (documented: 204)." },
    ]);
  });
});
