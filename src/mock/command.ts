/**
 * `cloud-contracts mock [<id>...] [--port <id>=<port>]... [--host <address>]`: the mocks of the
 * installed package's contracts (its `generated/`), in one watched process, until Ctrl-C. What
 * `npm start` serves, minus the docs, for a repository that installed this package.
 */
import { access, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { APIS, type ApiId } from "../apis.js";
import { hashSpecDir, recordedSpecHash } from "./freshness.js";
import { superviseMocks } from "./supervisor.js";
import { MOCK_GUIDES } from "./vendors.js";

export const MOCK_HELP = `Usage: cloud-contracts mock [<id>...] [--port <id>=<port>]... [--host <address>]

Serve the mock of each API (all of them when no id is given) on its port, from the
contracts this package ships (generated/), until Ctrl-C. Each mock is Prism's engine
behind the API's real base path: it checks credentials, validates every request, and
answers documented examples (Prefer: code=<status>, example=<name>, dynamic=true pick
another), or the vendor's error envelope naming what is wrong with the request.

The mocks run in one process, restarted once if it dies; if it dies again the command
exits 1.

Options:
  --port <id>=<port>   Port of one API's mock (default: the port "cloud-contracts apis" lists).
  --host <address>     Address to listen on (default 127.0.0.1).
  -h, --help           Show this help.
`;

export const MOCK_OPTIONS = { port: { type: "string", multiple: true }, host: { type: "string" } } as const;

const PACKAGE_ROOT = new URL("../../", import.meta.url);

/** Runs the command; resolves with the exit code (2: bad input, 1: the mocks died, 0: stopped). */
export async function runMock(values: { port?: string[]; host?: string }, positionals: string[]): Promise<number> {
  const fail = (message: string, code = 2) => {
    process.stderr.write(`cloud-contracts mock: ${message}\n`);
    return code;
  };
  const known = APIS.map(({ id }) => id as string);
  const unknown = positionals.find((id) => !known.includes(id));
  if (unknown !== undefined) return fail(`unknown API id "${unknown}". Known ids: ${known.join(", ")}.`);
  const ids = (positionals.length > 0 ? [...new Set(positionals)] : known) as ApiId[];

  const ports = new Map<string, number>(ids.map((id) => [id, APIS.find((api) => api.id === id)!.mockPort]));
  for (const pair of values.port ?? []) {
    const [id = "", text = ""] = pair.split("=");
    const port = Number(text);
    if (!ids.includes(id as ApiId) || !/^\d+$/.test(text) || port < 1 || port > 65535) {
      return fail(`--port: expected <id>=<port> (1-65535) for a served API, got "${pair}".`);
    }
    ports.set(id, port);
  }

  const generated = fileURLToPath(new URL("generated/", PACKAGE_ROOT));
  for (const id of ids) {
    const problem = await contractProblem(id, generated);
    if (problem) return fail(problem);
  }

  let mocks;
  try {
    mocks = await superviseMocks({ serve: ids.map((id) => ({ id, port: ports.get(id)! })), generated, host: values.host });
  } catch (error) {
    return fail((error as Error).message);
  }
  for (const mock of mocks.mocks) {
    const guide = MOCK_GUIDES[mock.id];
    process.stdout.write(`${mock.id.padEnd(13)} ${mock.baseUrl}\n${"".padEnd(13)} accepts ${guide.credentials}\n${"".padEnd(13)} try     ${guide.example.replace("{base}", mock.baseUrl)}\n`);
  }
  process.stdout.write("Press Ctrl-C to stop.\n");

  return new Promise<number>((resolve) => {
    const stop = () => void mocks.stop().then(() => resolve(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    mocks.ended.catch((error: Error) => resolve(fail(error.message, 1)));
  });
}

/** Why an API's shipped contract cannot be served: missing, or (in a checkout) older than its spec. */
async function contractProblem(id: ApiId, generated: string): Promise<string | undefined> {
  const dir = `${generated}${id}`;
  try {
    await access(`${dir}/openapi.json`);
  } catch {
    return `${dir}/openapi.json is missing: reinstall the package (in a checkout: npm run build -- ${id}).`;
  }
  // A git checkout (or an install from git) also has spec/: there, generated/ must match it.
  const specDir = fileURLToPath(new URL(`spec/${id}/`, PACKAGE_ROOT));
  const hasSpec = await readdir(specDir).then(() => true, () => false);
  if (hasSpec && (await recordedSpecHash(dir)) !== (await hashSpecDir(specDir))) {
    return `${dir} is stale: spec/${id} changed since it was built (npm run build -- ${id}).`;
  }
  return undefined;
}
