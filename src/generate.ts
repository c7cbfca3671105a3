/**
 * `cloud-contracts generate`: puts an API's bundled contract and freshly generated TypeScript
 * types into a consumer's repository, without ever overwriting a file it did not write, and all
 * of its files or none: the contract, the types and the manifest that vouches for them are
 * written together (`writeFilesAtomic`), so a failed run leaves the folder as it was and the
 * next run does not mistake its own files for someone else's.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getApi } from "./apis.js";
import { writeFilesAtomic } from "./atomic.js";

/** The bookkeeping file `generate` keeps in the output folder: what it wrote, and each file's hash. */
export const MANIFEST = ".cloud-api-contracts.json";

interface Manifest {
  api: string;
  apiVersion: string;
  generator: string;
  files: Record<string, string>;
}

/** TypeScript types (openapi-typescript) for a bundled document, with a header saying so. */
export async function renderTypes(specPath: string, header = ""): Promise<string> {
  // Loaded here, not at the top: only generating needs openapi-typescript (and TypeScript).
  const { default: openapiTS, astToString, COMMENT_HEADER } = await import("openapi-typescript");
  const ast = await openapiTS(pathToFileURL(specPath));
  return COMMENT_HEADER + header + astToString(ast);
}

const sha256 = (content: string) => createHash("sha256").update(content).digest("hex");

export class GenerateError extends Error {}

export async function generate(options: { api: string; outDir: string; force?: boolean }): Promise<string[]> {
  const api = getApi(options.api);
  const specPath = new URL(`../generated/${api.id}/openapi.json`, import.meta.url);
  const packageJson = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { name: string; version: string };
  const spec = await readFile(specPath, "utf8");
  const { info } = JSON.parse(spec) as { info: { version: string; title: string } };
  const generator = `${packageJson.name}@${packageJson.version}`;
  const header = `// ${info.title} ${info.version}: written by \`cloud-contracts generate --api ${api.id}\` (${generator}).\n// Regenerate rather than edit.\n\n`;
  const files: Record<string, string> = {
    "openapi.json": spec,
    "schema.d.ts": await renderTypes(fileURLToPath(specPath), header),
  };

  const manifestPath = join(options.outDir, MANIFEST);
  const previous = await readFile(manifestPath, "utf8").then((text) => JSON.parse(text) as Manifest, () => undefined);
  for (const name of [...Object.keys(files), MANIFEST]) {
    const info = await stat(join(options.outDir, name)).catch(() => undefined);
    if (info && !info.isFile()) throw new GenerateError(`${join(options.outDir, name)} is in the way and is not a file; nothing was written.`);
  }
  if (!options.force) {
    const foreign: string[] = [];
    for (const name of Object.keys(files)) {
      const existing = await readFile(join(options.outDir, name), "utf8").catch(() => undefined);
      if (existing !== undefined && previous?.files[name] !== sha256(existing)) foreign.push(name);
    }
    if (foreign.length > 0) {
      throw new GenerateError(
        `${options.outDir}: ${foreign.join(", ")} ${foreign.length === 1 ? "exists and was" : "exist and were"} not written by cloud-contracts generate (or changed since); nothing was written. Use --force to overwrite.`,
      );
    }
  }
  const manifest: Manifest = { api: api.id, apiVersion: info.version, generator, files: Object.fromEntries(Object.entries(files).map(([name, content]) => [name, sha256(content)])) };
  try {
    await writeFilesAtomic([
      ...Object.entries(files).map(([name, content]) => ({ path: join(options.outDir, name), content })),
      { path: manifestPath, content: `${JSON.stringify(manifest, null, 2)}\n` },
    ]);
  } catch (error) {
    throw new GenerateError(`${options.outDir}: ${(error as Error).message}; nothing was written.`);
  }
  return Object.keys(files).map((name) => join(options.outDir, name));
}
