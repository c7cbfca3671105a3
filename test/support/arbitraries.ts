/**
 * fast-check arbitraries from the JSON Schemas of a bundled OpenAPI 3.1 document, for generating
 * requests (test/support/requests.ts).
 *
 * Written here rather than taken from a library: json-schema-fast-check (0.0.6, the one package
 * that maps JSON Schema to fast-check) is built on fast-check 1 and faker 4 and no longer
 * maintained, and json-schema-faker (installed with Prism) draws from its own random source, so
 * its values neither replay from a fast-check seed nor shrink. This covers the keywords the five
 * specs use in parameters and request bodies, and refuses any other (so a spec that starts using
 * one fails loudly instead of being half-generated):
 *
 * - `$ref` (local, with siblings), `allOf` (merged), `anyOf` / `oneOf` (a branch, merged with
 *   the keywords beside it), `if` / `then` / `else`, `not` (only its `required` is honoured while
 *   generating), boolean schemas;
 * - `type` (also arrays of types, so `["string", "null"]`), `enum`, `const`;
 * - strings: `format` (uuid, date-time, date, email, uri, ipv4, ipv6, hostname), `pattern`
 *   (fc.stringMatching), `minLength` / `maxLength`;
 * - numbers: `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum`, `multipleOf`,
 *   `format: int32 / int64`;
 * - arrays: `items`, `minItems` / `maxItems`, `uniqueItems`;
 * - objects: `properties` (optional ones present only sometimes), `required`,
 *   `additionalProperties` (a schema: a dictionary; `false`: nothing undeclared),
 *   `minProperties` / `maxProperties`, `dependentRequired`.
 *
 * Generation is best effort where keywords interact (two patterns, a `oneOf` whose branches
 * overlap, an `if` whose `then` is not taken): `validValues` filters every value with Ajv against
 * the very schema and counts what it throws away, so only valid values are sent and a generator
 * that mostly misses is noticed.
 */
import fc from "fast-check";
import { resolveLocal, type OpenApiDocument } from "../../src/contract/document.ts";

export type Schema = boolean | SchemaObject;
export type SchemaObject = { [keyword: string]: unknown };

/** Keywords that describe and never constrain (plus any `x-` extension). */
const ANNOTATIONS = new Set([
  "$comment", "title", "description", "default", "examples", "example", "deprecated", "readOnly", "writeOnly",
  "discriminator", "externalDocs", "xml", "contentMediaType", "contentEncoding",
]);
/** Keywords this module generates for (after `$ref` and `allOf` are merged away). */
const HANDLED = new Set([
  "type", "enum", "const", "format", "pattern", "minLength", "maxLength",
  "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
  "items", "minItems", "maxItems", "uniqueItems",
  "properties", "required", "additionalProperties", "minProperties", "maxProperties", "dependentRequired",
  "anyOf", "oneOf", "if", "then", "else", "not",
]);
// What `merge` collects while flattening: every `if`/`then`/`else` and every `not` that applies.
const CONDITIONALS = "~conditionals";
const NOTS = "~nots";

interface Conditional {
  if: Schema;
  then?: Schema;
  else?: Schema;
}

/** String formats, each with values Ajv's (ajv-formats') check accepts. */
const DAY_MS = 86_400_000;
const dates = fc.integer({ min: Date.UTC(1990, 0, 1) / DAY_MS, max: Date.UTC(2090, 0, 1) / DAY_MS }).chain((day) =>
  fc.integer({ min: 0, max: DAY_MS - 1 }).map((ms) => new Date(day * DAY_MS + ms)),
);
const FORMATS: Record<string, fc.Arbitrary<string>> = {
  uuid: fc.uuid(),
  "date-time": dates.map((date) => date.toISOString()),
  date: dates.map((date) => date.toISOString().slice(0, 10)),
  email: fc.emailAddress(),
  uri: fc.webUrl(),
  ipv4: fc.ipV4(),
  ipv6: fc.ipV6(),
  hostname: fc.domain(),
};
/** Formats of numbers: ranges. */
const NUMBER_FORMATS: Record<string, { min: number; max: number }> = {
  int32: { min: -(2 ** 31), max: 2 ** 31 - 1 },
  int64: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
};

