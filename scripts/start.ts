/**
 * `npm start`: serves docs-site/ on http://localhost:8080 and every mock on its port, from the
 * committed generated/ and docs-site/ when they are fresh. An API whose spec changed since its last
 * build (its content hash differs from generated/<id>/spec.sha256) is rebuilt, and only that one,
 * saying so, before the mocks and docs are served. The mocks run in one child process that is restarted once if it dies (twice:
 * start exits 1); Ctrl-C (SIGINT) or SIGTERM stops everything at once.
 *
 *   node --import tsx scripts/start.ts [<api-id>] [--docs-port 8080] [--mock-port <id>=<port> …]
 */
import { createServer, type Server } from "node:http";
import { dirname, join } from "node:path";
import sirv from "sirv";
import type { ApiId } from "../src/apis.ts";
import { hashSpecDir, recordedSpecHash } from "../src/mock/freshness.ts";
import { superviseMocks } from "../src/mock/supervisor.ts";
import { MOCK_GUIDES } from "../src/mock/vendors.ts";
import { docsDir, generatedDir, parseStepArgs, ROOT, runIfMain, StepError, type PipelineApi, type StepContext } from "./lib.ts";
import { stopOnSignal } from "./mock.ts";

export const DOCS_PORT = 8080;

/** Serves a static folder (the docs site) until closed. */
export function serveDocs(dir: string, port: number, host?: string): Promise<Server> {
  const handler = sirv(dir, { dev: true, etag: true });
  const server = createServer((request, response) =>
    handler(request, response, () => {
      response.statusCode = 404;
      response.end("Not found");
    }),
  );
  return new Promise((resolveServer, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new StepError(error.code === "EADDRINUSE" ? `Port ${port} (docs) is already in use.` : `Cannot serve the docs on port ${port}: ${error.message}`)),
    );
    server.listen(port, host, () => resolveServer(server));
  });
}

/** The APIs whose spec no longer matches what their generated/ was built from (hashed side by side). */
export async function staleApis(apis: PipelineApi[], ctx: StepContext): Promise<PipelineApi[]> {
  const fresh = await Promise.all(
    apis.map(async (api) => (await recordedSpecHash(generatedDir(ctx, api.id))) === (await hashSpecDir(dirname(join(ROOT, api.root))))),
  );
  return apis.filter((_, index) => !fresh[index]);
}

/** Rebuilds the APIs given (those staleApis found), saying so for each. */
export async function rebuild(stale: PipelineApi[], ctx: StepContext): Promise<void> {
  // The build steps (and their tools) are loaded only when something must be rebuilt.
  const [{ lint }, { bundle }, { arazzo }, { types }, { validators }, { mockOperations }, { docs, writeIndex }] = await Promise.all([
    import("./lint.ts"), import("./bundle.ts"), import("./arazzo.ts"), import("./types.ts"), import("./validators.ts"), import("./mock-operations.ts"), import("./docs.ts"),
  ]);
  for (const api of stale) {
    console.log(`${api.id}: spec/${api.id} changed since generated/${api.id} was built; rebuilding it.`);
    await lint(api);
    await bundle(api, ctx);
    await arazzo(api, ctx);
    await types(api, ctx);
    await validators(api, ctx);
    await mockOperations(api, ctx);
    await docs(api, ctx);
  }
  await writeIndex(ctx);
}

const USAGE = "start [<api-id>] [--docs-port <port>] [--mock-port <id>=<port> ...]";

export function parsePort(text: string, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StepError(`${flag}: "${text}" is not a port number (1-65535).`);
  return port;
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx, values } = await parseStepArgs(
    argv,
    { "docs-port": { type: "string" }, "mock-port": { type: "string", multiple: true } },
    USAGE,
  );
  const docsPort = values["docs-port"] === undefined ? DOCS_PORT : parsePort(values["docs-port"] as string, "--docs-port");
  const ports = new Map<string, number>();
  for (const pair of (values["mock-port"] as string[] | undefined) ?? []) {
    const [id, port] = pair.split("=");
    if (!apis.some((api) => api.id === id) || port === undefined) throw new StepError(`--mock-port: expected <api-id>=<port> for a served API, got "${pair}".`);
    ports.set(id!, parsePort(port, "--mock-port"));
  }

  const serve = apis.map((api) => ({ id: api.id as ApiId, port: ports.get(api.id) ?? api.mockPort }));
  const startMocks = () => superviseMocks({ serve, generated: join(ctx.outRoot, "generated") });
  // The mock process starts at once, while the specs are hashed: nearly always nothing is stale,
  // and its start-up (Prism's engine) is the longest part of `npm start`. When something is, it
  // is stopped, and started again once the rebuild is done.
  const early = startMocks();
  early.catch(() => undefined);
  let mocksStarting = early;
  const stale = await staleApis(apis, ctx);
  if (stale.length > 0) {
    await (await early.catch(() => undefined))?.stop();
    await rebuild(stale, ctx);
    mocksStarting = startMocks();
  }
  const [docsResult, mocksResult] = await Promise.allSettled([serveDocs(docsDir(ctx), docsPort, "127.0.0.1"), mocksStarting]);
  if (docsResult.status === "rejected" || mocksResult.status === "rejected") {
    if (docsResult.status === "fulfilled") docsResult.value.close();
    if (mocksResult.status === "fulfilled") await mocksResult.value.stop();
    const failed = [docsResult, mocksResult].find((result) => result.status === "rejected") as PromiseRejectedResult;
    throw new StepError((failed.reason as Error).message);
  }
  const docsServer = docsResult.value;
  const mocks = mocksResult.value;

  console.log(`docs          http://localhost:${docsPort}/`);
  for (const mock of mocks.mocks) {
    const guide = MOCK_GUIDES[mock.id];
    console.log(`${mock.id.padEnd(13)} mock    ${mock.baseUrl}`);
    console.log(`${"".padEnd(13)} accepts ${guide.credentials}`);
    console.log(`${"".padEnd(13)} try     ${guide.example.replace("{base}", mock.baseUrl)}`);
  }
  console.log(`(the mocks run in process ${mocks.pid})`);
  console.log("Press Ctrl-C to stop.");
  const stopAll = () => Promise.all([mocks.stop(), new Promise<void>((done) => docsServer.close(() => done()))]).then(() => undefined);
  stopOnSignal(stopAll);
  mocks.ended.catch(async (error: Error) => {
    console.error(error.message);
    docsServer.close();
    process.exit(1);
  });
});
