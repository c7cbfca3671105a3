/**
 * Each contract against its reference inventory (spec/<id>/reference.tsv, written from the
 * vendor's reference by `npm run reference`): every operation of the bundled contract is a
 * documented endpoint (`described`) or a form the reference dropped (`deprecated`, and marked so),
 * and every endpoint the inventory says is described or deprecated is in the contract.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { endpointKey, parseInventory } from "../../scripts/reference.ts";
import { APIS } from "../../src/apis.ts";
import { childPointer, HTTP_METHODS, resolveLocal, type OpenApiDocument } from "../../src/contract/document.ts";

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: { enum?: string[] };
}

interface ContractEndpoint {
  key: string;
  label: string;
  deprecated: boolean;
}

/**
 * The endpoints a bundled contract describes: one per operation, and for a query-dispatched one
 * (an `operation` query parameter with an enum) one per name, `path?operation=<name>`, plus the
 * bare path when the parameter is optional.
 */
export function contractEndpoints(document: OpenApiDocument): ContractEndpoint[] {
  const endpoints: ContractEndpoint[] = [];
  for (const path of Object.keys(document.paths)) {
    const item = resolveLocal<Record<string, unknown>>(document, { value: document.paths[path], pointer: childPointer("#", "paths", path) }).value;
    for (const method of HTTP_METHODS) {
      const operation = item[method] as { deprecated?: boolean; operationId?: string; parameters?: unknown[] } | undefined;
      if (!operation) continue;
      const parameters = [...((item.parameters as unknown[]) ?? []), ...(operation.parameters ?? [])].map(
        (parameter) => resolveLocal<Parameter>(document, { value: parameter, pointer: "#" }).value,
      );
      const dispatch = parameters.find((parameter) => parameter.in === "query" && parameter.name === "operation" && parameter.schema?.enum);
      const targets = dispatch
        ? [...(dispatch.required ? [] : [path]), ...dispatch.schema!.enum!.map((name) => `${path}?operation=${name}`)]
        : [path];
      for (const target of targets) {
        endpoints.push({
          key: endpointKey(method, target),
          label: `${method.toUpperCase()} ${target} (${operation.operationId})`,
          deprecated: operation.deprecated === true,
        });
      }
    }
  }
  return endpoints;
}

const inventoried = APIS.map(({ id }) => id).filter((id) => existsSync(new URL(`../../spec/${id}/reference.tsv`, import.meta.url)));

describe("reference inventories", () => {
  it("exist for the APIs whose contracts follow a pinned reference revision", () => {
    expect(inventoried).toEqual(expect.arrayContaining(["cloudmc", "cloudstack"]));
  });

  describe.each(inventoried)("%s", (id) => {
    const document = JSON.parse(readFileSync(new URL(`../../generated/${id}/openapi.json`, import.meta.url), "utf8")) as OpenApiDocument;
    const lines = parseInventory(readFileSync(new URL(`../../spec/${id}/reference.tsv`, import.meta.url), "utf8"), `spec/${id}/reference.tsv`);
    const byKey = new Map(lines.map((line) => [endpointKey(line.method, line.path), line]));
    const endpoints = contractEndpoints(document);
    const described = new Map(endpoints.map((endpoint) => [endpoint.key, endpoint]));

    it("lists every operation of the contract, as described or deprecated", () => {
      const missing = endpoints.filter(({ key }) => !byKey.has(key)).map(({ label }) => label);
      expect(missing, "operations with no inventory line").toEqual([]);
      const leftOutButDescribed = endpoints.filter(({ key }) => byKey.get(key)?.status.startsWith("left out")).map(({ label }) => label);
      expect(leftOutButDescribed, "operations whose inventory line says left out").toEqual([]);
    });

    it("has an operation for every described or deprecated endpoint, deprecated exactly where the inventory says", () => {
      const kept = lines.filter(({ status }) => status === "described" || status === "deprecated");
      expect(kept.filter((line) => !described.has(endpointKey(line.method, line.path))).map((l) => `${l.method} ${l.path} (${l.status}, ${l.file})`)).toEqual([]);
      const wrongFlag = kept.filter((line) => {
        const endpoint = described.get(endpointKey(line.method, line.path));
        return endpoint !== undefined && endpoint.deprecated !== (line.status === "deprecated");
      });
      expect(wrongFlag.map((l) => `${l.method} ${l.path} is ${l.status} in the inventory`)).toEqual([]);
    });

    it("gives every line a known status, and a reason to every left-out endpoint", () => {
      const unknown = lines.filter(({ status }) => !["described", "deprecated"].includes(status) && !/^left out: \S/.test(status));
      expect(unknown).toEqual([]);
    });

    it("names the revision it was read from in the contract's description (or, read page by page, the inventory)", () => {
      const commits = new Set(lines.filter(({ status }) => status !== "deprecated").map(({ commit }) => commit));
      const description = (document.info as { description?: string }).description ?? "";
      // A reference too large to read at one revision here (mongodb/docs) is read page by page,
      // each at its newest commit: the description points at the inventory that lists them.
      if (commits.size === 1) expect(description).toContain([...commits][0]!.slice(0, 7));
      else expect(description).toContain(`spec/${id}/reference.tsv`);
    });
  });
});