/** Any JSON scalar, for a schema that says nothing about its value. */
const anything = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -1000, max: 1000 }), fc.boolean());

export interface ArbitraryOptions {
  /** Past this depth objects get only their required properties and arrays their fewest items (default 6). */
  maxDepth?: number;
}

/**
 * An arbitrary of values for `schema`, a schema of `document` (or a part of one: local `$ref`s
 * are followed in `document`). Throws when the schema uses a keyword this module does not know,
 * or cannot be satisfied.
 */
export function schemaArbitrary(document: OpenApiDocument, schema: Schema, options: ArbitraryOptions = {}): fc.Arbitrary<unknown> {
  return new Builder(document, options.maxDepth ?? 6).build(schema, 0);
}

/** A schema with `$ref` and `allOf` merged away at its top level (throws when unsatisfiable). */
export function flattenSchema(document: OpenApiDocument, schema: Schema): SchemaObject {
  const flat = new Builder(document, 0).flatten(schema);
  if (flat === false) throw new Error(`Unsatisfiable schema: ${preview(schema)}`);
  return flat;
}

class Builder {
  constructor(
    private readonly document: OpenApiDocument,
    private readonly maxDepth: number,
  ) {}

  build(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    if (depth > this.maxDepth + 10) throw new Error("Schema nesting too deep to generate (a required recursion?).");
    const flat = this.flatten(schema);
    if (flat === false) throw new Error(`Cannot generate a value for an unsatisfiable schema: ${preview(schema)}`);
    checkKeywords(flat);

    // One conditional at a time: take `then` (or `else`), or leave the `if` to chance and the filter.
    const conditionals = (flat[CONDITIONALS] as Conditional[] | undefined) ?? [];
    if (conditionals.length > 0) {
      const [first, ...rest] = conditionals as [Conditional, ...Conditional[]];
      const base: SchemaObject = { ...flat, [CONDITIONALS]: rest };
      const taken = merge(base, this.flatten(first.then ?? true));
      const other = first.else === undefined ? base : merge(base, this.flatten(first.else));
      const variants = [taken, taken, other].filter((variant): variant is SchemaObject => variant !== false);
      return fc.oneof(...variants.map((variant) => this.build(variant, depth)));
    }

    // A branch, merged with what stands beside `oneOf` / `anyOf`.
    for (const keyword of ["oneOf", "anyOf"] as const) {
      const branches = flat[keyword] as Schema[] | undefined;
      if (!branches) continue;
      const { [keyword]: _branches, ...base } = flat;
      const variants = branches
        .map((branch) => merge(base, this.flatten(branch)))
        .filter((variant): variant is SchemaObject => variant !== false);
      if (variants.length === 0) throw new Error(`No ${keyword} branch can be satisfied: ${preview(schema)}`);
      return fc.oneof(...variants.map((variant) => this.build(variant, depth)));
    }

    if ("const" in flat) return fc.constant(flat.const);
    if (Array.isArray(flat.enum)) {
      if (flat.enum.length === 0) throw new Error(`Empty enum: ${preview(schema)}`);
      return fc.constantFrom(...(flat.enum as unknown[]));
    }
    const types = typesOf(flat);
    const arbitraries = types.map((type) => this.byType(type, flat, depth));
    return arbitraries.length === 1 ? arbitraries[0]! : fc.oneof(...arbitraries);
  }

  /** `$ref` and `allOf` merged away (recursively at this level), `if` and `not` collected. */
  flatten(schema: Schema): SchemaObject | false {
    if (schema === true) return {};
    if (schema === false) return false;
    const { $ref, allOf, if: condition, then, else: otherwise, not, ...rest } = schema;
    let result: SchemaObject | false = {};
    if (typeof $ref === "string") {
      result = merge(result, this.flatten(resolveLocal<Schema>(this.document, { value: { $ref }, pointer: "" }).value));
    }
    for (const member of (allOf as Schema[] | undefined) ?? []) result = merge(result, this.flatten(member));
    const own: SchemaObject = { ...rest };
    if (condition !== undefined) {
      own[CONDITIONALS] = [{ if: condition as Schema, then: then as Schema | undefined, else: otherwise as Schema | undefined }];
    }
    if (not !== undefined) own[NOTS] = [not];
    return merge(result, own);
  }

