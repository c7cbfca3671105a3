/**
 * Contract checks: does a recorded response match what the bundled spec promises?
 *
 *   const contract = await loadContract("cvm");
 *   contract.validateResponse({ method: "GET", path: "/api/client/vps/list", status: 200, body });
 */
import { createHash } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Ajv2020, ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { getApi } from "../apis.js";
import { createAjv, ERROR_COLLECTION, MAX_ERRORS, responseSchema } from "./ajv.js";
import {
  childPointer, createOperationLocator, jsonMediaType, listOperations, resolveLocal, responseSchemaPointer,
  type MatchedOperation, type OpenApiDocument, type OperationSummary, type ResponseObject,
} from "./document.js";
import { scanUndocumentedProperties } from "./undocumented.js";

export type { MatchedOperation, OpenApiDocument, OperationSummary } from "./document.js";

export interface RecordedResponse {
  method: string;
  /** Path as sent, with or without the server's base path; a query string is ignored. */
  path: string;
  status: number;
  /** Parsed JSON body; `null` or `undefined` for an empty body. */
  body: unknown;
}

export interface ContractError {
  /** JSON path into the body (`$.response.vpses[0].id`), or `$` for the whole body. */
  path: string;
  message: string;
  /**
   * What failed: `operation` (no operation for method and path), `status` (status not documented),
   * `body` (body present or absent against the contract), `undocumented` (strict mode), or the
   * JSON Schema keyword that failed (`type`, `pattern`, `required`, …).
   */
  keyword: string;
}

export interface ValidationResult {
  valid: boolean;
  /** The matched operation, when one matched. */
  operationId?: string;
  /** The first `MAX_ERRORS` (100) errors of the body, then the first 100 undocumented properties (strict mode). */
  errors: ContractError[];
  /** How many more errors the body has beyond those in `errors`; absent when none were left out. */
  moreErrors?: number;
}

export interface ValidateOptions {
  /** Also report properties that the schema does not name (drift the vendor has not documented). */
  strict?: boolean;
}

export interface Contract {
  readonly id: string;
  readonly document: OpenApiDocument;
  /** Every operation of the contract with its documented response keys. */
  readonly operations: readonly OperationSummary[];
  /** Finds the operation a request addresses (templated path match, literal segments first). */
  findOperation(method: string, path: string): MatchedOperation | undefined;
  validateResponse(response: RecordedResponse, options?: ValidateOptions): ValidationResult;
}

/**
 * Loads `generated/<id>/openapi.json` (or `specPath`) and returns its contract checker. When a
 * `validators.js` made from that very file (same SHA-256) lies beside it, its precompiled
 * validators are used and no schema is compiled; otherwise each is compiled on first use.
 */
export async function loadContract(id: string, options: { specPath?: string | URL } = {}): Promise<Contract> {
  const specPath = options.specPath ?? new URL(`../../generated/${getApi(id).id}/openapi.json`, import.meta.url);
  let source: Buffer;
  let document: OpenApiDocument;
  try {
    source = await readFile(specPath);
    document = JSON.parse(source.toString("utf8")) as OpenApiDocument;
  } catch (error) {
    throw new Error(`Cannot read the contract of "${id}" from ${String(specPath)}: ${(error as Error).message}`);
  }
  return buildContract(id, document, await loadPrecompiled(specPath, source));
}

type Validators = Map<string, ValidateFunction>;

/**
 * The validators of `validators.js` beside the document (see scripts/validators.ts), keyed by
 * response schema pointer; `undefined` when there is no such file or it was made from another
 * document.
 */
async function loadPrecompiled(specPath: string | URL, source: Buffer): Promise<Validators | undefined> {
  const specUrl = typeof specPath === "string" ? pathToFileURL(resolve(specPath)) : specPath;
  if (specUrl.protocol !== "file:") return undefined;
  const moduleUrl = new URL("validators.js", specUrl);
  try {
    await access(moduleUrl);
  } catch {
    return undefined;
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(moduleUrl.href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`Cannot load the precompiled validators ${moduleUrl.href} (run npm run build): ${(error as Error).message}`);
  }
  if (module.documentSha256 !== createHash("sha256").update(source).digest("hex")) return undefined;
  // Made by an older scripts/validators.ts, which collected errors without a cap: stale.
  if (module.errorCollection !== ERROR_COLLECTION) return undefined;
  const validators: Validators = new Map();
  for (const [key, value] of Object.entries(module)) {
    if (key.startsWith("#/") && typeof value === "function") validators.set(key, value as ValidateFunction);
  }
  return validators;
}

/** Builds a contract checker from a bundled document already in memory (compiling in-process). */
export function createContract(id: string, document: OpenApiDocument): Contract {
  return buildContract(id, document, undefined);
}

