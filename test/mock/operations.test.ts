/**
 * The operations the build saves beside each contract (generated/<id>/mock-operations.json), which
 * the mocks read instead of computing them: used only when made from the very openapi.json beside
 * them by the Prism engine installed, computed again otherwise.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APIS } from "../../src/apis.ts";
import type { OpenApiDocument } from "../../src/contract/document.ts";
import { loadMockOperations, MOCK_OPERATIONS_FILE, PRISM_HTTP_VERSION } from "../../src/mock/operations.ts";

const generated = (id: string, file: string) => new URL(`../../generated/${id}/${file}`, import.meta.url);
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe.each(APIS.map((api) => api.id))("generated/%s/mock-operations.json", (id) => {
  it("was made from the openapi.json beside it, by the Prism engine installed, one operation for each of the contract", async () => {
    const source = await readFile(generated(id, "openapi.json"));
    const saved = JSON.parse(await readFile(generated(id, MOCK_OPERATIONS_FILE), "utf8")) as { documentSha256: string; prismHttp: string; operations: { method: string; path: string }[] };
    expect(saved.documentSha256).toBe(sha256(source));
    expect(saved.prismHttp).toBe(PRISM_HTTP_VERSION);
    const document = JSON.parse(source.toString("utf8")) as OpenApiDocument;
    const count = Object.values(document.paths).flatMap((item) => Object.keys(item).filter((key) => ["get", "put", "post", "delete", "patch", "head", "options", "trace"].includes(key))).length;
    expect(saved.operations).toHaveLength(count);
  });
});

describe("loadMockOperations", () => {
  let dir: string;
  let source: Buffer;
  let document: OpenApiDocument;
  const plant = (fields: Record<string, unknown>) =>
    writeFile(join(dir, MOCK_OPERATIONS_FILE), JSON.stringify({ documentSha256: "", prismHttp: PRISM_HTTP_VERSION, operations: [{ planted: true }], ...fields }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mock-operations-"));
    source = await readFile(generated("cvm", "openapi.json"));
    document = JSON.parse(source.toString("utf8")) as OpenApiDocument;
    await writeFile(join(dir, "openapi.json"), source);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("uses the saved operations when they were made from these very bytes", async () => {
    await plant({ documentSha256: sha256(source) });
    expect(await loadMockOperations(dir, source, document)).toEqual([{ planted: true }]);
  });

  it("computes them when the openapi.json beside them changed since", async () => {
    await plant({ documentSha256: "0".repeat(64) });
    const operations = await loadMockOperations(dir, source, document);
    expect(operations.map((operation) => operation.iid).sort()).toContain("listVpses");
  });

  it("computes them when another version of Prism's engine made them", async () => {
    await plant({ documentSha256: sha256(source), prismHttp: "0.0.1" });
    expect(await loadMockOperations(dir, source, document)).toHaveLength(11);
  });

  it("computes them when the file is missing or is not JSON", async () => {
    await writeFile(join(dir, MOCK_OPERATIONS_FILE), "{ not json");
    expect(await loadMockOperations(dir, source, document)).toHaveLength(11);
    await rm(join(dir, MOCK_OPERATIONS_FILE));
    expect(await loadMockOperations(dir, source, document)).toHaveLength(11);
  });
});
