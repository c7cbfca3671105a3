/**
 * Mutation check: every recording is broken in every way its schema forbids for sure — a required
 * field dropped, a value of another type, an enum value out of range, a malformed format — and
 * the checker must flag each mutant. Only schemas that apply unconditionally (through `$ref` and
 * `allOf`, not inside `anyOf`/`oneOf` alternatives) are used to plan mutations, so that every
 * mutant is really invalid.
 */
import { describe, expect, it } from "vitest";
import { APIS } from "../../src/apis.ts";
import { findResponse, jsonMediaType, resolveLocal, type OpenApiDocument } from "../../src/contract/document.ts";
import { loadContract } from "../../src/contract/index.ts";
import { readRecordings } from "../support/recordings.ts";

type Schema = Record<string, unknown>;
interface Mutant {
  name: string;
  body: unknown;
}

/** The schemas that certainly apply here: follow `$ref` and `allOf`, nothing conditional. */
function definite(document: OpenApiDocument, schema: unknown): Schema[] {
  if (typeof schema !== "object" || schema === null) return [];
  const resolved = resolveLocal<Schema>(document, { value: schema, pointer: "" }).value;
  return [resolved, ...((resolved.allOf as unknown[] | undefined) ?? []).flatMap((part) => definite(document, part))];
}

const BAD_FORMATS: Record<string, string> = { "date-time": "yesterday", uri: "not a uri", uuid: "not-a-uuid", email: "not-an-email" };
const OTHER_TYPE: Record<string, unknown> = { string: 12345, integer: "12345", number: "12.5", boolean: "true", array: { not: "an array" }, object: ["not", "an", "object"] };

function set(root: unknown, path: (string | number)[], change: (parent: any, key: string | number) => void): unknown {
  const copy = structuredClone(root);
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], copy);
  change(parent, path.at(-1)!);
  return copy;
}

function plan(document: OpenApiDocument, schema: unknown, value: unknown, path: (string | number)[], body: unknown, mutants: Mutant[]): void {
  const schemas = definite(document, schema);
  const where = `$${path.map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`)).join("")}`;
  if (Array.isArray(value)) {
    const items = schemas.map((s) => s.items).filter(Boolean);
    if (items.length > 0) value.slice(0, 2).forEach((item, index) => items.forEach((itemSchema) => plan(document, itemSchema, item, [...path, index], body, mutants)));
    return;
  }
  if (typeof value !== "object" || value === null) return;
  for (const required of new Set(schemas.flatMap((s) => (s.required as string[] | undefined) ?? []))) {
    if (required in value) mutants.push({ name: `drop ${where}.${required}`, body: set(body, [...path, required], (parent, key) => delete parent[key]) });
  }
  for (const [key, child] of Object.entries(value)) {
    const propertySchemas = schemas.flatMap((s) => definite(document, (s.properties as Record<string, unknown> | undefined)?.[key]));
    if (propertySchemas.length === 0) continue;
    const childPath = [...path, key];
    const conditional = propertySchemas.some((s) => s.anyOf || s.oneOf || s.not || s.if);
    const types = propertySchemas.map((s) => s.type).filter((t) => t !== undefined);
    if (!conditional && types.length > 0 && types.every((t) => typeof t === "string" && t === types[0]) && (types[0] as string) in OTHER_TYPE) {
      mutants.push({ name: `retype ${where}.${key} (${types[0]})`, body: set(body, childPath, (parent, k) => (parent[k] = OTHER_TYPE[types[0] as string])) });
    }
    const enumSchema = propertySchemas.find((s) => Array.isArray(s.enum));
    if (!conditional && enumSchema) mutants.push({ name: `enum ${where}.${key}`, body: set(body, childPath, (parent, k) => (parent[k] = "__NOT_DOCUMENTED__")) });
    const format = propertySchemas.map((s) => s.format as string | undefined).find((f) => f && f in BAD_FORMATS);
    if (!conditional && format && typeof child === "string") mutants.push({ name: `format ${where}.${key} (${format})`, body: set(body, childPath, (parent, k) => (parent[k] = BAD_FORMATS[format])) });
    if (!conditional) for (const s of propertySchemas) plan(document, s, child, childPath, body, mutants);
  }
}

describe.each(APIS.map((api) => api.id))("%s mutants", async (id) => {
  const contract = await loadContract(id);
  const cases = readRecordings(id).flatMap(({ file, recording }) => {
    const { method, path } = recording.request;
    const { status, body } = recording.response;
    const matched = contract.findOperation(method, path);
    const found = matched && findResponse(contract.document, matched.operation, status);
    const mediaType = found && jsonMediaType(found.response.value);
    if (!found || !mediaType || body === null || body === undefined) return [];
    const mutants: Mutant[] = [];
    plan(contract.document, found.response.value.content![mediaType]!.schema, body, [], body, mutants);
    return mutants.map((mutant) => ({ file, name: mutant.name, exchange: { method, path, status, body: mutant.body } }));
  });

  it("flags every mutant of every recording", () => {
    const missed = cases.filter(({ exchange }) => contract.validateResponse(exchange).valid);
    const score = cases.length === 0 ? 100 : ((cases.length - missed.length) / cases.length) * 100;
    console.log(`${id}: mutation score ${score.toFixed(1)}% (${cases.length - missed.length} of ${cases.length} mutants flagged)`);
    expect(cases.length).toBeGreaterThan(id === "cvm" ? 50 : 200);
    expect(missed.map(({ file, name }) => `${file}: ${name}`)).toEqual([]);
  });
});