  byType(type: string, schema: SchemaObject, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case "null":
        return fc.constant(null);
      case "boolean":
        return fc.boolean();
      case "integer":
        return integers(schema);
      case "number":
        return fc.oneof(integers(schema), doubles(schema));
      case "string":
        return strings(schema);
      case "array":
        return this.arrays(schema, depth);
      case "object":
        return this.objects(schema, depth);
      case "any":
        return anything;
      default:
        throw new Error(`Unknown type "${type}".`);
    }
  }

  arrays(schema: SchemaObject, depth: number): fc.Arbitrary<unknown[]> {
    const items = this.build((schema.items as Schema | undefined) ?? true, depth + 1);
    const minLength = (schema.minItems as number | undefined) ?? 0;
    const maxLength = depth >= this.maxDepth ? minLength : Math.min((schema.maxItems as number | undefined) ?? Infinity, minLength + 3);
    return schema.uniqueItems === true
      ? fc.uniqueArray(items, { minLength, maxLength, selector: (item) => JSON.stringify(item) })
      : fc.array(items, { minLength, maxLength });
  }

  objects(schema: SchemaObject, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    const required = new Set((schema.required as string[] | undefined) ?? []);
    const additional = schema.additionalProperties as Schema | undefined;
    const declared = Object.keys(properties).filter((key) => properties[key] !== false);
    const optional = depth >= this.maxDepth ? [] : declared.filter((key) => !required.has(key));

    // An open object that names no property: a small dictionary.
    if (declared.length === 0 && required.size === 0 && additional !== false) {
      const values = additional === undefined || additional === true ? anything : this.build(additional, depth + 1);
      const minKeys = (schema.minProperties as number | undefined) ?? 0;
      const maxKeys = depth >= this.maxDepth ? minKeys : Math.max(minKeys, Math.min((schema.maxProperties as number | undefined) ?? 3, minKeys + 3));
      return fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), values, { minKeys, maxKeys, noNullPrototype: true });
    }

    // Every property gets a value; then a subset of the optional ones is kept.
    const valueSchema = (key: string): Schema =>
      properties[key] ?? (typeof additional === "object" || additional === false ? (additional as Schema) : true);
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const key of [...required, ...optional]) model[key] = this.build(valueSchema(key), depth + 1);
    const dependents = (schema.dependentRequired as Record<string, string[]> | undefined) ?? {};
    const nots = ((schema[NOTS] as Schema[] | undefined) ?? []).map((not) => (typeof not === "object" ? not : {}));
    const minProperties = (schema.minProperties as number | undefined) ?? 0;
    const maxProperties = (schema.maxProperties as number | undefined) ?? Infinity;

    return fc.tuple(fc.record(model, { noNullPrototype: true }), fc.subarray(optional)).map(([values, chosen]) => {
      const kept = new Set([...required, ...chosen]);
      // dependentRequired: a kept key keeps its dependents (until nothing changes).
      for (let grown = true; grown; ) {
        grown = false;
        for (const key of [...kept]) {
          for (const dependent of dependents[key] ?? []) {
            if (!kept.has(dependent) && dependent in values) {
              kept.add(dependent);
              grown = true;
            }
          }
        }
      }
      for (const key of optional) if (kept.size < minProperties) kept.add(key);
      // `not: { required: [a, b] }`: not all of them together (drop an optional one).
      for (const not of nots) {
        const together = (not.required as string[] | undefined) ?? [];
        if (together.length > 0 && together.every((key) => kept.has(key))) {
          const droppable = together.find((key) => !required.has(key) && !Object.values(dependents).some((list) => list.includes(key)));
          if (droppable) kept.delete(droppable);
        }
      }
      for (const key of [...optional].reverse()) if (kept.size > maxProperties && kept.has(key)) kept.delete(key);
      return Object.fromEntries(Object.entries(values).filter(([key]) => kept.has(key)));
    });
  }
}

