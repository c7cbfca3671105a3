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

/**
 * The path part of a server URL, with its `{variables}` kept: `https://{host}/api/v2` → `/api/v2`,
 * `https://{host}/api/v2/services/{service_code}/{env}` → `/api/v2/services/{service_code}/{env}`,
 * "" for the host root.
 */
export function serverPath(url: string): string {
  const withoutOrigin = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  return withoutOrigin.replace(/[?#].*$/, "").replace(/\/+$/, "");
}

/** The base path of the document's first server (see `serverPath`), or "" for the host root. */
export function serverBasePath(document: OpenApiDocument): string {
  const url = document.servers?.[0]?.url;
  return url ? serverPath(url) : "";
}

/** The servers a path item is served by: its own `servers` when it has them, else the document's. */
function pathItemServers(document: OpenApiDocument, pathTemplate: string): { url: string }[] {
  const item = resolveLocal<{ servers?: { url: string }[] }>(document, {
    value: document.paths[pathTemplate],
    pointer: childPointer("#", "paths", pathTemplate),
  }).value;
  return item.servers?.length ? item.servers : (document.servers ?? []);
}

/**
 * The base path a path item is served under: its own first server's when it has `servers`
 * (CloudStack's `/tasks/{id}` lives at the API root, not under the service), else the document's.
 */
export function pathItemBasePath(document: OpenApiDocument, pathTemplate: string): string {
  const url = pathItemServers(document, pathTemplate)[0]?.url;
  return url ? serverPath(url) : "";
}

/** Every base path a path item is served under, one per server (current and legacy ones). */
export const pathItemBasePaths = (document: OpenApiDocument, pathTemplate: string): string[] =>
  [...new Set(pathItemServers(document, pathTemplate).map(({ url }) => serverPath(url)))];

/**
 * The API's root, where clients and mocks are addressed: the document's base path up to its first
 * `{variable}`, or a path item's base path above that (`/api/v2` for CloudStack, whose entities are
 * under `/api/v2/services/{…}/{…}` and tasks under `/api/v2`). Path items served elsewhere (Cloud
 * Manager's `/api/oauth` and `/prometheus/v1.0`) do not count.
 */
export function apiRootPath(document: OpenApiDocument): string {
  const documentBase = serverBasePath(document).split("/");
  const variable = documentBase.findIndex((segment) => segment.includes("{"));
  let root = (variable === -1 ? documentBase : documentBase.slice(0, variable)).join("/");
  for (const path of Object.keys(document.paths)) {
    const base = pathItemBasePath(document, path);
    if (base.length < root.length && (root.startsWith(`${base}/`) || base === "")) root = base;
  }
  return root;
}

/** The `{variables}` of a path template or base path, in order. */
export const templateVariables = (template: string) => [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);

/** A base path's test: the length of the prefix of `path` it covers (up to a `/`), or -1. */
type BaseMatcher = (path: string) => number;

function baseMatcher(basePath: string): BaseMatcher {
  if (!basePath.includes("{")) {
    const withSlash = `${basePath}/`;
    return (path) => (path.startsWith(withSlash) ? basePath.length : -1);
  }
  const pattern = new RegExp(`^${templatePattern(basePath)}(?=/)`);
  return (path) => pattern.exec(path)?.[0].length ?? -1;
}

/** A path template as a regular expression source: each `{name}` matches one or more characters other than `/`. */
const templatePattern = (template: string) =>
  template
    .split("/")
    .map((segment) =>
      segment.replace(/\{[^}]+\}|[^{}]+/g, (part) => (part.startsWith("{") ? "([^/]+)" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))),
    )
    .join("/");

interface CompiledPath<T> {
  template: string;
  pattern: RegExp;
  /** Bit `1 << i` is set when the template is served under base path number `i` of the locator. */
  bases: number;
  literalSegments: number;
  /** Position in the order templates are tried in. */
  rank: number;
  /** Every segment is literal or a whole `{name}`: reaching it in the tree is a match. */
  plain: boolean;
  /** What `prepare` made of each HTTP method's operation, by `METHOD_INDEX` (undefined: no such operation). */
  operations: (T | undefined)[];
}

/** The templates by segment: a literal segment leads to its child, any `{…}` segment to `wildcard`. */
interface PathTree<T> {
  /** `literalKey` of each literal child (the segment's length and first character), scanned in order. */
  keys: number[];
  /** The literal children, in the order of `keys`. */
  literals: { segment: string; tree: PathTree<T> }[];
  wildcard: PathTree<T> | undefined;
  /** Templates that end here, in the order they are tried. */
  ends: CompiledPath<T>[];
}

const newTree = <T>(): PathTree<T> => ({ keys: [], literals: [], wildcard: undefined, ends: [] });

/** `get` → 0 … `trace` → 7, in lower and upper case. */
const METHOD_INDEX: ReadonlyMap<string, number> = new Map(
  HTTP_METHODS.flatMap((method, index) => [[method, index], [method.toUpperCase(), index]]),
);

/** A small-integer key for a segment `path.slice(start, end)`: its length and first UTF-16 unit. */
const literalKey = (path: string, start: number, end: number) => (end - start) * 65536 + (end > start ? path.charCodeAt(start) : 0);

/** Templates found by `collect`, the first `count` of `entries` (reused: matching never re-enters). */
interface Found<T> {
  entries: CompiledPath<T>[];
  count: number;
}

