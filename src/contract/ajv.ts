/**
 * The one Ajv configuration of the contract checker. The checker's in-process compiler
 * (index.ts) and the precompiled validators (`generated/<id>/validators.js`, written by
 * scripts/validators.ts) both come from `createAjv`, so they validate alike: same options, same
 * formats, same OpenAPI vocabulary, same root document, same wrapper schema per response.
 *
 * Ajv is loaded on first use rather than imported: a checker that runs on precompiled
 * validators never needs the compiler, and loading it costs a cold start ~80 ms.
 */
import { createRequire } from "node:module";
import type { Ajv2020 } from "ajv/dist/2020.js";
import type { OpenApiDocument } from "./document.js";

/** Options of every Ajv instance the checker compiles with. */
export const AJV_OPTIONS = { allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true } as const;

/**
 * The most errors a validator keeps for one body; it counts the rest. A recording whose 1,000,000
 * array items all fail has some 13 errors per item: kept whole, they take gigabytes.
 */
export const MAX_ERRORS = 100;

/**
 * What `validators.js` records of how it collects errors, so that the checker takes no file made
 * by other code (see `capErrorCollection`): a file without it is stale, and compiled anew.
 */
export const ERROR_COLLECTION = `capped:${MAX_ERRORS}`;

/*
 * Ajv's generated code (allErrors) adds the errors of a called validator (`$ref` to another
 * schema, e.g. each item of an array) as `vErrors = vErrors === null ? v.errors : vErrors.concat(v.errors)`:
 * a copy of every error so far, for each failing item, so 16,000 failing items took 55 s and a
 * million never finished. Ajv has no option for it (`code.process` sees the code of in-process
 * compiles only, not standalone output), so the same small rewrite is applied to both: errors are
 * appended in place, and past MAX_ERRORS a `null` stands in for each one. The array keeps its
 * length, which the generated code uses to tell whether a branch (`anyOf`, `oneOf`, `contains`)
 * failed and to drop a branch's errors; the first MAX_ERRORS entries stay real errors (every
 * array is filled front to back and truncated from the back). Nothing changes for a valid body:
 * these statements run only after a failure.
 */
const CONCAT_ERRORS = /vErrors = vErrors === null \? ([\w$.]+)\.errors : vErrors\.concat\(\1\.errors\);/g;
const PUSH_ERROR = /vErrors\.push\((err\d+)\);/g;

/** Ajv code (standalone module or in-process function body) with the error collection capped. */
export function capErrorCollection(code: string): string {
  const capped = code
    .replace(CONCAT_ERRORS, (_, validate: string) =>
      `if (vErrors === null) vErrors = ${validate}.errors; else for (const e of ${validate}.errors) vErrors.push(vErrors.length < ${MAX_ERRORS} ? e : null);`)
    .replace(PUSH_ERROR, (_, error: string) => `vErrors.push(vErrors.length < ${MAX_ERRORS} ? ${error} : null);`);
  // A new Ajv that collects errors another way must not go unnoticed: it would be quadratic again.
  if (/vErrors\.concat\(/.test(capped)) throw new Error("Ajv's generated code adds errors in a way capErrorCollection does not know (src/contract/ajv.ts).");
  return capped;
}

// OpenAPI's own schema keywords, which are annotations to a JSON Schema validator, and the fields
// of the document itself: the whole document is registered with Ajv so that `#/components/...`
// references resolve, and Ajv reads its top-level fields as keywords of a root schema.
const OPENAPI_KEYWORDS = ["example", "discriminator", "xml", "externalDocs"];
const DOCUMENT_FIELDS = ["openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags"];
export const OPENAPI_VOCABULARY: readonly string[] = [...OPENAPI_KEYWORDS, ...DOCUMENT_FIELDS];

/** The id the bundled document is registered under; response schemas are referenced below it. */
export const documentId = (id: string) => `urn:cloud-api-contracts:${id}`;

/** The schema compiled for one response: a reference to its schema inside the document. */
export const responseSchema = (id: string, pointer: string) => ({ $ref: `${documentId(id)}${pointer}` });

const require = createRequire(import.meta.url);

/**
 * An Ajv 2020 instance with the checker's options, ajv-formats and the OpenAPI vocabulary, and
 * the document registered under `documentId(id)`, compiling with the error collection capped
 * (`capErrorCollection`). `standalone` also keeps each compiled function's source, for
 * `ajv/dist/standalone` (whose output needs `capErrorCollection` applied); it changes no
 * generated validation code.
 */
export function createAjv(id: string, document: OpenApiDocument, { standalone = false } = {}): Ajv2020 {
  const { Ajv2020: Ajv } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  const addFormats = require("ajv-formats") as (ajv: Ajv2020) => Ajv2020;
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { process: capErrorCollection, ...(standalone ? standaloneCodeOptions() : {}) } });
  addFormats(ajv);
  ajv.addVocabulary([...OPENAPI_VOCABULARY]);
  ajv.addSchema(document as object, documentId(id));
  return ajv;
}

/**
 * Code options for `ajv/dist/standalone`: keep each function's source, export as an ES module,
 * and reach the formats as the same `fullFormats` of ajv-formats that `addFormats` registers
 * (Ajv's `code.formats`; the generated module defines `require` with `createRequire`).
 */
function standaloneCodeOptions() {
  const { _ } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  return { source: true, esm: true, formats: _`require("ajv-formats/dist/formats").fullFormats` };
}