function integers(schema: SchemaObject): fc.Arbitrary<number> {
  const range = NUMBER_FORMATS[schema.format as string] ?? { min: -10_000, max: 1_000_000 };
  let min = Math.max(range.min, Math.ceil((schema.minimum as number | undefined) ?? -Infinity));
  let max = Math.min(range.max, Math.floor((schema.maximum as number | undefined) ?? Infinity));
  if (typeof schema.exclusiveMinimum === "number") min = Math.max(min, Math.floor(schema.exclusiveMinimum) + 1);
  if (typeof schema.exclusiveMaximum === "number") max = Math.min(max, Math.ceil(schema.exclusiveMaximum) - 1);
  // Only one bound given: a range of a million from it.
  if (schema.minimum !== undefined && schema.maximum === undefined && schema.exclusiveMaximum === undefined) max = Math.min(range.max, min + 1_000_000);
  if (schema.maximum !== undefined && schema.minimum === undefined && schema.exclusiveMinimum === undefined) min = Math.max(range.min, max - 1_000_000);
  const step = schema.multipleOf as number | undefined;
  if (step !== undefined) {
    return fc.integer({ min: Math.ceil(min / step), max: Math.floor(max / step) }).map((n) => n * step);
  }
  return fc.integer({ min, max });
}

function doubles(schema: SchemaObject): fc.Arbitrary<number> {
  const min = (schema.minimum as number | undefined) ?? (schema.exclusiveMinimum as number | undefined) ?? -1e6;
  const max = (schema.maximum as number | undefined) ?? (schema.exclusiveMaximum as number | undefined) ?? 1e6;
  return fc.double({
    min,
    max,
    minExcluded: schema.exclusiveMinimum !== undefined,
    maxExcluded: schema.exclusiveMaximum !== undefined,
    noNaN: true,
    noDefaultInfinity: true,
  });
}

function strings(schema: SchemaObject): fc.Arbitrary<string> {
  if (typeof schema.format === "string" && !(schema.format in NUMBER_FORMATS)) {
    const format = FORMATS[schema.format];
    if (!format) throw new Error(`String format "${schema.format}" has no generator (add one to FORMATS).`);
    return format;
  }
  if (typeof schema.pattern === "string") {
    return fc.stringMatching(new RegExp(schema.pattern, "u"));
  }
  const minLength = (schema.minLength as number | undefined) ?? 0;
  const maxLength = (schema.maxLength as number | undefined) ?? minLength + 16;
  return fc.string({ minLength, maxLength });
}

/** The types a schema allows; from its keywords when it names none (`any` when nothing says). */
function typesOf(schema: SchemaObject): string[] {
  if (typeof schema.type === "string") return [schema.type];
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (["properties", "required", "additionalProperties", "minProperties", "maxProperties", "dependentRequired"].some((k) => k in schema)) return ["object"];
  if (["items", "minItems", "maxItems", "uniqueItems"].some((k) => k in schema)) return ["array"];
  if (["pattern", "minLength", "maxLength"].some((k) => k in schema) || (typeof schema.format === "string" && schema.format in FORMATS)) return ["string"];
  if (["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"].some((k) => k in schema)) return ["number"];
  return ["any"];
}

