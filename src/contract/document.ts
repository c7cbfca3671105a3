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
  /** Position in the order templates are tried in. */
  rank: number;
  /** Every segment is literal or a whole `{name}`: reaching it in the tree is a match. */
  plain: boolean;
  /** The match for each HTTP method, resolved on first use (null: the path has no such operation). */
  operations: Map<string, LocatedOperation | null>;
}

/** The templates by segment: a literal segment leads to its child, any `{…}` segment to `wildcard`. */
interface PathTree {
  /** `literalKey` of each literal child (the segment's length and first character), scanned in order. */
  keys: number[];
  /** The literal children, in the order of `keys`. */
  literals: { segment: string; tree: PathTree }[];
  wildcard: PathTree | undefined;
  /** Templates that end here, in the order they are tried. */
  ends: CompiledPath[];
}

const HTTP_METHOD_SET: ReadonlySet<string> = new Set(HTTP_METHODS);
const newTree = (): PathTree => ({ keys: [], literals: [], wildcard: undefined, ends: [] });

/** A small-integer key for a segment `path.slice(start, end)`: its length and first UTF-16 unit. */
const literalKey = (path: string, start: number, end: number) => (end - start) * 65536 + (end > start ? path.charCodeAt(start) : 0);

/** Templates found by `collect`, the first `count` of `entries` (reused: matching never re-enters). */
interface Found {
  entries: CompiledPath[];
  count: number;
}

/**
 * Collects the templates whose segments fit those of `path` between `start` (just after a `/`)
 * and `end`. The path is walked in place, not split: a segment is compared, where it stands,
 * with the literals of its length and first character, so matching allocates no strings.
 */
function collect(tree: PathTree, path: string, start: number, end: number, found: Found): void {
  let slash = path.indexOf("/", start);
  if (slash >= end) slash = -1;
  const segmentEnd = slash === -1 ? end : slash;
  const keys = tree.keys;
  if (keys.length !== 0) {
    const key = literalKey(path, start, segmentEnd);
    for (let index = 0; index < keys.length; index++) {
      if (keys[index] !== key) continue;
      const literal = tree.literals[index]!;
      if (!path.startsWith(literal.segment, start)) continue;
      if (slash === -1) for (const entry of literal.tree.ends) found.entries[found.count++] = entry;
      else collect(literal.tree, path, slash + 1, end, found);
      break;
    }
  }
  // A `{…}` segment matches one or more characters other than `/`.
  const wildcard = tree.wildcard;
  if (wildcard !== undefined && segmentEnd > start) {
    if (slash === -1) for (const entry of wildcard.ends) found.entries[found.count++] = entry;
    else collect(wildcard, path, slash + 1, end, found);
  }
}

/**
 * Finds the operation for a method and a concrete path. Literal segments win over templated
 * ones (`/vps/list` is `listVpses`, not `getVpsStatus` with id "list"). The server's base path
 * may be present or not.
 *
 * Templates are tried in that order (most literal segments first, then document order), but
 * only those a tree of segments says can match; a path with a trailing slash, or not starting
 * with `/`, is tried against every template's pattern.
 */
export function createOperationMatcher(document: OpenApiDocument): (method: string, path: string) => MatchedOperation | undefined {
  const { locate } = createOperationLocator(document);
  return (method, path) => {
    const located = locate(method, path);
    return located && { ...located.matched };
  };
}

/** What `createOperationLocator` finds: the match, and a place for its user to keep per-status data. */
export interface LocatedOperation {
  matched: MatchedOperation;
  /** Empty at first; kept with the operation (for an HTTP method), so filled once. */
  byStatus: Map<number, unknown>;
}

/**
 * The matcher's inside: `locate` answers what `createOperationMatcher`'s function does, but as
 * one shared record per operation and method, for callers that do not hand it out.
 */
