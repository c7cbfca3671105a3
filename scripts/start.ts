/**
 * `npm start`: (after `npm run build`) serves docs-site/ on http://localhost:8080 and every mock
 * on its port, prints the URLs, and stops every child on Ctrl-C (SIGINT) or SIGTERM.
 *
 *   tsx scripts/start.ts [<api-id>] [--docs-port 8080] [--mock-port <id>=<port> …]
 */
import { createServer, type Server } from "node:http";
import sirv from "sirv";
import { docsDir, parseStepArgs, runIfMain, StepError } from "./lib.ts";
import { startMocks, stopOnSignal } from "./mock.ts";

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
    server.once("error", (error) => reject(new StepError(`Cannot serve the docs on port ${port}: ${error.message}`)));
    server.listen(port, host, () => resolveServer(server));
  });
}

const USAGE = "start [<api-id>] [--docs-port <port>] [--mock-port <id>=<port> ...]";

function parsePort(text: string, flag: string): number {
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

  const docs = await serveDocs(docsDir(ctx), docsPort, "127.0.0.1");
  let mocks;
  try {
    mocks = await startMocks(apis.map((api) => ({ ...api, mockPort: ports.get(api.id) ?? api.mockPort })), ctx);
  } catch (error) {
    docs.close();
    throw error;
  }
  console.log(`docs          http://localhost:${docsPort}/`);
  for (const mock of mocks) console.log(`${mock.id.padEnd(13)} mock    ${mock.baseUrl}`);
  console.log("Press Ctrl-C to stop.");
  stopOnSignal(async () => {
    await Promise.all([...mocks.map((mock) => mock.stop()), new Promise<void>((done) => docs.close(() => done()))]);
  });
});