function checkKeywords(schema: SchemaObject): void {
  for (const keyword of Object.keys(schema)) {
    if (HANDLED.has(keyword) || ANNOTATIONS.has(keyword) || keyword.startsWith("x-") || keyword === CONDITIONALS || keyword === NOTS) continue;
    throw new Error(`arbitraries.ts does not generate for the keyword "${keyword}" (in ${preview(schema)}).`);
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The conjunction of two flattened schemas, as one schema: properties and `required` united,
 * types and enums intersected, bounds tightened, `if`s and `not`s collected. Where two values
 * cannot be combined into one keyword (two patterns, two `oneOf`s) the first is kept: the result
 * then allows more than both together, which the Ajv filter makes up for. `false` when the two
 * visibly exclude each other.
 */
export function merge(a: SchemaObject | false, b: SchemaObject | false): SchemaObject | false {
  if (a === false || b === false) return false;
  const out: SchemaObject = { ...a };
  for (const [keyword, value] of Object.entries(b)) {
    const prior = out[keyword];
    if (prior === undefined || ANNOTATIONS.has(keyword)) {
      if (prior === undefined) out[keyword] = value;
      continue;
    }
    switch (keyword) {
      case "type": {
        const left = ([] as string[]).concat(prior as string | string[]);
        const right = ([] as string[]).concat(value as string | string[]);
        const both = left.flatMap((type) => {
          if (right.includes(type)) return [type];
          if (type === "number" && right.includes("integer")) return ["integer"];
          if (type === "integer" && right.includes("number")) return ["integer"];
          return [];
        });
        if (both.length === 0) return false;
        out.type = both.length === 1 ? both[0] : both;
        break;
      }
      case "enum": {
        const both = (prior as unknown[]).filter((item) => (value as unknown[]).some((other) => same(item, other)));
        if (both.length === 0) return false;
        out.enum = both;
        break;
      }
      case "const":
        if (!same(prior, value)) return false;
        break;
      case "properties": {
        const merged: Record<string, Schema> = { ...(prior as Record<string, Schema>) };
        for (const [name, schema] of Object.entries(value as Record<string, Schema>)) {
          merged[name] = name in merged ? { allOf: [merged[name]!, schema] } : schema;
        }
        out.properties = merged;
        break;
      }
      case "required":
        out.required = [...new Set([...(prior as string[]), ...(value as string[])])];
        break;
      case "dependentRequired": {
        const merged: Record<string, string[]> = { ...(prior as Record<string, string[]>) };
        for (const [name, list] of Object.entries(value as Record<string, string[]>)) merged[name] = [...new Set([...(merged[name] ?? []), ...list])];
        out.dependentRequired = merged;
        break;
      }
      case "minimum": case "exclusiveMinimum": case "minLength": case "minItems": case "minProperties":
        out[keyword] = Math.max(prior as number, value as number);
        break;
      case "maximum": case "exclusiveMaximum": case "maxLength": case "maxItems": case "maxProperties":
        out[keyword] = Math.min(prior as number, value as number);
        break;
      case "items": case "additionalProperties":
        out[keyword] = { allOf: [prior, value] };
        break;
      case "uniqueItems":
        out.uniqueItems = prior === true || value === true;
        break;
      case CONDITIONALS: case NOTS:
        out[keyword] = [...(prior as unknown[]), ...(value as unknown[])];
        break;
      default:
        // format, pattern, multipleOf, oneOf, anyOf: the first one generates, the filter checks both.
        break;
    }
  }
  return out;
}

const preview = (schema: unknown) => JSON.stringify(schema).slice(0, 200);

/** How many values a `validValues` arbitrary kept and threw away. */
export interface FilterStats {
  accepted: number;
  rejected: number;
}

/**
 * The values of `arbitrary` that `isValid` accepts (Ajv against the schema it was made from), as
 * an arbitrary that still replays from a seed and shrinks. Unlike `.filter` it gives up after
 * `maxTries` misses in a row (an arbitrary that cannot hit its schema fails instead of
 * spinning), and it counts every value it keeps and throws away in `stats`.
 */
export function validValues<T>(arbitrary: fc.Arbitrary<T>, isValid: (value: T) => boolean, stats: FilterStats, what: string, maxTries = 200): fc.Arbitrary<T> {
  return new ValidValues(arbitrary, isValid, stats, what, maxTries);
}

class ValidValues<T> extends fc.Arbitrary<T> {
  constructor(
    private readonly inner: fc.Arbitrary<T>,
    private readonly isValid: (value: T) => boolean,
    private readonly stats: FilterStats,
    private readonly what: string,
    private readonly maxTries: number,
  ) {
    super();
  }

  generate(random: fc.Random, biasFactor: number | undefined): fc.Value<T> {
    for (let attempt = 0; attempt < this.maxTries; attempt++) {
      const candidate = this.inner.generate(random, biasFactor);
      if (this.isValid(candidate.value)) {
        this.stats.accepted++;
        return candidate;
      }
      this.stats.rejected++;
    }
    throw new Error(`No valid value for ${this.what} in ${this.maxTries} tries: its arbitrary misses the schema.`);
  }

  canShrinkWithoutContext(value: unknown): value is T {
    return this.inner.canShrinkWithoutContext(value) && this.isValid(value as T);
  }

  shrink(value: T, context: unknown): fc.Stream<fc.Value<T>> {
    return this.inner.shrink(value, context).filter((candidate) => this.isValid(candidate.value));
  }
}
