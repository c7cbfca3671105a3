/**
 * `npm start`: (after `npm run build`) serves docs-site/ on http://localhost:8080 and every mock
 * on its port, prints the URLs, and stops every child on Ctrl-C.
 */
import { createServer, type Server } from "node:http";
import sirv from "sirv";
import { docsDir, parseStepArgs, runIfMain } from "./lib.ts";
import { startMocks, stopOnSignal } from "./mock.ts";

export const DOCS_PORT = 8080;

export function serveDocs(dir: string, port: number, host?: string): Promise<Server> {
  const handler = sirv(dir, { dev: true, etag: true });
  const server = createServer((request, response) => handler(request, response, () => {
    response.statusCode = 404;
    response.end("Not found");
  }));
  return new Promise((resolveServer, reject) => {
    server.once("error", (error) => reject(new Error(`Cannot serve the docs on port ${port}: ${error.message}`)));
    server.listen(port, host, () => resolveServer(server));
  });
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx } = await parseStepArgs(argv);
  const docs = await serveDocs(docsDir(ctx), DOCS_PORT);
  let mocks;
  try {
    mocks = await startMocks(apis, ctx);
  } catch (error) {
    docs.close();
    throw error;
  }
  console.log(`\ndocs          http://localhost:${DOCS_PORT}/`);
  for (const mock of mocks) console.log(`${mock.id.padEnd(13)} mock    ${mock.baseUrl}`);
  console.log("Press Ctrl-C to stop.");
  stopOnSignal(async () => {
    await Promise.all([...mocks.map((mock) => mock.stop()), new Promise<void>((done) => docs.close(() => done()))]);
  });
});
