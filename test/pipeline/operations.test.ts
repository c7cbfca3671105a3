/** The operation map generated for query-dispatched endpoints (`?operation=<name>`). */
import { describe, expect, it } from "vitest";
import type { OpenApiDocument } from "../../src/contract/document.ts";
import { findDispatchedOperations, renderOperationModule, renderOperationTypes } from "../../scripts/operations.ts";

const operationParam = (names: string[]) => ({ name: "operation", in: "query", required: true, schema: { type: "string", enum: names } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function documentWith(post: object, extraSchemas: Record<string, object> = {}): OpenApiDocument {
  return {
    openapi: "3.1.0",
    info: { title: "t", version: "1" },
    paths: { "/instances/{id}": { post: { operationId: "operateInstance", ...post } } },
    components: {
      schemas: {
        InstanceStopRequest: { type: "object", properties: { forceStop: { type: "boolean" } } },
        InstanceChangeComputeOfferingRequest: { type: "object", required: ["computeOfferingId"], properties: { computeOfferingId: { type: "string" } } },
        ...extraSchemas,
      },
    },
  };
}

const body = (schema: object) => ({ requestBody: { content: { "application/json": { schema } } } });

describe("findDispatchedOperations", () => {
  it("lists every enum name with its method, path and (required or optional) body", () => {
    const document = documentWith({
      parameters: [operationParam(["start", "stop", "changeComputeOffering"])],
      ...body({
        anyOf: [
          { title: "stop", "x-operation": "stop", ...ref("InstanceStopRequest") },
          { title: "changeComputeOffering", "x-operation": "changeComputeOffering", ...ref("InstanceChangeComputeOfferingRequest") },
        ],
      }),
    });
    const path = "/instances/{id}";
    expect(findDispatchedOperations(document)).toEqual([
      { entity: "instances", name: "start", method: "post", path, bodyRequired: false },
      { entity: "instances", name: "stop", method: "post", path, bodySchema: "InstanceStopRequest", bodyRequired: false },
      { entity: "instances", name: "changeComputeOffering", method: "post", path, bodySchema: "InstanceChangeComputeOfferingRequest", bodyRequired: true },
    ]);
  });

  it("reads x-operation on the schema itself when a single operation takes a body", () => {
    const document = documentWith({ parameters: [operationParam(["stop"])], ...body({ "x-operation": "stop", ...ref("InstanceStopRequest") }) });
    expect(findDispatchedOperations(document)[0]).toMatchObject({ name: "stop", bodySchema: "InstanceStopRequest" });
  });

  it("ignores endpoints without an operation parameter", () => {
    expect(findDispatchedOperations(documentWith({ parameters: [] }))).toEqual([]);
  });

  it("refuses an operation body written inline, naming the operation", () => {
    const document = documentWith({ parameters: [operationParam(["stop"])], ...body({ "x-operation": "stop", type: "object" }) });
    expect(() => findDispatchedOperations(document)).toThrow(/operateInstance.*"stop" must be a \$ref/);
  });

  it("refuses a body branch whose operation is not in the enum", () => {
    const document = documentWith({ parameters: [operationParam(["start"])], ...body({ "x-operation": "stpo", ...ref("InstanceStopRequest") }) });
    expect(() => findDispatchedOperations(document)).toThrow(/x-operation "stpo" is not in the operation enum/);
  });
});

describe("rendering", () => {
  const operations = [
    { entity: "instances", name: "start", method: "post", path: "/i/{id}", bodyRequired: false },
    { entity: "instances", name: "stop", method: "post", path: "/i/{id}", bodySchema: "InstanceStopRequest", bodyRequired: false },
  ];

  it("types each operation's body from the generated schema", () => {
    const types = renderOperationTypes(operations);
    expect(types).toContain('"start": { method: "post"; path: "/i/{id}"; body: never; bodyRequired: false };');
    expect(types).toContain('"stop": { method: "post"; path: "/i/{id}"; body: components["schemas"]["InstanceStopRequest"]; bodyRequired: false };');
  });

  it("keeps method and path at run time", () => {
    const module = renderOperationModule(operations);
    expect(module).toContain("export const operations = {");
    expect(JSON.parse(module.slice(module.indexOf("{"), module.lastIndexOf("}") + 1))).toEqual({
      instances: { start: { method: "post", path: "/i/{id}" }, stop: { method: "post", path: "/i/{id}" } },
    });
  });
});
