/**
 * Starting and stopping Prism mocks. Prism serves one document per process and ignores the path
 * of `servers`, so an API whose base path is not the host root gets a copy of its bundled
 * document with that path prefixed to every path key: a client pointed at the mock then differs
 * from one pointed at the vendor only in scheme, host and port. A base path with variables
 * (CloudStack's `/api/v2/services/{service_code}/{environment_name}`) serves any value of them. An API secured by HTTP Digest
 * gets a digest-checking front (digest-front.ts) with Prism behind it on a private port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiRootPath, childPointer, pathItemBasePath, resolveLocal, templateVariables, type OpenApiDocument } from "../src/contract/document.ts";
import { startDigestFront } from "./digest-front.ts";
import { ROOT, StepError } from "./lib.ts";

export interface RunningMock {
  readonly id: string;
  /** Where a client points its `baseUrl`: scheme, host, port and the API's root path (`apiRootPath`). */
  readonly baseUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface MockOptions {
  /** Bundled document to serve, e.g. generated/cvm/openapi.json. */
  specPath: string;
  port: number;
  host?: string;
  /** Receives Prism's log lines (default: dropped). */
  onLog?: (line: string) => void;
  /** How long to wait for Prism to listen. */
  startTimeoutMs?: number;
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Whether the document's default security is HTTP Digest. */
const usesDigest = (document: OpenApiDocument & { security?: Record<string, unknown>[] }) => {
  const schemes = (document.components?.securitySchemes ?? {}) as Record<string, { type?: string; scheme?: string }>;
  return (document.security ?? []).some((requirement) =>
    Object.keys(requirement).some((name) => schemes[name]?.type === "http" && schemes[name]?.scheme?.toLowerCase() === "digest"),
  );
};

/**
 * The document as Prism should serve it: each path key under its base path (the path item's own
 * server's, else the document's), a base path's `{variables}` (CloudStack's service code and
 * environment) declared as path parameters, and digest checked in front.
 */
function mockDocument(document: OpenApiDocument, digest: boolean): OpenApiDocument {
  const paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, rawItem]) => {
      const basePath = pathItemBasePath(document, path);
      const { servers: _servedUnderBasePath, ...item } = resolveLocal<Record<string, unknown>>(document, {
        value: rawItem,
        pointer: childPointer("#", "paths", path),
      }).value;
      const variables = templateVariables(basePath).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }));
      if (variables.length > 0) item.parameters = [...variables, ...((item.parameters as unknown[] | undefined) ?? [])];
      if (digest) {
        for (const [key, operation] of Object.entries(item)) {
          if (typeof operation !== "object" || operation === null || !("responses" in operation)) continue;
          const { security: _checkedInFront, ...rest } = operation as Record<string, unknown>;
          item[key] = rest;
        }
      }
      return [`${basePath}${path}`, item];
    }),
  );
  return { ...document, paths, ...(digest ? { security: [] } : {}) } as OpenApiDocument;
}

export async function startMock(id: string, options: MockOptions): Promise<RunningMock> {
  const host = options.host ?? "127.0.0.1";
  const document = JSON.parse(await readFile(options.specPath, "utf8")) as OpenApiDocument;
  const digest = usesDigest(document);
  let scratch: string | undefined;
  let served = options.specPath;
  if (Object.keys(document.paths).some((path) => pathItemBasePath(document, path)) || digest) {
    scratch = await mkdtemp(join(tmpdir(), `cloud-contracts-${id}-`));
    served = join(scratch, "openapi.json");
    await writeFile(served, JSON.stringify(mockDocument(document, digest)));
  }
  const cleanup = () => (scratch ? rm(scratch, { recursive: true, force: true }) : Promise.resolve());

  const prismPort = digest ? await freePort() : options.port;
  const prismHost = digest ? "127.0.0.1" : host;
  const child = spawn(join(ROOT, "node_modules", ".bin", "prism"), ["mock", served, "--host", prismHost, "--port", String(prismPort)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let front: Awaited<ReturnType<typeof startDigestFront>> | undefined;
  try {
    await waitUntilListening(child, options);
    if (digest) front = await startDigestFront({ port: options.port, host, upstreamPort: prismPort });
  } catch (error) {
    await stopChild(child);
    await cleanup();
    throw error;
  }
  return {
    id,
    port: options.port,
    baseUrl: `http://${host}:${options.port}${apiRootPath(document)}`,
    async stop() {
      await front?.close();
      await stopChild(child);
      await cleanup();
    },
  };
}

function waitUntilListening(child: ChildProcess, options: MockOptions): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let output = "";
    let ready = false;
    const timer = setTimeout(() => fail(`Prism did not start within ${options.startTimeoutMs ?? 60_000} ms.`), options.startTimeoutMs ?? 60_000);
    const fail = (message: string) => {
      clearTimeout(timer);
      reject(new StepError(`${message}\nspec: ${options.specPath}\n${output.trim()}`));
    };
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      if (!ready) output += text;
      for (const line of text.split("\n")) if (line.trim()) options.onLog?.(line);
      if (!ready && output.includes("Prism is listening on")) {
        ready = true;
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("error", (error) => fail(`Could not start Prism: ${error.message}`));
    child.on("exit", (code) => {
      if (!ready) fail(`Prism exited with ${code} before listening.`);
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStopped) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolveStopped();
    });
    child.kill("SIGTERM");
  });
}
