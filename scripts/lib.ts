/**
 * What every pipeline step shares: which APIs to work on (from redocly.yaml), where output goes,
 * running a tool quietly, timing each step, and replacing output files only once they are whole.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { APIS, type ApiInfo } from "../src/apis.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface PipelineApi extends ApiInfo {
  /** The `apis:` key in redocly.yaml, e.g. `cvm@v1`. */
  readonly redoclyName: string;
  /** Root document of the hand-written spec, relative to the repository. */
  readonly root: string;
}

export interface StepContext {
  /** Directory that receives `generated/` and `docs-site/` (the repository unless `--out`). */
  readonly outRoot: string;
}

export const generatedDir = (ctx: StepContext, id: string) => join(ctx.outRoot, "generated", id);
export const docsDir = (ctx: StepContext) => join(ctx.outRoot, "docs-site");

/** A failure whose message is already fit for the user (a tool's own output, a bad argument). */
export class StepError extends Error {}

/** Reads the APIs from redocly.yaml and checks them against the registry in src/apis.ts. */
export async function readPipelineApis(): Promise<PipelineApi[]> {
  const configPath = join(ROOT, "redocly.yaml");
  const config = parseYaml(await readFile(configPath, "utf8")) as { apis?: Record<string, { root?: string }> };
  const entries = Object.entries(config.apis ?? {});
  if (entries.length === 0) throw new StepError(`${configPath}: no entries under "apis:".`);
  const apis = entries.map(([redoclyName, entry]) => {
    const id = redoclyName.split("@")[0]!;
    const info = APIS.find((api) => api.id === id);
    if (!info) throw new StepError(`${configPath}: apis.${redoclyName} has no entry in src/apis.ts.`);
    if (!entry.root) throw new StepError(`${configPath}: apis.${redoclyName}.root is missing.`);
    return { ...info, redoclyName, root: entry.root };
  });
  const missing = APIS.filter((api) => !apis.some((p) => p.id === api.id));
  if (missing.length > 0) {
    throw new StepError(`${configPath}: no "apis:" entry for ${missing.map((a) => a.id).join(", ")} (listed in src/apis.ts).`);
  }
  return apis;
}

type ExtraOptions = Record<string, { type: "string"; multiple?: boolean }>;

/**
 * Parses `[<id>] [--out <dir>]`, the arguments every step script takes, plus any options a
 * script adds (`extra`), whose values come back in `values`.
 */
export async function parseStepArgs(argv: string[], extra: ExtraOptions = {}, usage = "[<api-id>] [--out <dir>]") {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: "string" }, ...extra } });
  } catch (error) {
    throw new StepError(`${(error as Error).message}\nUsage: ${usage}`);
  }
  const all = await readPipelineApis();
  const [wanted, ...rest] = parsed.positionals;
  if (rest.length > 0) throw new StepError(`Expected at most one API id, got: ${parsed.positionals.join(" ")}`);
  const apis = wanted === undefined ? all : all.filter((api) => api.id === wanted);
  if (apis.length === 0) {
    throw new StepError(`Unknown API id "${wanted}". Known ids: ${all.map((a) => a.id).join(", ")}.`);
  }
  const ctx: StepContext = { outRoot: resolve((parsed.values.out as string | undefined) ?? ROOT) };
  return { apis, ctx, values: parsed.values as Record<string, string | string[] | undefined> };
}

/** Runs a CLI from node_modules/.bin; on failure throws its own output. */
export function runTool(bin: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", bin), args, {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", (error) => reject(new StepError(`Could not run ${bin}: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolvePromise(output);
      else reject(new StepError(`${bin} ${args.join(" ")} exited with ${code}:\n${output.trim()}`));
    });
  });
}

/** Runs one step for one API and prints `<id> <step> <seconds>` when it is done. */
export async function step<T>(api: string, name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const result = await work();
    console.log(`${api.padEnd(13)} ${name.padEnd(15)} ok     ${seconds(started)}`);
    return result;
  } catch (error) {
    console.log(`${api.padEnd(13)} ${name.padEnd(15)} FAILED ${seconds(started)}`);
    throw error;
  }
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(2)}s`;

/**
 * Gives `produce` a scratch directory, then moves the files it names into `destDir`. A failed or
 * interrupted run leaves what was there before untouched.
 */
export async function produceInto(destDir: string, produce: (scratch: string) => Promise<string[]>): Promise<void> {
  await mkdir(destDir, { recursive: true });
  // The scratch dir sits beside the destination so that rename() never crosses file systems.
  const scratch = await mkdtemp(join(destDir, ".tmp-"));
  try {
    const files = await produce(scratch);
    for (const file of files) await rename(join(scratch, file), join(destDir, file));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export { writeFileAtomic } from "../src/atomic.ts";

/** Runs `main` when the file is the entry point; prints user errors without a stack; exits 1. */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<void>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(resolve(process.argv[1])).href) return;
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof StepError ? error.message : error);
    process.exitCode = 1;
  });
}


/**
 * `npm start`'s command line as package.json gives it, ready for `spawn` (its `node` is this
 * Node.js): what the start tests and `npm run bench:start` run, without npm's own start-up.
 */
export async function npmStartCommand(): Promise<[string, string[]]> {
  const { scripts } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const [command = "", ...args] = scripts.start.split(" ");
  return [command === "node" ? process.execPath : join(ROOT, "node_modules", ".bin", command), args];
}
