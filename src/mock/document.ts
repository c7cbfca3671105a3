/**
 * The bundled contract as the mock engine serves it. Prism matches a request's path against the
 * document's path keys and ignores the path of `servers`, so each path key is put under its base
 * path (its path item's own server's, else the document's), and a base path's `{variables}`
 * (CloudStack's `/api/v2/services/{service_code}/{environment_name}`) are declared as path
 * parameters, which makes any service code and environment match.
 */
import { childPointer, pathItemBasePath, resolveLocal, templateVariables, type OpenApiDocument } from "../contract/document.js";

export function mockDocument(document: OpenApiDocument): OpenApiDocument {
  const paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, rawItem]) => {
      const basePath = pathItemBasePath(document, path);
      const { servers: _servedUnderBasePath, ...item } = resolveLocal<Record<string, unknown>>(document, {
        value: rawItem,
        pointer: childPointer("#", "paths", path),
      }).value;
      const variables = templateVariables(basePath).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }));
      if (variables.length > 0) item.parameters = [...variables, ...((item.parameters as unknown[] | undefined) ?? [])];
      return [`${basePath}${path}`, item];
    }),
  );
  return { ...document, paths };
}
