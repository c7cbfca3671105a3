/**
 * Every example in every bundled spec validates against its own schema, strictly: an example may
 * not carry a property that the schema does not name. (Redocly's lint checks examples too, but
 * only leniently; see redocly.yaml.) Response bodies go through the contract checker, as a
 * recorded response would; every other example (parameters, headers, request bodies, non-JSON
 * response bodies, and schemas' own `examples` / `example`) is checked with Ajv against the
 * schema it sits beside, inside the bundled document.
 */
import type { ValidateFunction } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { APIS } from "../../src/apis.ts";
import { documentId } from "../../src/contract/ajv.ts";
import { childPointer, findResponse, HTTP_METHODS, jsonMediaType, resolveLocal, type OpenApiDocument } from "../../src/contract/document.ts";
import { formatErrors, loadContract, toJsonPath } from "../../src/contract/index.ts";
import { findUndocumentedProperties } from "../../src/contract/undocumented.ts";
import { requestAjv } from "../support/requests.ts";

describe.each(APIS.map((api) => api.id))("%s examples", async (id) => {
  const contract = await loadContract(id);
  /** components/examples entries that some example `$ref`s. */
  const referenced = new Set<string>();
  const cases = contract.operations.flatMap(({ method, pathTemplate, operationId, statuses }) =>
    statuses
      .filter((status) => /^\d{3}$/.test(status))
      .flatMap((status) => {
        const operation = contract.findOperation(method, pathTemplate)!.operation;
        const { response } = findResponse(contract.document, operation, Number(status))!;
        const mediaType = jsonMediaType(response.value);
        const examples = (mediaType ? (response.value.content![mediaType] as { examples?: Record<string, unknown> }).examples : undefined) ?? {};
        return Object.entries(examples).map(([name, example]) => {
          const resolved = resolveLocal<{ value: unknown }>(contract.document, { value: example, pointer: "" });
          if (resolved.pointer) referenced.add(resolved.pointer);
          return {
            name: `${operationId} ${status} ${name}`,
            method,
            // A concrete path that the template matches.
            path: pathTemplate.replace(/\{[^}]+\}/g, "1"),
            status: Number(status),
            body: resolved.value.value,
          };
        });
      }),
  );

  it("has at least one example per operation", () => {
    const withExamples = new Set(cases.map((example) => example.name.split(" ")[0]));
    const withJsonBodies = contract.operations.filter(({ statuses }) => statuses.length > 0).map((op) => op.operationId);
    expect(withJsonBodies.filter((operationId) => !withExamples.has(operationId))).toEqual([]);
  });

  it.each(cases)("$name matches its schema", ({ name, ...response }) => {
    const result = contract.validateResponse(response, { strict: true });
    expect(formatErrors(result.errors)).toBe("");
  });

  const sites = findExamples(contract.document);
  const ajv = requestAjv(contract);
  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (pointer: string) => {
    let validate = validators.get(pointer);
    if (!validate) validators.set(pointer, (validate = ajv.compile({ $ref: `${documentId(id)}${pointer}` })));
    return validate;
  };

  it("finds the parameter and request body examples the spec has", () => {
    const kinds = new Set(sites.map((site) => site.kind));
    expect(kinds).toContain("parameter");
    expect(kinds).toContain("request body");
  });

  it("uses every example of components/examples somewhere", () => {
    // An example nothing refers to is never checked against any schema.
    for (const site of sites) if (site.from) referenced.add(site.from);
    const unused = Object.keys(contract.document.components?.examples ?? {})
      .map((name) => childPointer("#", "components", "examples", name))
      .filter((pointer) => !referenced.has(pointer));
    expect(unused).toEqual([]);
  });

  // Named in full (it.each would cut `$title` at 40 characters).
  for (const { where, name, schemaPointer, value } of sites) {
    const title = `${where} ${name}`;
    it(`${title} matches its schema`, () => {
      const validate = validatorFor(schemaPointer);
      const errors = validate(value) ? [] : (validate.errors ?? []).map((error) => `${toJsonPath(error.instancePath)}: ${error.message ?? error.keyword}`);
      const schema = resolveLocal(contract.document, { value: { $ref: schemaPointer }, pointer: "" }).value;
      const undocumented = findUndocumentedProperties(contract.document, schema, value).map(({ path }) => `${path}: property is not described by the contract`);
      // A listed disagreement must stay exactly as listed: when the spec is fixed, the entry goes.
      expect([...errors, ...undocumented].join("\n")).toBe(KNOWN_DISAGREEMENTS[`${id} ${title}`] ?? "");
    });
  }
});

