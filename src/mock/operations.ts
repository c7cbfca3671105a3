/**
 * Prism's operations for each contract, computed at build time and kept beside it.
 *
 * Before it can answer, Prism's engine turns a document into its operations
 * (`getHttpOperationsFromSpec`: every `$ref` resolved, parameters and examples gathered): some 1.3 s
 * for the five contracts here, most of a mock's start-up. The build (`npm run build`, its
 * `mock-operations` step) writes that result to `generated/<id>/mock-operations.json`, one
 * operation per line, with the SHA-256 of the openapi.json it came from and the Prism version that
 * made it; the mocks read it back in some 70 ms for all five. When either no longer matches (an
 * edited openapi.json, another Prism), the mock computes the operations itself, as before.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { getHttpOperationsFromSpec } from "./engine.js";
import type { OpenApiDocument } from "../contract/document.js";
import { mockDocument } from "./document.js";

export const MOCK_OPERATIONS_FILE = "mock-operations.json";

/** Prism's operations, as the engine takes them. */
export type MockOperations = Awaited<ReturnType<typeof getHttpOperationsFromSpec>>;

/** The version of Prism's engine that makes and reads the operations: another one recomputes them. */
export const PRISM_HTTP_VERSION = (createRequire(import.meta.url)("@stoplight/prism-http/package.json") as { version: string }).version;

interface OperationsFile {
  documentSha256: string;
  prismHttp: string;
  operations: MockOperations;
}

const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

/** The operations the mock serves for a bundled document. */
export function computeMockOperations(document: OpenApiDocument): Promise<MockOperations> {
  return getHttpOperationsFromSpec(mockDocument(document) as unknown as Record<string, unknown>);
}

/** The text of `mock-operations.json` for a bundled document (the bytes of its openapi.json). */
export async function renderMockOperations(source: Buffer): Promise<string> {
  const operations = await computeMockOperations(JSON.parse(source.toString("utf8")) as OpenApiDocument);
  const head = `{"documentSha256":${JSON.stringify(sha256(source))},"prismHttp":${JSON.stringify(PRISM_HTTP_VERSION)},"operations":[`;
  // One operation a line: a change to the contract shows as the lines of the operations it touched.
  return `${head}\n${operations.map((operation) => JSON.stringify(operation)).join(",\n")}\n]}\n`;
}

/**
 * The mock's operations for the openapi.json in `dir` (its bytes `source`, parsed `document`):
 * those of `mock-operations.json` beside it when it was made from these very bytes by this Prism,
 * else computed now.
 */
export async function loadMockOperations(dir: string, source: Buffer, document: OpenApiDocument): Promise<MockOperations> {
  let saved: OperationsFile | undefined;
  try {
    saved = JSON.parse(await readFile(join(dir, MOCK_OPERATIONS_FILE), "utf8")) as OperationsFile;
  } catch {
    saved = undefined; // missing or unreadable: computed below
  }
  if (saved?.documentSha256 === sha256(source) && saved.prismHttp === PRISM_HTTP_VERSION && Array.isArray(saved.operations)) return saved.operations;
  return computeMockOperations(document);
}
