import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { asResponse, brokenCopy, readRecording, readRecordings } from "../support/recordings.ts";

let contract: Contract;
beforeAll(async () => {
  contract = await loadContract("cloudmanager");
});

const recordings = readRecordings("cloudmanager");

type Operation = { tags?: string[]; parameters?: { $ref?: string; name?: string }[] };
const operationOf = (method: string, path: string) => contract.findOperation(method, path)?.operation.value as Operation | undefined;
const hasParam = (operation: Operation | undefined, name: string) =>
  (operation?.parameters ?? []).some((p) => p.$ref === `#/components/parameters/${name}` || p.name === name);

describe("recorded Cloud Manager responses", () => {
  it.each(recordings)("$file conforms to the contract, with no undocumented property", ({ recording }) => {
    const result = contract.validateResponse(asResponse(recording), { strict: true });
    expect(formatErrors(result.errors)).toBe("");
    expect(result.valid).toBe(true);
  });

  it("cover every family the issue names (the root resource has no Cloud Manager example)", () => {
    const recordedTags = new Set(recordings.flatMap(({ recording }) => operationOf(recording.request.method, recording.request.path)?.tags ?? []));
    const families = new Set(contract.operations.flatMap((op) => operationOf(op.method, op.pathTemplate)?.tags ?? []));
    families.delete("Root");
    expect([...families].filter((tag) => !recordedTags.has(tag))).toEqual([]);
  });

  it("include paged lists that link to a next page, and errors", () => {
    const files = recordings.map(({ file }) => file);
    expect(files).toEqual(expect.arrayContaining(["projects-list.json", "events-project-list.json"]));
    expect(recordings.filter(({ recording }) => recording.response.status >= 400).length).toBeGreaterThan(0);
  });
});

describe("principles, everywhere they apply", () => {
  it("offers pageNum and itemsPerPage on every paged list GET, and envelope and pretty on every operation", () => {
    const document = contract.document as unknown as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { allOf?: { $ref?: string }[] } }> }> }>> };
    for (const { method, pathTemplate, operationId } of contract.operations) {
      const operation = operationOf(method, pathTemplate);
      expect(hasParam(operation, "Envelope") && hasParam(operation, "Pretty"), `${operationId} lacks envelope/pretty`).toBe(true);
      const ok = document.paths[pathTemplate]![method]!.responses["200"];
      const paged = ok?.content?.["application/json"]?.schema?.allOf?.some((part) => part.$ref === "#/components/schemas/PagedList");
      // A single entity the docs show wrapped as a list (the user access list entry) is not paged.
      if (paged && method === "get" && !pathTemplate.endsWith("}")) expect(hasParam(operation, "PageNum") && hasParam(operation, "ItemsPerPage"), `${operationId} is paged without pageNum/itemsPerPage`).toBe(true);
    }
  });

  it("caps itemsPerPage at 500 with a default of 100, and pageNum defaults to 1", () => {
    const parameters = (contract.document.components as { parameters: Record<string, { schema: object }> }).parameters;
    expect(parameters.ItemsPerPage!.schema).toMatchObject({ default: 100, maximum: 500 });
    expect(parameters.PageNum!.schema).toMatchObject({ default: 1, minimum: 1 });
  });

  it("documents the rate limit (429 RATE_LIMITED) on measurements", () => {
    const measurements = contract.operations.filter((op) => op.pathTemplate.endsWith("/measurements"));
    expect(measurements.length).toBeGreaterThan(0);
    for (const op of measurements) expect(op.statuses).toContain("429");
  });

  it("lists every error code of the reference under its HTTP status", () => {
    // The reference's error-code catalogue, kept beside the spec (code, HTTP status).
    const catalogue = readFileSync(new URL("../../spec/cloudmanager/error-codes.tsv", import.meta.url), "utf8");
    const responses = (contract.document.components as { responses: Record<string, { content: { "application/json": { schema: { allOf?: { properties?: { errorCode?: { enum?: string[] } } }[] } } } }> }).responses;
    const byStatus = new Map<string, string[]>();
    for (const response of Object.values(responses)) {
      const codes = response.content["application/json"].schema.allOf?.[1]?.properties?.errorCode?.enum ?? [];
      const example = Object.values((response.content["application/json"] as unknown as { examples: Record<string, { value: { error: number } }> }).examples)[0]!;
      byStatus.set(String(example.value.error), codes);
    }
    for (const line of catalogue.split("\n").filter((l) => l && !l.startsWith("#"))) {
      const [code, status] = line.split("\t");
      expect(byStatus.get(status!.replace("*", "").trim()), `${code}`).toContain(code);
    }
  }, 20_000);
});

const broken = (file: string, edit: (body: any) => void) => brokenCopy("cloudmanager", file, edit);

describe("hand-broken copies fail where they are broken", () => {
  it("rejects a list whose totalCount is a string", () => {
    const result = contract.validateResponse(broken("projects-list.json", (body) => (body.totalCount = "2")));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.totalCount", keyword: "type" }));
  });

  it("rejects a link whose href is not a URI", () => {
    const result = contract.validateResponse(broken("projects-list.json", (body) => (body.links[0].href = "not a uri")));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.links[0].href", keyword: "format" }));
  });

  it("rejects a 404 whose errorCode is not one documented for 404", () => {
    const result = contract.validateResponse(broken("maintenance-windows-get-not-found.json", (body) => (body.errorCode = "RATE_LIMITED")));
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.errorCode", keyword: "enum" }));
  });

  it("rejects a BSON timestamp without its increment", () => {
    const recording = readRecording("cloudmanager", "snapshots-get.json");
    const result = contract.validateResponse(broken("snapshots-get.json", (body) => delete body.created.increment));
    expect(recording.response.body).toHaveProperty("created.increment");
    expect(result.errors).toContainEqual(expect.objectContaining({ path: "$.created.increment", keyword: "required" }));
  });

  it("reports, in strict mode only, a host field the contract does not name", () => {
    const drifted = broken("hosts-get.json", (body) => (body.cpuArchitecture = "arm64"));
    expect(contract.validateResponse(drifted).valid).toBe(true);
    expect(contract.validateResponse(drifted, { strict: true }).errors).toEqual([
      { path: "$.cpuArchitecture", keyword: "undocumented", message: "property is not described by the contract" },
    ]);
  });
});