/**
 * Examples that disagree with their schema, reported and waiting for a spec fix (`<api> <where>
 * <name>` → the errors, exactly). Each test still fails if the errors change or go away.
 */
const KNOWN_DISAGREEMENTS: Readonly<Record<string, string>> = {};

interface ExampleSite {
  kind: "parameter" | "header" | "request body" | "response body" | "schema";
  /** Where the example stands, readably: `POST /organizations request body application/json`. */
  where: string;
  /** The example's name (`example` for the single one, the key of `examples`, or `examples[i]`). */
  name: string;
  /** JSON pointer of the schema the example must match. */
  schemaPointer: string;
  value: unknown;
  /** The components/examples entry it was taken from, if it was a `$ref`. */
  from?: string;
}

type Node = Record<string, unknown>;

/**
 * Every example of the document except JSON response bodies (checked above), each at the place
 * that defines it: a parameter or header in its operation, path item or components entry (a
 * `$ref` to one is not visited twice), a request body's or non-JSON response body's media type,
 * and the `examples` / `example` of every schema, inline or in components.
 */
function findExamples(document: OpenApiDocument): ExampleSite[] {
  const sites: ExampleSite[] = [];

  /** `example` and `examples` (a map of Example Objects, possibly `$ref`s) of a parameter, header or media type. */
  const fromHolder = (kind: ExampleSite["kind"], where: string, holder: Node, schemaPointer: string) => {
    if ("example" in holder) sites.push({ kind, where, name: "example", schemaPointer, value: holder.example });
    for (const [name, example] of Object.entries((holder.examples as Record<string, unknown> | undefined) ?? {})) {
      const resolved = resolveLocal<{ value?: unknown }>(document, { value: example, pointer: "" });
      sites.push({ kind, where, name, schemaPointer, value: resolved.value.value, ...(resolved.pointer ? { from: resolved.pointer } : {}) });
    }
  };

  /** A parameter or header given inline (a `$ref` is visited where it points, in components). */
  const parameterLike = (kind: "parameter" | "header", where: string, raw: unknown, pointer: string) => {
    const node = raw as Node;
    if (typeof node.$ref === "string") return;
    if (node.schema !== undefined) {
      fromHolder(kind, where, node, childPointer(pointer, "schema"));
      schemas(node.schema, childPointer(pointer, "schema"));
    }
  };

  const media = (kind: "request body" | "response body", where: string, content: Record<string, Node> | undefined, pointer: string) => {
    for (const [mediaType, entry] of Object.entries(content ?? {})) {
      const schemaPointer = childPointer(pointer, "content", mediaType, "schema");
      if (entry.schema !== undefined) schemas(entry.schema, schemaPointer);
      // JSON response bodies are the contract checker's (the response test above).
      if (kind === "response body" && /[/+]json\b/.test(mediaType)) continue;
      fromHolder(kind, `${where} ${mediaType}`, entry, schemaPointer);
    }
  };

  const response = (where: string, raw: unknown, pointer: string) => {
    const node = raw as Node;
    if (typeof node.$ref === "string") return;
    media("response body", where, node.content as Record<string, Node> | undefined, pointer);
    for (const [name, header] of Object.entries((node.headers as Record<string, unknown> | undefined) ?? {})) {
      parameterLike("header", `${where} header ${name}`, header, childPointer(pointer, "headers", name));
    }
  };

  /** Schema-level `examples` (an array) and `example`, in this schema and every subschema. */
  const schemas = (raw: unknown, pointer: string) => {
    if (typeof raw !== "object" || raw === null) return;
    const schema = raw as Node;
    const where = `schema ${pointer.replace(/^#\//, "")}`;
    (Array.isArray(schema.examples) ? schema.examples : []).forEach((value, index) =>
      sites.push({ kind: "schema", where, name: `examples[${index}]`, schemaPointer: pointer, value }),
    );
    if ("example" in schema) sites.push({ kind: "schema", where, name: "example", schemaPointer: pointer, value: schema.example });
    for (const keyword of ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedProperties", "unevaluatedItems"]) {
      if (schema[keyword] !== undefined) schemas(schema[keyword], childPointer(pointer, keyword));
    }
    for (const keyword of ["allOf", "anyOf", "oneOf", "prefixItems"]) {
      ((schema[keyword] as unknown[] | undefined) ?? []).forEach((member, index) => schemas(member, childPointer(pointer, keyword, String(index))));
    }
    for (const keyword of ["properties", "patternProperties", "dependentSchemas", "$defs"]) {
      for (const [name, member] of Object.entries((schema[keyword] as Record<string, unknown> | undefined) ?? {})) schemas(member, childPointer(pointer, keyword, name));
    }
  };

  for (const [pathTemplate, rawItem] of Object.entries(document.paths)) {
    const itemPointer = childPointer("#", "paths", pathTemplate);
    const item = rawItem as Node;
    ((item.parameters as unknown[] | undefined) ?? []).forEach((parameter, index) =>
      parameterLike("parameter", `${pathTemplate} parameter ${(parameter as Node).name}`, parameter, childPointer(itemPointer, "parameters", String(index))),
    );
    for (const method of HTTP_METHODS) {
      const operation = item[method] as Node | undefined;
      if (!operation) continue;
      const operationPointer = childPointer(itemPointer, method);
      const label = `${method.toUpperCase()} ${pathTemplate}`;
      ((operation.parameters as unknown[] | undefined) ?? []).forEach((parameter, index) =>
        parameterLike("parameter", `${label} parameter ${(parameter as Node).name}`, parameter, childPointer(operationPointer, "parameters", String(index))),
      );
      const body = operation.requestBody as Node | undefined;
      if (body && typeof body.$ref !== "string") {
        media("request body", `${label} request body`, body.content as Record<string, Node> | undefined, childPointer(operationPointer, "requestBody"));
      }
      for (const [status, value] of Object.entries((operation.responses as Record<string, unknown> | undefined) ?? {})) {
        response(`${label} ${status}`, value, childPointer(operationPointer, "responses", status));
      }
    }
  }

  const components = document.components ?? {};
  for (const [name, parameter] of Object.entries(components.parameters ?? {})) {
    parameterLike("parameter", `components/parameters/${name}`, parameter, childPointer("#", "components", "parameters", name));
  }
  for (const [name, header] of Object.entries(components.headers ?? {})) {
    parameterLike("header", `components/headers/${name}`, header, childPointer("#", "components", "headers", name));
  }
  for (const [name, body] of Object.entries(components.requestBodies ?? {})) {
    const pointer = childPointer("#", "components", "requestBodies", name);
    media("request body", `components/requestBodies/${name}`, (body as Node).content as Record<string, Node> | undefined, pointer);
  }
  for (const [name, value] of Object.entries(components.responses ?? {})) {
    response(`components/responses/${name}`, value, childPointer("#", "components", "responses", name));
  }
  for (const [name, schema] of Object.entries(components.schemas ?? {})) schemas(schema, childPointer("#", "components", "schemas", name));
  return sites;
}
