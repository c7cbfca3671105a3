/** Reading a bundled OpenAPI 3.1 document: locating operations and following local `$ref`s. */

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  servers?: { url: string; variables?: Record<string, { default: string }> }[];
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
}

export interface Located<T> {
  value: T;
  /** JSON pointer of `value` inside the document, e.g. `#/components/responses/Unauthorized`. */
  pointer: string;
}

export interface ResponseObject {
  description?: string;
  content?: Record<string, { schema?: unknown }>;
}

export interface OperationObject {
  operationId?: string;
  responses?: Record<string, unknown>;
}

export interface MatchedOperation {
  method: string;
  /** The path template as written in the spec, e.g. `/api/client/vps/{id}`. */
  pathTemplate: string;
  operation: Located<OperationObject>;
}

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

const escapePointer = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");
export const childPointer = (pointer: string, ...keys: string[]) => `${pointer}/${keys.map(escapePointer).join("/")}`;

/** Follows a chain of local `$ref`s (`#/...`), keeping track of where the target lives. */
export function resolveLocal<T>(document: OpenApiDocument, located: Located<unknown>): Located<T> {
  let current = located;
  for (let hops = 0; hops < 32; hops++) {
    const ref = (current.value as { $ref?: unknown } | null)?.$ref;
    if (typeof ref !== "string") return current as Located<T>;
    if (!ref.startsWith("#/")) throw new Error(`Only local references are supported in a bundled document, found "${ref}".`);
    const value = ref
      .slice(2)
      .split("/")
      .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
    if (value === undefined) throw new Error(`Reference "${ref}" points at nothing.`);
    current = { value, pointer: ref };
  }
  throw new Error(`Reference chain at ${located.pointer} is too long (circular?).`);
}

/** The path part of the first server URL (`https://{host}/api/v2` → `/api/v2`), or "" for the host root. */
export function serverBasePath(document: OpenApiDocument): string {
  const url = document.servers?.[0]?.url;
  if (!url) return "";
  const pathname = new URL(url.replace(/\{[^}]*\}/g, "placeholder"), "http://placeholder").pathname;
  return pathname.replace(/\/+$/, "");
}

interface CompiledPath {
  template: string;
  pattern: RegExp;
  literalSegments: number;
}

/**
 * Finds the operation for a method and a concrete path. Literal segments win over templated
 * ones (`/vps/list` is `listVpses`, not `getVpsStatus` with id "list"). The server's base path
 * may be present or not.
 */
export function createOperationMatcher(document: OpenApiDocument) {
  const compiled: CompiledPath[] = Object.keys(document.paths)
    .map((template) => {
      const segments = template.split("/");
      const source = segments
        .map((segment) =>
          segment.replace(/\{[^}]+\}|[^{}]+/g, (part) =>
            part.startsWith("{") ? "([^/]+)" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
          ),
        )
        .join("/");
      return {
        template,
        pattern: new RegExp(`^${source}/?$`),
        literalSegments: segments.filter((segment) => !segment.includes("{")).length,
      };
    })
    .sort((a, b) => b.literalSegments - a.literalSegments);
  const basePath = serverBasePath(document);

  return function match(method: string, path: string): MatchedOperation | undefined {
    const lowerMethod = method.toLowerCase();
    const pathname = path.split(/[?#]/)[0]!;
    const candidates = basePath && pathname.startsWith(`${basePath}/`) ? [pathname.slice(basePath.length), pathname] : [pathname];
    for (const candidate of candidates) {
      for (const { template, pattern } of compiled) {
        if (!pattern.test(candidate)) continue;
        const item = resolveLocal<Record<string, unknown>>(document, {
          value: document.paths[template],
          pointer: childPointer("#", "paths", template),
        });
        const operation = item.value[lowerMethod];
        if (operation === undefined) continue;
        return {
          method: lowerMethod,
          pathTemplate: template,
          operation: resolveLocal<OperationObject>(document, { value: operation, pointer: childPointer(item.pointer, lowerMethod) }),
        };
      }
    }
    return undefined;
  };
}

export interface OperationSummary {
  method: string;
  pathTemplate: string;
  operationId: string | undefined;
  /** Documented response keys: status codes, `4XX`-style ranges, `default`. */
  statuses: string[];
}

/** Every operation of the document, in document order. */
export function listOperations(document: OpenApiDocument): OperationSummary[] {
  return Object.entries(document.paths).flatMap(([pathTemplate, rawItem]) => {
    const item = resolveLocal<Record<string, unknown>>(document, { value: rawItem, pointer: childPointer("#", "paths", pathTemplate) });
    return HTTP_METHODS.filter((method) => item.value[method] !== undefined).map((method) => {
      const operation = resolveLocal<OperationObject>(document, { value: item.value[method], pointer: childPointer(item.pointer, method) }).value;
      return { method, pathTemplate, operationId: operation.operationId, statuses: Object.keys(operation.responses ?? {}) };
    });
  });
}

/** Picks the response entry for a status: exact code, then `4XX`-style range, then `default`. */
export function findResponse(
  document: OpenApiDocument,
  operation: Located<OperationObject>,
  status: number,
): { key: string; response: Located<ResponseObject> } | undefined {
  const responses = operation.value.responses ?? {};
  const key = [String(status), `${String(status)[0]}XX`, "default"].find((candidate) => candidate in responses);
  if (key === undefined) return undefined;
  return {
    key,
    response: resolveLocal<ResponseObject>(document, {
      value: responses[key],
      pointer: childPointer(operation.pointer, "responses", key),
    }),
  };
}

/** The JSON media type of a response (`application/json` or any `+json`), if it has one. */
export function jsonMediaType(response: ResponseObject): string | undefined {
  const types = Object.keys(response.content ?? {});
  return types.find((type) => type === "application/json") ?? types.find((type) => /[/+]json\b/.test(type));
}
