/**
 * Generated requests against an API's mock, through the API's own client (issue 9, parts 1 and 2).
 *
 * For every operation of the bundled contract, requests are drawn from its parameter and
 * request-body schemas (test/support/arbitraries.ts, each value filtered with Ajv against its
 * schema), sent through the client to Prism on loopback, and every answer is checked with the
 * contract checker, strictly. Then, for each required query or header parameter, each required
 * property of the first body variant and each required body, one otherwise valid request
 * without it must be refused with a 4xx whose violation names what is missing, surfaced by the
 * client as the API's typed error; and one request without credentials must get 401.
 *
 * Replay: FC_SEED (default below) and FC_RUNS (default 20) pick the requests; every failure
 * names the seed, the operation and the request, and the same seed sends the same requests.
 * FC_STATS=1 also lists, per operation, how many drawn values the Ajv filter threw away.
 *
 *   FC_SEED=42 FC_RUNS=50 npx vitest run test/requests/cvm.test.ts
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiId } from "../../src/apis.ts";
import { AJV_OPTIONS, documentId, OPENAPI_VOCABULARY } from "../../src/contract/ajv.ts";
import { childPointer, findResponse, HTTP_METHODS, jsonMediaType, resolveLocal, type OpenApiDocument, type ResponseObject } from "../../src/contract/document.ts";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import type { ApiError } from "../../src/runtime/errors.ts";
import { flattenSchema, merge, schemaArbitrary, validValues, type FilterStats, type Schema, type SchemaObject } from "./arbitraries.ts";
import { useMock } from "./mock.ts";

export const SEED = readCount("FC_SEED", 20_260_901);
export const RUNS = readCount("FC_RUNS", 20);
/** Requests in flight at once per mock. */
const CONCURRENCY = 8;
/** An operation whose values the Ajv filter throws away more often than this fails the generator test. */
const MAX_REJECTED_SHARE = 0.5;

function readCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, not "${raw}".`);
  return value;
}

type Fetch = (request: Request) => Promise<Response>;

/** openapi-fetch's per-request options, as far as these tests use them. */
export interface RequestInit {
  params: { path: Record<string, unknown>; query: Record<string, unknown>; header: Record<string, unknown> };
  body?: unknown;
  bodySerializer?: (body: unknown) => string;
  headers?: Record<string, string>;
  parseAs?: "json" | "text" | "blob" | "arrayBuffer" | "stream";
}

/** Sends one request through an API's client: contract method and path template, openapi-fetch options. */
export type Send = (method: string, pathTemplate: string, init: RequestInit) => Promise<unknown>;

/** How the tests drive one API's client. */
export interface ApiDriver {
  id: ApiId;
  /** The typed error the client throws for an answer outside 2xx. */
  ApiError: abstract new (...args: never[]) => ApiError;
  /** Body media types the client sends, in order of preference. */
  mediaTypes: readonly string[];
  /** A sender through the API's client on the mock at `baseUrl`, with `fetch` beneath it. */
  connect(baseUrl: string, fetch: Fetch): Send;
  /** The request as sent without the API's credentials (for the 401 test). */
  withoutCredentials(request: Request): Request;
}

/** `client.request(method, path, init)` of openapi-fetch, without the client's path typing. */
export function untyped(client: { request: unknown }): Send {
  const request = client.request as (method: string, path: string, init: RequestInit) => Promise<unknown>;
  return (method, pathTemplate, init) => request(method, pathTemplate, init);
}

// ---------------------------------------------------------------------------------------------
// What each operation takes, read from the bundled document.

interface ParameterPlan {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  allowEmptyValue: boolean;
  schema: Schema;
  /** JSON pointer of the schema inside the document (what Ajv compiles). */
  pointer: string;
}

interface BodyVariant {
  /** The `x-operation` value that selects this variant (CloudStack's `?operation=`), if any. */
  operation: string | undefined;
  schema: Schema;
  pointer: string;
}

interface BodyPlan {
  required: boolean;
  mediaType: string;
  schema: Schema;
  pointer: string;
  /** The query parameter whose value picks the variant (`operation`), when branches carry `x-operation`. */
  selector: string | undefined;
  variants: BodyVariant[];
}

export interface OperationPlan {
  operationId: string;
  method: string;
  pathTemplate: string;
  parameters: ParameterPlan[];
  body: BodyPlan | undefined;
  /** How the client should read a 2xx answer: `blob` when the contract documents no JSON one. */
  parseAs: "json" | "blob";
}

/** Header parameters that are credentials (apiKey schemes in a header): never generated. */
function credentialHeaders(document: OpenApiDocument): Set<string> {
  const schemes = (document.components?.securitySchemes ?? {}) as Record<string, { type?: string; in?: string; name?: string }>;
  return new Set(
    Object.values(schemes)
      .filter((scheme) => scheme.type === "apiKey" && scheme.in === "header" && scheme.name)
      .map((scheme) => scheme.name!.toLowerCase()),
  );
}

export function planOperations(document: OpenApiDocument, mediaTypes: readonly string[], skip: ReadonlySet<string> = new Set()): OperationPlan[] {
  const credentials = credentialHeaders(document);
  return Object.keys(document.paths).flatMap((pathTemplate) => {
    const item = resolveLocal<Record<string, unknown>>(document, { value: document.paths[pathTemplate], pointer: childPointer("#", "paths", pathTemplate) });
    const methods = HTTP_METHODS.filter((method) => item.value[method] !== undefined);
    const kept = methods.filter((method) => !skip.has(String((resolveLocal<Record<string, unknown>>(document, { value: item.value[method], pointer: "#" }).value).operationId)));
    return kept.map((method): OperationPlan => {
      const operation = resolveLocal<Record<string, unknown>>(document, { value: item.value[method], pointer: childPointer(item.pointer, method) });
      const operationId = String(operation.value.operationId);
      // Operation parameters override path-item parameters of the same name and location.
      const byKey = new Map<string, ParameterPlan>();
      for (const [owner, list] of [[item, item.value.parameters], [operation, operation.value.parameters]] as const) {
        ((list as unknown[] | undefined) ?? []).forEach((raw, index) => {
          const parameter = resolveLocal<Record<string, unknown>>(document, { value: raw, pointer: childPointer(owner.pointer, "parameters", String(index)) });
          const value = parameter.value as { name: string; in: ParameterPlan["in"]; required?: boolean; allowEmptyValue?: boolean; schema?: Schema; style?: string; explode?: boolean };
          if (value.in === "header" && credentials.has(value.name.toLowerCase())) return;
          if (value.in === "cookie") throw new Error(`${operationId}: cookie parameter ${value.name}: openapi-fetch does not send cookie parameters.`);
          if (value.schema === undefined) throw new Error(`${operationId}: parameter ${value.name} has no schema (content parameters are not generated).`);
          checkSerialization(operationId, value, document);
          byKey.set(`${value.in}:${value.name}`, {
            name: value.name,
            in: value.in,
            required: value.required === true,
            allowEmptyValue: value.allowEmptyValue === true,
            schema: value.schema,
            pointer: childPointer(parameter.pointer, "schema"),
          });
        });
      }
      return {
        operationId,
        method,
        pathTemplate,
        parameters: [...byKey.values()],
        body: planBody(document, operation, operationId, mediaTypes),
        parseAs: answersJson(document, operation) ? "json" : "blob",
      };
    });
  });
}

/** Whether some 2xx answer of the operation has a JSON body (or none at all). */
function answersJson(document: OpenApiDocument, operation: { value: Record<string, unknown>; pointer: string }): boolean {
  const responses = (operation.value.responses ?? {}) as Record<string, unknown>;
  return Object.entries(responses)
    .filter(([status]) => /^2/.test(status))
    .some(([status, value]) => {
      const content = resolveLocal<ResponseObject>(document, { value, pointer: childPointer(operation.pointer, "responses", status) }).value.content;
      return content === undefined || jsonMediaType({ content }) !== undefined;
    });
}

/**
 * openapi-fetch serializes `params.query` itself (arrays `form` exploded, objects `deepObject`)
 * and path values with the `simple` style; a parameter described otherwise would be sent in a
 * form its contract does not describe, so it stops the test here.
 */
function checkSerialization(operationId: string, parameter: { name: string; in: string; style?: string; explode?: boolean; schema?: Schema }, document: OpenApiDocument) {
  const schema = resolveLocal<SchemaObject>(document, { value: parameter.schema, pointer: "" }).value;
  const isObject = schema.type === "object" || schema.properties !== undefined;
  const expected = parameter.in === "query" ? (isObject ? "deepObject" : "form") : parameter.in === "path" || parameter.in === "header" ? "simple" : "form";
  const style = parameter.style ?? (parameter.in === "query" || parameter.in === "cookie" ? "form" : "simple");
  const explode = parameter.explode ?? style === "form";
  const expectedExplode = parameter.in === "query";
  if (style !== expected || explode !== expectedExplode) {
    throw new Error(`${operationId}: ${parameter.in} parameter ${parameter.name} is style=${style} explode=${explode}, which openapi-fetch does not send.`);
  }
}

function planBody(document: OpenApiDocument, operation: { value: Record<string, unknown>; pointer: string }, operationId: string, mediaTypes: readonly string[]): BodyPlan | undefined {
  if (operation.value.requestBody === undefined) return undefined;
  const body = resolveLocal<{ required?: boolean; content?: Record<string, { schema?: Schema }> }>(document, {
    value: operation.value.requestBody,
    pointer: childPointer(operation.pointer, "requestBody"),
  });
  const offered = Object.keys(body.value.content ?? {});
  const mediaType = mediaTypes.find((type) => offered.includes(type));
  if (!mediaType) throw new Error(`${operationId}: the client sends bodies as ${mediaTypes.join(", ")}, the contract takes ${offered.join(", ")}.`);
  const schema = body.value.content![mediaType]!.schema ?? true;
  const pointer = childPointer(body.pointer, "content", mediaType, "schema");

  // CloudStack's `?operation=`: one `anyOf` branch per operation, marked `x-operation` (or the
  // schema itself is the one marked branch).
  const branches = typeof schema === "object" && Array.isArray(schema.anyOf) ? (schema.anyOf as SchemaObject[]) : undefined;
  const marked = (candidate: Schema) => typeof candidate === "object" && typeof candidate["x-operation"] === "string";
  if (branches?.some(marked) || marked(schema)) {
    const variants = branches
      ? branches.map((branch, index) => ({ operation: branch["x-operation"] as string | undefined, schema: branch, pointer: childPointer(pointer, "anyOf", String(index)) }))
      : [{ operation: (schema as SchemaObject)["x-operation"] as string, schema, pointer }];
    return { required: body.value.required === true, mediaType, schema, pointer, selector: "operation", variants };
  }
  return { required: body.value.required === true, mediaType, schema, pointer, selector: undefined, variants: [{ operation: undefined, schema, pointer }] };
}

// ---------------------------------------------------------------------------------------------
// Drawing requests.

export interface GeneratedRequest {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  header: Record<string, unknown>;
  /** Absent: no body is sent. */
  body?: unknown;
}

/** Characters of generated path values when the schema leaves them open: URL-safe, never `/`. */
const PATH_CHARACTERS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"];

/**
 * An Ajv for the request-side schemas of a contract (parameters, request bodies, examples): the
 * checker's (src/contract/ajv.ts: same options, formats, vocabulary and registered document) but
 * without `strictRequired`. Request bodies name required properties in an `allOf` member or
 * `anyOf` branch beside the one that defines them (`allOf: [{$ref: Input}, {required: [id]}]`),
 * valid JSON Schema that Ajv's strict mode refuses to compile. Also knows CloudStack's
 * `x-operation` marks.
 */
export function requestAjv(contract: Contract): Ajv2020 {
  const ajv = new Ajv2020({ ...AJV_OPTIONS, strictRequired: false });
  (addFormats as unknown as (ajv: Ajv2020) => Ajv2020)(ajv);
  ajv.addVocabulary([...OPENAPI_VOCABULARY, "x-operation"]);
  ajv.addSchema(contract.document as object, documentId(contract.id));
  return ajv;
}

export class RequestGenerator {
  readonly plans: OperationPlan[];
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  /** Values kept and thrown away by the Ajv filter, per operation. */
  readonly stats = new Map<string, FilterStats>();

  constructor(private readonly contract: Contract, mediaTypes: readonly string[], skip: ReadonlySet<string> = new Set()) {
    this.plans = planOperations(contract.document, mediaTypes, skip);
    this.ajv = requestAjv(contract);
  }

  /** The Ajv validator of the schema at `pointer` in the document (compiled once). */
  validator(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${documentId(this.contract.id)}${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }

  private statsFor(plan: OperationPlan): FilterStats {
    let stats = this.stats.get(plan.operationId);
    if (!stats) this.stats.set(plan.operationId, (stats = { accepted: 0, rejected: 0 }));
    return stats;
  }

  private parameterValues(plan: OperationPlan, parameter: ParameterPlan): fc.Arbitrary<unknown> {
    const what = `${parameter.in} parameter ${parameter.name}`;
    if (parameter.in !== "path") {
      // OpenAPI allows an empty query value only with `allowEmptyValue` (Prism reads one as
      // absent), and openapi-fetch leaves an empty array out: each value must serialize to text.
      const validate = this.validator(parameter.pointer);
      const serializable = (value: unknown) =>
        parameter.allowEmptyValue || (Array.isArray(value) ? value.length > 0 && value.every((item) => String(item) !== "") : String(value) !== "");
      return validValues(schemaArbitrary(this.contract.document, parameter.schema), (value) => validate(value) === true && serializable(value), this.statsFor(plan), `${plan.operationId} ${what}`);
    }
    // A path value must stay one non-empty segment: URL-safe characters where the schema leaves
    // strings open, and never `/`, `.` or `..` (a URL would fold those away).
    const resolved = resolveLocal<SchemaObject>(this.contract.document, { value: parameter.schema, pointer: "" }).value;
    const open = resolved.type === "string" && ["pattern", "format", "enum", "const"].every((keyword) => !(keyword in resolved));
    const arbitrary = open
      ? fc.string({ unit: fc.constantFrom(...PATH_CHARACTERS), minLength: Math.max(1, (resolved.minLength as number | undefined) ?? 1), maxLength: (resolved.maxLength as number | undefined) ?? 24 })
      : schemaArbitrary(this.contract.document, parameter.schema);
    const validate = this.validator(parameter.pointer);
    return validValues(
      arbitrary,
      (value) => validate(value) === true && String(value) !== "" && !String(value).includes("/") && value !== "." && value !== "..",
      this.statsFor(plan),
      `${plan.operationId} ${what}`,
    );
  }

  /** Draws whole requests of an operation. `variant` pins the body to one variant (and its selector). */
  requests(plan: OperationPlan, options: { variant?: number } = {}): fc.Arbitrary<GeneratedRequest> {
    const byLocation = (location: ParameterPlan["in"]) => plan.parameters.filter((parameter) => parameter.in === location);
    const record = (location: ParameterPlan["in"], skip?: string) => {
      const parameters = byLocation(location).filter((parameter) => parameter.name !== skip);
      const model = Object.fromEntries(parameters.map((parameter) => [parameter.name, this.parameterValues(plan, parameter)]));
      return fc.record(model, { requiredKeys: parameters.filter((parameter) => parameter.required).map((parameter) => parameter.name), noNullPrototype: true });
    };

    // The path values together must still address this operation (not a literal sibling such as `/vps/list`).
    const path = validValues(
      record("path"),
      (values) => this.contract.findOperation(plan.method, concretePath(plan.pathTemplate, values))?.pathTemplate === plan.pathTemplate,
      this.statsFor(plan),
      `${plan.operationId} path`,
    );
    const body = plan.body;
    const pinned = options.variant === undefined ? undefined : body?.variants[options.variant];
    const selector = body?.selector;
    const query = record("query", pinned ? selector : undefined);
    const parts = fc.record({ path, query, header: record("header") }, { noNullPrototype: true });
    if (!body) return parts;

    return parts.chain((request) => {
      if (pinned) {
        const query = pinned.operation === undefined ? request.query : { ...request.query, [selector!]: pinned.operation };
        return this.variantValues(plan, body, pinned, true).map((value) => ({ ...request, query, body: value }));
      }
      // Under `?operation=`, the body is the variant of the operation asked for (the unmarked one without it).
      const variant = selector === undefined ? body.variants[0] : body.variants.find((candidate) => candidate.operation === request.query[selector]);
      if (!variant) {
        if (body.required) throw new Error(`${plan.operationId}: ${selector}=${String(request.query[selector!])} requires a body but no anyOf branch carries x-operation for it.`);
        return fc.constant(request);
      }
      const values = this.variantValues(plan, body, variant, false);
      const maybe = body.required ? values : fc.option(values, { nil: undefined, freq: 4 });
      return maybe.map((value) => (value === undefined ? request : { ...request, body: value }));
    });
  }

  /**
   * Body values of one variant, valid against the whole body schema too. The first variant of a
   * body without `x-operation` marks is its first `anyOf`/`oneOf` branch (see `firstVariant`).
   */
  private variantValues(plan: OperationPlan, body: BodyPlan, variant: BodyVariant, first: boolean): fc.Arbitrary<unknown> {
    const schema = first && variant.operation === undefined ? this.firstVariant(variant.schema) : variant.schema;
    const whole = this.validator(body.pointer);
    // A marked branch is a schema of its own; an unmarked first branch may be a bare `required`.
    const own = variant.operation === undefined ? whole : this.validator(variant.pointer);
    return validValues(
      schemaArbitrary(this.contract.document, schema),
      (value) => own(value) === true && whole(value) === true,
      this.statsFor(plan),
      `${plan.operationId} body`,
    );
  }

  /** A schema flattened, with its first `oneOf` / `anyOf` branch (if any) merged in. */
  firstVariant(schema: Schema): SchemaObject {
    const flat = flattenSchema(this.contract.document, schema);
    for (const keyword of ["oneOf", "anyOf"] as const) {
      const branches = flat[keyword] as Schema[] | undefined;
      if (!branches?.length) continue;
      const { [keyword]: _branches, ...base } = flat;
      const merged = merge(base, flattenSchema(this.contract.document, branches[0]!));
      if (merged === false) throw new Error(`The first ${keyword} branch cannot be satisfied: ${JSON.stringify(schema).slice(0, 200)}`);
      return merged;
    }
    return flat;
  }

  /** The parts of an operation a request can leave out that the contract requires. */
  requiredParts(plan: OperationPlan): MissingPart[] {
    const parts: MissingPart[] = plan.parameters
      .filter((parameter) => parameter.required && (parameter.in === "query" || parameter.in === "header"))
      .map((parameter) => ({ kind: parameter.in as "query" | "header", name: parameter.name }));
    if (plan.body) {
      if (plan.body.required) parts.push({ kind: "body", name: "body" });
      const required = (this.firstVariant(plan.body.variants[0]!.schema).required as string[] | undefined) ?? [];
      for (const name of required) parts.push({ kind: "body property", name });
    }
    return parts;
  }

  /**
   * A valid request of the operation with one required part taken out (body properties from the
   * first variant, whose optional properties are dropped first, so that what is left cannot pass
   * for another variant when that can be avoided), and whether the contract still accepts it.
   */
  without(plan: OperationPlan, part: MissingPart, seed: number): { request: GeneratedRequest; stillValid: boolean } {
    const [base] = fc.sample(this.requests(plan, { variant: 0 }), { seed, numRuns: 1 });
    const request: GeneratedRequest = { path: { ...base!.path }, query: { ...base!.query }, header: { ...base!.header }, body: base!.body };
    if (part.kind === "query") delete request.query[part.name];
    if (part.kind === "header") delete request.header[part.name];
    if (part.kind === "body") delete request.body;
    if (part.kind !== "body property") return { request, stillValid: false };

    const whole = this.validator(plan.body!.pointer);
    const required = new Set((this.firstVariant(plan.body!.variants[0]!.schema).required as string[] | undefined) ?? []);
    const original = request.body as Record<string, unknown>;
    const minimal = Object.fromEntries(Object.entries(original).filter(([key]) => required.has(key)));
    const body = { ...(whole(minimal) ? minimal : original) };
    delete body[part.name];
    request.body = body;
    return { request, stillValid: whole(body) === true };
  }
}

export interface MissingPart {
  kind: "query" | "header" | "body" | "body property";
  name: string;
}

/** The path openapi-fetch builds from a template and values (simple style, each value URI-encoded). */
export function concretePath(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(values[name])));
}

/** openapi-fetch options for a generated request. */
function initFor(plan: OperationPlan, request: GeneratedRequest): RequestInit {
  const init: RequestInit = { params: { path: request.path, query: request.query, header: request.header }, parseAs: plan.parseAs };
  if ("body" in request && request.body !== undefined) {
    init.body = request.body;
    if (plan.body?.mediaType === "text/plain") {
      init.bodySerializer = String;
      init.headers = { "Content-Type": "text/plain" };
    }
  }
  return init;
}

// ---------------------------------------------------------------------------------------------
// Sending and reading the answers.

/** The last exchange of one call through a client (a digest challenge comes first, then the answer). */
interface Exchange {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

const currentExchange = new AsyncLocalStorage<Partial<Exchange>>();

/** A network fetch for clients that keeps each call's exchange for `call` (and may alter the request). */
function capturingFetch(alter: (request: Request) => Request = (request) => request): Fetch {
  return async (original) => {
    const request = alter(original);
    const response = await fetch(request);
    const exchange = currentExchange.getStore();
    if (exchange) Object.assign(exchange, { method: request.method, url: request.url, status: response.status, headers: response.headers, text: await response.clone().text() });
    return response;
  };
}

/** Sends one request and answers the exchange, and what the client threw (if it did). */
async function call(send: Send, plan: OperationPlan, request: GeneratedRequest): Promise<{ exchange: Exchange | undefined; thrown: unknown }> {
  const exchange: Partial<Exchange> = {};
  let thrown: unknown;
  await currentExchange.run(exchange, async () => {
    try {
      await send(plan.method, plan.pathTemplate, initFor(plan, request));
    } catch (error) {
      thrown = error;
    }
  });
  return { exchange: exchange.status === undefined ? undefined : (exchange as Exchange), thrown };
}

/**
 * What is wrong with a 2xx answer by the contract (strictly), or `undefined`. A JSON body is
 * checked by the contract checker; another one (Cloud Manager's gzip downloads) must come with a
 * media type the contract documents for that status, and the checker then sees the status alone.
 */
function answerProblem(contract: Contract, plan: OperationPlan, exchange: Exchange): string | undefined {
  const mediaType = (exchange.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  const json = mediaType === "" || /[/+]json$/.test(mediaType);
  let body: unknown;
  if (json) {
    try {
      body = exchange.text === "" ? undefined : JSON.parse(exchange.text);
    } catch {
      return `answered ${exchange.status} with a body that is not JSON`;
    }
  } else {
    const matched = contract.findOperation(exchange.method, new URL(exchange.url).pathname);
    const found = matched && findResponse(contract.document, matched.operation, exchange.status);
    const documented = Object.keys(found?.response.value.content ?? {});
    if (!documented.includes(mediaType)) return `answered ${exchange.status} as ${mediaType}; the contract documents ${documented.join(", ") || "no body"}`;
  }
  const result = contract.validateResponse({ method: exchange.method, path: new URL(exchange.url).pathname, status: exchange.status, body }, { strict: true });
  if (result.operationId !== plan.operationId) return `the answer was matched to ${result.operationId ?? "no operation"}`;
  if (!result.valid) return `${exchange.status} does not match the contract:\n  ${formatErrors(result.errors)}`;
  return undefined;
}

interface Violation {
  location: string[];
  code?: string | number;
  message: string;
}

/** Prism's account of a refused request: the `sl-violations` header, or problem+json `validation`. */
function violationsOf(exchange: Exchange): Violation[] {
  const header = exchange.headers.get("sl-violations");
  if (header) return JSON.parse(header) as Violation[];
  try {
    const body = JSON.parse(exchange.text) as { validation?: Violation[] };
    return body.validation ?? [];
  } catch {
    return [];
  }
}

const describeViolations = (violations: Violation[]) =>
  violations.map((violation) => `${violation.location.join(".")}: ${violation.message}`).join("; ") || "(none)";

/** Whether a violation names the missing part (Prism quotes property names; a missing body is "Body parameter"). */
function names(violation: Violation, part: MissingPart): boolean {
  if (part.kind === "body") return violation.code === "required" && /\bbody\b/i.test(violation.message);
  const name = part.name.toLowerCase();
  return violation.message.toLowerCase().includes(`'${name}'`) || violation.location.some((segment) => segment.toLowerCase() === name);
}

const show = (request: GeneratedRequest) => JSON.stringify(request);

async function inPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const count = (n: number) => n.toLocaleString("en-US");

// ---------------------------------------------------------------------------------------------
// The tests of one API.

export interface GeneratedRequestOptions {
  /**
   * Operations whose valid generated requests the mock refuses or answers outside the contract,
   * because the spec is wrong (operationId → why). Each must still fail: the test says when one
   * can go.
   */
  knownFailures?: Readonly<Record<string, string>>;
  /**
   * Operations the API's client does not call as operations (operationId → why): Cloud Manager's
   * service account token calls, which the client makes itself with the client secret.
   */
  notThroughTheClient?: Readonly<Record<string, string>>;
  /**
   * Required body properties whose absence the contract cannot notice (`operationId body
   * property name` → why), e.g. because what is left still matches another `anyOf` branch.
   */
  unrefusable?: Readonly<Record<string, string>>;
}

export function describeGeneratedRequests(driver: ApiDriver, options: GeneratedRequestOptions = {}): void {
  const knownFailures = options.knownFailures ?? {};
  const unrefusable = options.unrefusable ?? {};
  const ErrorName = driver.ApiError.name;

  describe(`${driver.id}: generated requests to the mock`, async () => {
    const mock = useMock(driver.id);
    const contract = await loadContract(driver.id);
    const generator = new RequestGenerator(contract, driver.mediaTypes, new Set(Object.keys(options.notThroughTheClient ?? {})));
    const { plans } = generator;
    const missing = plans.flatMap((plan) =>
      generator.requiredParts(plan).map((part) => ({ plan, part, name: `${plan.operationId} without its required ${part.kind === "body" ? "body" : `${part.kind} ${part.name}`}` })),
    );
    const summary = { started: performance.now(), matched: 0, refused: 0, unrefusable: 0 };

    let drawn: { plan: OperationPlan; requests: GeneratedRequest[] }[] = [];
    beforeAll(() => {
      drawn = plans.map((plan) => ({ plan, requests: fc.sample(generator.requests(plan), { seed: SEED, numRuns: RUNS }) }));
    });

    afterAll(() => {
      const seconds = ((performance.now() - summary.started) / 1000).toFixed(1);
      const stats = [...generator.stats.values()];
      const kept = stats.reduce((sum, { accepted }) => sum + accepted, 0);
      const rejected = stats.reduce((sum, { rejected }) => sum + rejected, 0);
      if (process.env.FC_STATS) for (const [operationId, { accepted, rejected }] of generator.stats) if (rejected) console.log(`  ${operationId}: ${rejected} of ${accepted + rejected} rejected`);
      console.log(
        `${driver.id}: ${count(plans.length)} operations × ${count(RUNS)} requests = ${count(plans.length * RUNS)} requests, ` +
          `${count(summary.matched)} responses match the contract; ${count(summary.refused)} requests missing a required part refused` +
          `${summary.unrefusable ? ` (${summary.unrefusable} the contract cannot refuse)` : ""}; ` +
          `Ajv kept ${count(kept)} of ${count(kept + rejected)} drawn values; seed ${SEED}, ${seconds} s`,
      );
    });

    it("draws each operation's requests mostly from values valid against the contract", () => {
      const wasteful = [...generator.stats].filter(([, { accepted, rejected }]) => rejected > MAX_REJECTED_SHARE * (accepted + rejected));
      expect(wasteful.map(([operationId, { accepted, rejected }]) => `${operationId}: ${rejected} of ${accepted + rejected} values rejected by Ajv`)).toEqual([]);
      expect(drawn.every(({ requests }) => requests.length === RUNS)).toBe(true);
    });

    it(`answers ${RUNS} generated requests to each of its ${plans.length} operations with a 2xx that matches the contract`, async () => {
      const send = driver.connect(mock.current.baseUrl, capturingFetch());
      const jobs = drawn.flatMap(({ plan, requests }) => requests.map((request, index) => ({ plan, request, index })));
      const failures: { operationId: string; message: string }[] = [];
      const exercised = new Map<string, number>();
      await inPool(jobs, CONCURRENCY, async ({ plan, request, index }) => {
        const { exchange, thrown } = await call(send, plan, request);
        const where = `seed ${SEED}, ${plan.operationId} (${plan.method.toUpperCase()} ${plan.pathTemplate}), request ${index + 1} of ${RUNS}: ${show(request)}`;
        if (!exchange) {
          failures.push({ operationId: plan.operationId, message: `${where}\n  not sent: ${String(thrown)}` });
          return;
        }
        exercised.set(plan.operationId, (exercised.get(plan.operationId) ?? 0) + 1);
        if (exchange.status < 200 || exchange.status > 299) {
          failures.push({ operationId: plan.operationId, message: `${where}\n  answered ${exchange.status}: ${describeViolations(violationsOf(exchange))}` });
          return;
        }
        if (thrown !== undefined) {
          failures.push({ operationId: plan.operationId, message: `${where}\n  answered ${exchange.status}, but the client threw: ${String(thrown)}` });
          return;
        }
        const problem = answerProblem(contract, plan, exchange);
        if (problem) failures.push({ operationId: plan.operationId, message: `${where}\n  ${problem}` });
        else summary.matched++;
      });

      expect(plans.filter((plan) => (exercised.get(plan.operationId) ?? 0) < RUNS).map((plan) => plan.operationId)).toEqual([]);
      expect(failures.filter(({ operationId }) => !(operationId in knownFailures)).map(({ message }) => message)).toEqual([]);
      // Each known failure still fails; when one passes, take it off the list.
      const stillFailing = new Set(failures.map(({ operationId }) => operationId));
      expect(Object.keys(knownFailures).filter((operationId) => !stillFailing.has(operationId))).toEqual([]);
    });

    // One test per missing part, named in full (it.each would cut `$name` at 40 characters).
    for (const { plan, part, name } of missing) {
      const excused = unrefusable[`${plan.operationId} ${part.kind} ${part.name}`];
      it(`refuses ${name} with a 4xx naming it, as ${ErrorName}`, async () => {
        const { request, stillValid } = generator.without(plan, part, SEED);
        const where = `seed ${SEED}, ${plan.operationId} (${plan.method.toUpperCase()} ${plan.pathTemplate}) without ${part.kind} ${part.name}: ${show(request)}`;
        // The contract itself cannot tell this request from a valid one: listed, and asserted to stay so.
        expect(stillValid, `${where}\n  is ${stillValid ? "still valid by the contract (list it in unrefusable)" : "invalid by the contract (take it off unrefusable)"}`).toBe(excused !== undefined);
        if (stillValid) {
          summary.unrefusable++;
          return;
        }
        const { exchange, thrown } = await call(driver.connect(mock.current.baseUrl, capturingFetch()), plan, request);
        expect(exchange, where).toBeDefined();
        const violations = violationsOf(exchange!);
        expect(exchange!.status, `${where}\n  answered ${exchange!.status}`).toBeGreaterThanOrEqual(400);
        expect(exchange!.status, `${where}\n  answered ${exchange!.status}`).toBeLessThan(500);
        // A form without fields is no body at all: then the violation is the missing body.
        const emptyForm = part.kind === "body property" && plan.body!.mediaType === "application/x-www-form-urlencoded" && Object.keys(request.body as object).length === 0;
        const named: MissingPart = emptyForm ? { kind: "body", name: "body" } : part;
        expect(violations.some((violation) => names(violation, named)), `${where}\n  violations: ${describeViolations(violations)}`).toBe(true);
        expect(thrown).toBeInstanceOf(driver.ApiError);
        expect((thrown as ApiError).status).toBe(exchange!.status);
        summary.refused++;
      });
    }

    it(`answers a request without credentials with the documented 401 (or 403), as ${ErrorName}`, async () => {
      // The first operation that needs nothing but a path: a plain read.
      const plan = plans.find((candidate) => candidate.method === "get" && !candidate.body && generator.requiredParts(candidate).length === 0)!;
      const [request] = fc.sample(generator.requests(plan), { seed: SEED, numRuns: 1 });
      const send = driver.connect(mock.current.baseUrl, capturingFetch((outgoing) => driver.withoutCredentials(outgoing)));
      const { exchange, thrown } = await call(send, plan, request!);
      // CloudMC documents no 401, only 403 ("not authorized"): the mock answers what is documented.
      const documented = contract.operations.find((op) => op.operationId === plan.operationId)!.statuses;
      const expected = documented.includes("401") || !documented.includes("403") ? 401 : 403;
      expect(exchange?.status).toBe(expected);
      expect(thrown).toBeInstanceOf(driver.ApiError);
      expect((thrown as ApiError).status).toBe(expected);
    });
  });
}
