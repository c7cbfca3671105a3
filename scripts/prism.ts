/**
 * Starting and stopping one API's mock for the pipeline scripts and the tests: the contract at
 * `specPath` served in this process by src/mock/server.ts (Prism's engine behind the API's real
 * base path, vendor-shaped errors, real HTTP Digest for Cloud Manager), from the operations the
 * build saved beside it (src/mock/operations.ts) when they match it.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { getApi, type ApiId } from "../src/apis.ts";
import type { OpenApiDocument } from "../src/contract/document.ts";
import { loadMockOperations } from "../src/mock/operations.ts";
import { startMockServer, type MockServerOptions } from "../src/mock/server.ts";
import { StepError } from "./lib.ts";

export interface RunningMock {
  readonly id: string;
  /** Where a client points its `baseUrl`: scheme, host, port and the API's root path (`apiRootPath`). */
  readonly baseUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface MockOptions extends Omit<MockServerOptions, "port"> {
  /** Bundled document to serve, e.g. generated/cvm/openapi.json. */
  specPath: string;
  port: number;
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

export async function startMock(id: string, options: MockOptions): Promise<RunningMock> {
  const api = getApi(id).id as ApiId;
  let source: Buffer;
  let document: OpenApiDocument;
  try {
    source = await readFile(options.specPath);
    document = JSON.parse(source.toString("utf8")) as OpenApiDocument;
  } catch (error) {
    throw new StepError(`Cannot read the ${id} contract at ${options.specPath} (run npm run build): ${(error as Error).message}`);
  }
  try {
    const operations = options.operations ?? (await loadMockOperations(dirname(options.specPath), source, document));
    const running = await startMockServer(api, document, { ...options, operations });
    return { id, port: running.port, baseUrl: running.baseUrl, stop: () => running.close() };
  } catch (error) {
    throw new StepError((error as Error).message);
  }
}
