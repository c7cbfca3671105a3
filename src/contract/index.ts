/**
 * Contract checks: does a recorded response match what the bundled spec promises?
 *
 *   const contract = await loadContract("cvm");
 *   contract.validateResponse({ method: "GET", path: "/api/client/vps/list", status: 200, body });
 */
import { readFile } from "node:fs/promises";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { getApi } from "../apis.js";
import {
  childPointer, createOperationMatcher, findResponse, jsonMediaType, listOperations,
  type MatchedOperation, type OpenApiDocument, type OperationSummary,
} from "./document.js";
import { findUndocumentedProperties } from "./undocumented.js";

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
  errors: ContractError[];
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

/** Loads `generated/<id>/openapi.json` (or `specPath`) and returns its contract checker. */
export async function loadContract(id: string, options: { specPath?: string | URL } = {}): Promise<Contract> {
  const specPath = options.specPath ?? new URL(`../../generated/${getApi(id).id}/openapi.json`, import.meta.url);
  let document: OpenApiDocument;
  try {
    document = JSON.parse(await readFile(specPath, "utf8")) as OpenApiDocument;
  } catch (error) {
    throw new Error(`Cannot read the contract of "${id}" from ${String(specPath)}: ${(error as Error).message}`);
  }
  return createContract(id, document);
}

// OpenAPI's own schema keywords, which are annotations to a JSON Schema validator, and the fields
// of the document itself: the whole document is registered with Ajv so that `#/components/...`
// references resolve, and Ajv reads its top-level fields as keywords of a root schema.
const OPENAPI_KEYWORDS = ["example", "discriminator", "xml", "externalDocs"];
const DOCUMENT_FIELDS = ["openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags"];
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Builds a contract checker from a bundled document already in memory. */
export function createContract(id: string, document: OpenApiDocument): Contract {
  const documentId = `urn:cloud-api-contracts:${id}`;
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary([...OPENAPI_KEYWORDS, ...DOCUMENT_FIELDS]);
  ajv.addSchema(document as object, documentId);

  const findOperation = createOperationMatcher(document);
  // One compiled validator per response schema, made the first time it is needed.
  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (pointer: string) => {
    let validate = validators.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `${documentId}${pointer}` });
      validators.set(pointer, validate);
    }
    return validate;
  };

  function validateResponse(recorded: RecordedResponse, options: ValidateOptions = {}): ValidationResult {
    const what = `${recorded.method.toUpperCase()} ${recorded.path}`;
    const matched = findOperation(recorded.method, recorded.path);
    if (!matched) return fail(undefined, { path: "$", keyword: "operation", message: `No operation in the ${id} contract matches ${what}.` });
    const operationId = matched.operation.value.operationId;

    const found = findResponse(document, matched.operation, recorded.status);
    if (!found) {
      const documented = Object.keys(matched.operation.value.responses ?? {}).join(", ");
      return fail(operationId, { path: "$", keyword: "status", message: `Status ${recorded.status} is not documented for ${operationId} (documented: ${documented}).` });
    }

    const isEmpty = recorded.body === undefined || recorded.body === null || recorded.body === "";
    const mediaType = jsonMediaType(found.response.value);
    if (!mediaType) {
      return isEmpty
        ? { valid: true, operationId, errors: [] }
        : fail(operationId, { path: "$", keyword: "body", message: `${operationId} ${found.key} has no body in the contract, but one was received.` });
    }
    if (isEmpty) return fail(operationId, { path: "$", keyword: "body", message: `${operationId} ${found.key} promises a ${mediaType} body, but the body is empty.` });

    const schemaPointer = childPointer(found.response.pointer, "content", mediaType, "schema");
    const validate = validatorFor(schemaPointer);
    const errors: ContractError[] = validate(recorded.body) ? [] : (validate.errors ?? []).map(toContractError);
    if (options.strict) {
      const schema = found.response.value.content![mediaType]!.schema;
      for (const { path } of findUndocumentedProperties(document, schema, recorded.body)) {
        errors.push({ path, keyword: "undocumented", message: "property is not described by the contract" });
      }
    }
    return { valid: errors.length === 0, operationId, errors };
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
