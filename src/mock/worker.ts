/**
 * The mock process: serves the mocks it is told to (`--serve <id>=<port>` …, from `--generated
 * <dir>`) in this one process, then tells its parent it is ready over IPC (or prints the URLs
 * when run alone). src/mock/supervisor.ts starts it, watches it and stops it.
 *
 *   node dist/mock/worker.js --generated generated --serve cvm=4013 --serve cloud66=4012 [--host 127.0.0.1]
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { getApi, type ApiId } from "../apis.js";
import type { OpenApiDocument } from "../contract/document.js";
import { loadMockOperations } from "./operations.js";
import { startMockServer, type RunningMockServer } from "./server.js";

export interface WorkerReady {
  type: "ready";
  mocks: { id: ApiId; port: number; baseUrl: string }[];
}

export interface WorkerFailed {
  type: "failed";
  message: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { generated: { type: "string" }, serve: { type: "string", multiple: true }, host: { type: "string" } } });
  const generated = values.generated ?? "generated";
  const servers: RunningMockServer[] = [];
  try {
    for (const pair of values.serve ?? []) {
      const [name = "", portText = ""] = pair.split("=");
      const id = getApi(name).id as ApiId;
      const specPath = join(generated, id, "openapi.json");
      let source: Buffer;
      let document: OpenApiDocument;
      try {
        source = await readFile(specPath);
        document = JSON.parse(source.toString("utf8")) as OpenApiDocument;
      } catch (error) {
        throw new Error(`Cannot read the ${id} contract at ${specPath}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "missing (build it, or reinstall the package)" : (error as Error).message}`);
      }
      const operations = await loadMockOperations(dirname(specPath), source, document);
      servers.push(await startMockServer(id, document, { port: Number(portText), host: values.host, operations }));
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()));
    report({ type: "failed", message: (error as Error).message });
    process.exitCode = 1;
    return;
  }
  report({ type: "ready", mocks: servers.map(({ id, port, baseUrl }) => ({ id, port, baseUrl })) });
  const stop = () => void Promise.all(servers.map((server) => server.close())).then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  // The parent went away without stopping us: stop too, rather than hold the ports.
  process.once("disconnect", stop);
}

function report(message: WorkerReady | WorkerFailed): void {
  if (process.send) process.send(message);
  else if (message.type === "ready") for (const mock of message.mocks) console.log(`${mock.id.padEnd(13)} ${mock.baseUrl}`);
  else console.error(message.message);
}

await main();