/**
 * Collects the templates whose segments fit those of `path` between `start` (just after a `/`)
 * and `end`. The path is walked in place, not split: a segment is compared, where it stands,
 * with the literals of its length and first character, so matching allocates no strings.
 */
function collect<T>(tree: PathTree<T>, path: string, start: number, end: number, found: Found<T>): void {
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
 * ones (`/vps/list` is `listVpses`, not `getVpsStatus` with id "list"). The base path a template
 * is served under (its path item's own `servers`, else the document's; `{variables}` in it match
 * any segment) may be present or not.
 */
export function createOperationMatcher(document: OpenApiDocument): (method: string, path: string) => MatchedOperation | undefined {
  const { locate } = createOperationLocator(document, (matched) => matched);
  return (method, path) => {
    const matched = locate(method, path);
    return matched && { ...matched };
  };
}

/**
 * The matcher's inside, for callers that keep their own data with each operation: `prepare` is
 * called once for every operation of the document, now, and `locate(method, path)` answers with
 * what it returned for the operation that method and path address.
 *
 * Templates are tried in order (most literal segments first, then document order), but only
 * those a tree of segments says can match; a path with a trailing slash, or not starting with
 * `/`, is tried against every template's pattern.
 */
export function createOperationLocator<T>(document: OpenApiDocument, prepare: (matched: MatchedOperation) => T) {
  // The document's base paths first (current server, then legacy ones), then those of path
  // items with servers of their own; "" (the host root) is never one.
  const basePaths: string[] = [];
  const baseIndex = (basePath: string) => {
    const index = basePaths.indexOf(basePath);
    if (index !== -1) return index;
    if (basePaths.length === 31) throw new Error("More than 31 distinct server base paths.");
    return basePaths.push(basePath) - 1;
  };
  for (const { url } of document.servers ?? []) baseIndex(serverPath(url));
  const compiled: CompiledPath<T>[] = Object.keys(document.paths)
    .map((template) => {
      const segments = template.split("/");
      const source = templatePattern(template);
      const item = resolveLocal<Record<string, unknown>>(document, {
        value: document.paths[template],
        pointer: childPointer("#", "paths", template),
      });
      const operations = HTTP_METHODS.map((method) =>
        item.value[method] === undefined
          ? undefined
          : prepare({
              method,
              pathTemplate: template,
              operation: resolveLocal<OperationObject>(document, { value: item.value[method], pointer: childPointer(item.pointer, method) }),
            }),
      );
      return {
        template,
        pattern: new RegExp(`^${source}/?$`),
        bases: pathItemBasePaths(document, template).reduce((mask, basePath) => mask | (1 << baseIndex(basePath)), 0),
        literalSegments: segments.filter((segment) => !segment.includes("{")).length,
        rank: 0,
        plain: segments.every((segment) => !segment.includes("{") || /^\{[^{}]+\}$/.test(segment)),
        operations,
      };
    })
    .sort((a, b) => b.literalSegments - a.literalSegments);

  const tree = newTree<T>();
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

  const found: Found<T> = { entries: [], count: 0 };
  /**
   * The path part `pathname.slice(from, end)` is the candidate tried against the templates served
   * under base path number `base` (-1: any, for a path given without its base path).
   */
  const matchIn = (pathname: string, from: number, end: number, method: number, base: number): T | undefined => {
    if (!(treeHoldsAll && end > from && pathname.charCodeAt(from) === 47 /* / */ && pathname.charCodeAt(end - 1) !== 47)) {
      const candidate = pathname.slice(from, end);
      for (const entry of compiled) {
        const operation = entry.operations[method];
        if (operation !== undefined && (base === -1 || (entry.bases & (1 << base)) !== 0) && entry.pattern.test(candidate)) return operation;
      }
      return undefined;
    }
    found.count = 0;
    collect(tree, pathname, from + 1, end, found);
    // The templates the tree reached fit segment by segment; one with a segment such as
    // `{name}.json` must still match its pattern. The first in rank with the method wins.
    let best: CompiledPath<T> | undefined;
    let candidate: string | undefined;
    for (let index = 0; index < found.count; index++) {
      const entry = found.entries[index]!;
      if (entry.operations[method] === undefined || (base !== -1 && (entry.bases & (1 << base)) === 0) || (best !== undefined && best.rank < entry.rank)) continue;
      if (!entry.plain && !entry.pattern.test((candidate ??= pathname.slice(from, end)))) continue;
      best = entry;
    }
    return best?.operations[method];
  };

  const bases = basePaths.map((basePath, index) => ({ index, covers: basePath ? baseMatcher(basePath) : undefined }));

  function locate(method: string, path: string): T | undefined {
    const methodIndex = METHOD_INDEX.get(method) ?? METHOD_INDEX.get(method.toLowerCase());
    if (methodIndex === undefined) return undefined;
    let end = path.indexOf("?");
    const hash = path.indexOf("#");
    if (hash !== -1 && (end === -1 || hash < end)) end = hash;
    if (end === -1) end = path.length;
    // The pathname with a base path (each template under its own), then without one.
    for (const { index, covers } of bases) {
      const from = covers ? covers(path) : -1; // "" covers nothing: such paths are tried below
      if (from === -1 || from >= end) continue;
      const located = matchIn(path, from, end, methodIndex, index);
      if (located !== undefined) return located;
    }
    return matchIn(path, 0, end, methodIndex, -1);
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