export function createOperationLocator(document: OpenApiDocument) {
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
        rank: 0,
        plain: segments.every((segment) => !segment.includes("{") || /^\{[^{}]+\}$/.test(segment)),
        operations: new Map(),
      };
    })
    .sort((a, b) => b.literalSegments - a.literalSegments);

  const tree = newTree();
  const treeHoldsAll = compiled.every(({ template }) => template.startsWith("/"));
  compiled.forEach((entry, rank) => {
    entry.rank = rank;
    let node = tree;
    for (const segment of entry.template.split("/").slice(1)) {
      if (segment.includes("{")) node = node.wildcard ??= newTree();
      else {
        let child = node.literals.find((literal) => literal.segment === segment)?.tree;
        if (!child) {
          node.keys.push(literalKey(segment, 0, segment.length));
          node.literals.push({ segment, tree: (child = newTree()) });
        }
        node = child;
      }
    }
    node.ends.push(entry);
  });

  const operationOf = (entry: CompiledPath, method: string): LocatedOperation | null => {
    let located = entry.operations.get(method);
    if (located !== undefined) return located;
    const item = resolveLocal<Record<string, unknown>>(document, {
      value: document.paths[entry.template],
      pointer: childPointer("#", "paths", entry.template),
    });
    const operation = item.value[method];
    located =
      operation === undefined
        ? null
        : {
            matched: {
              method,
              pathTemplate: entry.template,
              operation: resolveLocal<OperationObject>(document, { value: operation, pointer: childPointer(item.pointer, method) }),
            },
            byStatus: new Map(),
          };
    if (HTTP_METHOD_SET.has(method)) entry.operations.set(method, located);
    return located;
  };

  const byRank = (a: CompiledPath, b: CompiledPath) => a.rank - b.rank;

  const found: Found = { entries: [], count: 0 };
  /** The path part `pathname.slice(from, end)` is the candidate tried against the templates. */
  const matchIn = (pathname: string, from: number, end: number, method: string): LocatedOperation | undefined => {
    let entries: readonly CompiledPath[] = compiled;
    let checked = false;
    if (treeHoldsAll && end > from && pathname.charCodeAt(from) === 47 /* / */ && pathname.charCodeAt(end - 1) !== 47) {
      found.count = 0;
      collect(tree, pathname, from + 1, end, found);
      if (found.count === 0) return undefined;
      // The usual case: one template fits, and reaching it is a match.
      if (found.count === 1 && found.entries[0]!.plain) return operationOf(found.entries[0]!, method) ?? undefined;
      entries = found.entries.slice(0, found.count).sort(byRank);
      checked = true;
    }
    let candidate: string | undefined;
    for (const entry of entries) {
      if (!(checked && entry.plain) && !entry.pattern.test((candidate ??= pathname.slice(from, end)))) continue;
      const located = operationOf(entry, method);
      if (located !== null) return located;
    }
    return undefined;
  };

  const basePath = serverBasePath(document);
  const basePathSlash = `${basePath}/`;
  const lowerCase = new Map(HTTP_METHODS.flatMap((method) => [[method, method], [method.toUpperCase(), method]]));

  function locate(method: string, path: string): LocatedOperation | undefined {
    const lowerMethod = lowerCase.get(method) ?? method.toLowerCase();
    let end = path.indexOf("?");
    const hash = path.indexOf("#");
    if (hash !== -1 && (end === -1 || hash < end)) end = hash;
    if (end === -1) end = path.length;
    // The pathname without, then with, the server's base path.
    if (basePath && path.startsWith(basePathSlash) && basePathSlash.length <= end) {
      const located = matchIn(path, basePath.length, end, lowerMethod);
      if (located) return located;
    }
    return matchIn(path, 0, end, lowerMethod);
  }

  return { locate };
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

/**
 * JSON pointer of a response's schema for a media type, which keys its validator: under the
 * operation (`#/paths/~1stacks/get/responses/200/content/application~1json/schema`), or under
 * the components when the response is a `$ref` (`#/components/responses/Unauthorized/content/…`).
 */
export const responseSchemaPointer = (response: Located<ResponseObject>, mediaType: string) =>
  childPointer(response.pointer, "content", mediaType, "schema");

/**
 * Every response schema the checker can be asked to validate against, as `responseSchemaPointer`
 * gives it (each documented status of each operation, with its JSON media type), in document
 * order, each pointer once.
 */
export function listResponseSchemaPointers(document: OpenApiDocument): string[] {
  const pointers = new Set<string>();
  for (const pathTemplate of Object.keys(document.paths)) {
    const item = resolveLocal<Record<string, unknown>>(document, {
      value: document.paths[pathTemplate],
      pointer: childPointer("#", "paths", pathTemplate),
    });
    for (const method of HTTP_METHODS) {
      if (item.value[method] === undefined) continue;
      const operation = resolveLocal<OperationObject>(document, { value: item.value[method], pointer: childPointer(item.pointer, method) });
      for (const [key, value] of Object.entries(operation.value.responses ?? {})) {
        const response = resolveLocal<ResponseObject>(document, { value, pointer: childPointer(operation.pointer, "responses", key) });
        const mediaType = jsonMediaType(response.value);
        if (mediaType) pointers.add(responseSchemaPointer(response, mediaType));
      }
    }
  }
  return [...pointers];
}
