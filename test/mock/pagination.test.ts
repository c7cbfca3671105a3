/**
 * Every paged list of the two paging APIs, walked with the client's `paginate` against its mock:
 * each documented list example is one page that agrees with itself (Cloud Manager `totalCount`,
 * results and `next` link; Cloud 66 `count`, `pagination` and the items), so the walk ends after
 * the documented total, with neither a missing page nor a page offered twice.
 */
import { describe, expect, it } from "vitest";
import { createCloud66Client, paginate as paginate66 } from "../../src/clients/cloud66.ts";
import { createCloudManagerClient, paginate as paginateCm } from "../../src/clients/cloudmanager.ts";
import { childPointer, resolveLocal, type OpenApiDocument } from "../../src/contract/document.ts";
import { loadContract } from "../../src/contract/index.ts";
import { MOCK_DIGEST_CREDENTIALS } from "../../src/mock/server.ts";
import { useMock } from "../support/mock.ts";

interface Parameter {
  name: string;
  in: string;
  example?: unknown;
  schema?: { example?: unknown; examples?: unknown[]; enum?: unknown[] };
}

interface PagedList {
  operationId: string;
  path: string;
  pathParams: Record<string, string>;
  /** What the default example says the walk must yield. */
  total: number;
}

/** A value for a path parameter: its documented example, else its first enum value. */
const sampleOf = (parameter: Parameter) => String(parameter.example ?? parameter.schema?.example ?? parameter.schema?.examples?.[0] ?? parameter.schema?.enum?.[0] ?? "x");

/** The paged GETs of a contract, with the total their default 200 example announces. */
function pagedLists(document: OpenApiDocument, isPaged: (example: any) => number | undefined): PagedList[] {
  const found: PagedList[] = [];
  for (const path of Object.keys(document.paths)) {
    const item = resolveLocal<Record<string, any>>(document, { value: document.paths[path], pointer: childPointer("#", "paths", path) }).value;
    const operation = item.get;
    if (!operation) continue;
    const ok = resolveLocal<any>(document, { value: operation.responses?.["200"], pointer: "#" }).value;
    const examples = Object.values(ok?.content?.["application/json"]?.examples ?? {}) as unknown[];
    if (examples.length === 0) continue;
    const example = resolveLocal<any>(document, { value: examples[0], pointer: "#" }).value?.value;
    const total = isPaged(example);
    if (total === undefined) continue;
    const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])].map((p: unknown) => resolveLocal<Parameter>(document, { value: p, pointer: "#" }).value);
    const pathParams = Object.fromEntries(parameters.filter((p) => p.in === "path").map((p) => [p.name, sampleOf(p)]));
    found.push({ operationId: operation.operationId, path, pathParams, total });
  }
  return found;
}

describe("Cloud Manager: paginate over every paged list of the mock", async () => {
  const mock = useMock("cloudmanager");
  const contract = await loadContract("cloudmanager");
  const lists = pagedLists(contract.document, (example) =>
    example && Array.isArray(example.results) && typeof example.totalCount === "number" ? example.totalCount : undefined,
  );

  it("finds the paged lists", () => {
    expect(lists.length).toBeGreaterThan(30);
  });

  it.each(lists.map((list) => [list.operationId, list] as const))("%s ends after its documented totalCount", async (_, list) => {
    const client = createCloudManagerClient({ baseUrl: mock.current.baseUrl, publicKey: MOCK_DIGEST_CREDENTIALS.username, privateKey: MOCK_DIGEST_CREDENTIALS.password });
    const items: unknown[] = [];
    for await (const item of paginateCm(client, list.path as never, { path: list.pathParams } as never)) items.push(item);
    expect(items).toHaveLength(list.total);
  });
});

describe("Cloud 66: paginate over every paged list of the mock", async () => {
  const mock = useMock("cloud66");
  const contract = await loadContract("cloud66");
  const lists = pagedLists(contract.document, (example) =>
    example && Array.isArray(example.response) && example.pagination ? example.pagination.count : undefined,
  );

  it("finds the paged lists", () => {
    expect(lists.length).toBeGreaterThan(15);
  });

  it.each(lists.map((list) => [list.operationId, list] as const))("%s ends after its documented pagination.count", async (_, list) => {
    const client = createCloud66Client({ baseUrl: mock.current.baseUrl, token: "mock-token" });
    const items: unknown[] = [];
    for await (const item of paginate66(client, list.path as never, { path: list.pathParams } as never)) items.push(item);
    expect(items).toHaveLength(list.total);
  });
});
