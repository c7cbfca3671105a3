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
 * the document registered under `documentId(id)`. `standalone` also keeps each compiled
 * function's source, for `ajv/dist/standalone`; it changes no generated validation code.
 */
export function createAjv(id: string, document: OpenApiDocument, { standalone = false } = {}): Ajv2020 {
  const { Ajv2020: Ajv } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  const addFormats = require("ajv-formats") as (ajv: Ajv2020) => Ajv2020;
  const ajv = new Ajv({ ...AJV_OPTIONS, ...(standalone ? { code: standaloneCodeOptions() } : {}) });
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
