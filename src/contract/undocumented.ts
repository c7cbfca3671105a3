/**
 * Strict mode: lists properties of a response body that its schema never names.
 *
 * Written here rather than done with Ajv: closing every object with `unevaluatedProperties:
 * false` breaks schemas that compose objects (a property named beside a `oneOf` counts as
 * unevaluated inside each branch), and no maintained library reports undocumented fields of a
 * valid document without editing the spec. This walk is deliberately generous: a property is
 * documented if any schema that applies at that place (through `$ref`, `allOf`, `anyOf`,
 * `oneOf`) names it. Whether the right branch matched is the normal validation's job.
 */
import { resolveLocal, type OpenApiDocument } from "./document.js";

type Schema = boolean | Record<string, unknown>;

export interface UndocumentedProperty {
  /** JSON path of the property, e.g. `$.response.vpses[0].cpu_model`. */
  path: string;
}

export function findUndocumentedProperties(document: OpenApiDocument, schema: unknown, body: unknown): UndocumentedProperty[] {
  return scanUndocumentedProperties(document, schema, body, Infinity).properties;
}

/** The first `limit` undocumented properties, and how many more there are. */
export function scanUndocumentedProperties(
  document: OpenApiDocument, schema: unknown, body: unknown, limit: number,
): { properties: UndocumentedProperty[]; more: number } {
  const found: Found = { properties: [], more: 0, limit };
  walk(document, expand(document, [schema as Schema]), body, "$", found);
  return { properties: found.properties, more: found.more };
}

interface Found {
  properties: UndocumentedProperty[];
  /** Undocumented properties past `limit`: counted, not kept (a body can have millions). */
  more: number;
  limit: number;
}

/** Follows `$ref` and composition keywords, returning every object schema that applies here. */
function expand(document: OpenApiDocument, schemas: Schema[]): Record<string, unknown>[] {
  const result: Record<string, unknown>[] = [];
  const seen = new Set<unknown>();
  const visit = (schema: Schema | undefined) => {
    if (typeof schema !== "object" || schema === null) return;
    const resolved = resolveLocal<Schema>(document, { value: schema, pointer: "" }).value;
    if (typeof resolved !== "object" || seen.has(resolved)) return;
    seen.add(resolved);
    result.push(resolved);
    for (const keyword of ["allOf", "anyOf", "oneOf"]) {
      for (const member of (resolved[keyword] as Schema[] | undefined) ?? []) visit(member);
    }
  };
  schemas.forEach(visit);
  return result;
}

const isOpenSchema = (value: unknown) => value !== undefined && value !== false;

function walk(document: OpenApiDocument, schemas: Record<string, unknown>[], value: unknown, path: string, found: Found): void {
  if (Array.isArray(value)) {
    const itemSchemas = expand(document, schemas.map((schema) => schema.items).filter((items): items is Schema => items !== undefined));
    value.forEach((item, index) => walk(document, itemSchemas, item, `${path}[${index}]`, found));
    return;
  }
  if (typeof value !== "object" || value === null) return;

  const describesProperties = schemas.some((schema) => schema.properties !== undefined);
  for (const [key, child] of Object.entries(value)) {
    const named = schemas
      .map((schema) => (schema.properties as Record<string, Schema> | undefined)?.[key])
      .filter((propertySchema): propertySchema is Schema => propertySchema !== undefined && propertySchema !== false);
    const patterned = schemas.flatMap((schema) =>
      Object.entries((schema.patternProperties as Record<string, Schema> | undefined) ?? {})
        .filter(([pattern]) => new RegExp(pattern, "u").test(key))
        .map(([, propertySchema]) => propertySchema),
    );
    const additional = schemas
      .map((schema) => schema.additionalProperties ?? schema.unevaluatedProperties)
      .filter(isOpenSchema) as Schema[];
    const childSchemas = [...named, ...patterned, ...additional];
    const childPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
    if (describesProperties && childSchemas.length === 0) {
      if (found.properties.length < found.limit) found.properties.push({ path: childPath });
      else found.more++;
      continue;
    }
    walk(document, expand(document, childSchemas), child, childPath, found);
  }
}