function buildContract(id: string, document: OpenApiDocument, precompiled: Validators | undefined): Contract {
  // Without precompiled validators, the document is registered with Ajv now (as it always was,
  // so a document Ajv rejects fails here); with them, Ajv is only loaded if a pointer is missing.
  let ajv: Ajv2020 | undefined = precompiled ? undefined : createAjv(id, document);
  // One validator per response schema: precompiled, or compiled the first time it is needed.
  const validators: Validators = new Map(precompiled);
  const validatorFor = (pointer: string) => {
    let validate = validators.get(pointer);
    if (!validate) {
      ajv ??= createAjv(id, document);
      validate = ajv.compile(responseSchema(id, pointer));
      validators.set(pointer, validate);
    }
    return validate;
  };

  // What each operation's documented statuses lead to, worked out once, when the contract is
  // built: the response entry, its JSON media type, schema and validator.
  interface ResponsePlan {
    key: string;
    mediaType: string | undefined;
    schema: unknown;
    pointer: string;
    validate: ValidateFunction | undefined;
  }
  interface OperationPlan {
    matched: MatchedOperation;
    operationId: string | undefined;
    /** Documented exact status codes, and the plan of each at the same index of `exact`. */
    codes: number[];
    exact: ResponsePlan[];
    /** `1XX` … `5XX` entries, by the status's first digit. */
    ranges: (ResponsePlan | undefined)[];
    fallback: ResponsePlan | undefined;
  }
  const planOperation = (matched: MatchedOperation): OperationPlan => {
    const plan: OperationPlan = { matched, operationId: matched.operation.value.operationId, codes: [], exact: [], ranges: [], fallback: undefined };
    for (const [key, value] of Object.entries(matched.operation.value.responses ?? {})) {
      const response = resolveLocal<ResponseObject>(document, { value, pointer: childPointer(matched.operation.pointer, "responses", key) });
      const mediaType = jsonMediaType(response.value);
      const responsePlan: ResponsePlan = {
        key,
        mediaType,
        schema: mediaType ? response.value.content![mediaType]!.schema : undefined,
        pointer: mediaType ? responseSchemaPointer(response, mediaType) : "",
        validate: undefined,
      };
      if (/^\d+$/.test(key)) {
        plan.codes.push(Number(key));
        plan.exact.push(responsePlan);
      } else if (/^[1-5]XX$/.test(key)) plan.ranges[Number(key[0])] = responsePlan;
      else if (key === "default") plan.fallback = responsePlan;
    }
    return plan;
  };
  /** The response entry for a status: the exact code, then its `4XX`-style range, then `default`. */
  const responsePlan = (plan: OperationPlan, status: number): ResponsePlan | undefined => {
    const index = plan.codes.indexOf(status);
    if (index !== -1) return plan.exact[index];
    return plan.ranges[Math.floor(status / 100)] ?? plan.fallback;
  };

  const { locate } = createOperationLocator(document, planOperation);
  const findOperation = (method: string, path: string): MatchedOperation | undefined => {
    const plan = locate(method, path);
    return plan && { ...plan.matched };
  };

  function validateResponse(recorded: RecordedResponse, options?: ValidateOptions): ValidationResult {
    const operation = locate(recorded.method, recorded.path);
    if (!operation) {
      const what = `${recorded.method.toUpperCase()} ${recorded.path}`;
      return fail(undefined, { path: "$", keyword: "operation", message: `No operation in the ${id} contract matches ${what}.` });
    }
    const operationId = operation.operationId;

    const plan = responsePlan(operation, recorded.status);
    if (!plan) {
      const documented = Object.keys(operation.matched.operation.value.responses ?? {}).join(", ");
      return fail(operationId, { path: "$", keyword: "status", message: `Status ${recorded.status} is not documented for ${operationId} (documented: ${documented}).` });
    }

    const body = recorded.body;
    const isEmpty = body === undefined || body === null || body === "";
    const mediaType = plan.mediaType;
    if (!mediaType) {
      return isEmpty
        ? { valid: true, operationId, errors: [] }
        : fail(operationId, { path: "$", keyword: "body", message: `${operationId} ${plan.key} has no body in the contract, but one was received.` });
    }
    if (isEmpty) return fail(operationId, { path: "$", keyword: "body", message: `${operationId} ${plan.key} promises a ${mediaType} body, but the body is empty.` });

    const validate = (plan.validate ??= validatorFor(plan.pointer));
    // Past MAX_ERRORS the validator keeps a `null` for each error (src/contract/ajv.ts).
    const found = validate(body) ? [] : (validate.errors ?? []);
    const errors: ContractError[] = found.slice(0, MAX_ERRORS).filter((error): error is ErrorObject => error !== null).map(toContractError);
    let moreErrors = found.length - errors.length;
    if (options?.strict) {
      const undocumented = scanUndocumentedProperties(document, plan.schema, body, MAX_ERRORS);
      for (const { path } of undocumented.properties) {
        errors.push({ path, keyword: "undocumented", message: "property is not described by the contract" });
      }
      moreErrors += undocumented.more;
    }
    return { valid: errors.length === 0, operationId, errors, ...(moreErrors > 0 ? { moreErrors } : {}) };
  }

  return { id, document, operations: listOperations(document), findOperation, validateResponse };
}

const fail = (operationId: string | undefined, error: ContractError): ValidationResult => ({ valid: false, operationId, errors: [error] });

/** `/response/vpses/0/id` → `$.response.vpses[0].id` */
export function toJsonPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, part) => {
      if (/^\d+$/.test(part)) return `${path}[${part}]`;
      return /^[A-Za-z_$][\w$]*$/.test(part) ? `${path}.${part}` : `${path}[${JSON.stringify(part)}]`;
    }, "$");
}

function toContractError(error: ErrorObject): ContractError {
  let path = toJsonPath(error.instancePath);
  let message = error.message ?? error.keyword;
  if (error.keyword === "required") {
    path = toJsonPath(`${error.instancePath}/${(error.params as { missingProperty: string }).missingProperty}`);
    message = "is required";
  } else if (error.keyword === "false schema") {
    message = "is not allowed here";
  }
  return { path, keyword: error.keyword, message };
}

/** Renders errors one per line: `$.response.vpses[0].id: must match pattern "^[0-9]+$"`. */
export function formatErrors(errors: readonly ContractError[]): string {
  return errors.map((error) => `${error.path}: ${error.message}`).join("\n");
}
