/**
 * `npm run test:runtimes`: the package as consumers install it, on every supported Node.js.
 *
 * Packs the tarball once (`npm pack`, whose `prepack` compiles dist/), installs it in a scratch
 * folder with vitest and TypeScript (`npm install <tarball>`, as a consumer would), starts the five
 * mocks in this process, then runs test/runtimes/consumer.suite.ts there with vitest on each
 * runtime: the clients against the mocks, the vitest matcher, and the `cloud-contracts` bin
 * (`verify`, `generate`). Node 20 is this process's `node` when it is a 20, the others come from
 * the registry's `node` package (`npx -y node@<major>`); the mocks run on this process's Node.
 *
 * Prints one line per step and per runtime; exits 1 when any runtime fails, with its test output.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { APIS } from "../src/apis.ts";
import { ROOT, runIfMain, StepError } from "./lib.ts";
import { freePort, startMock, type RunningMock } from "./prism.ts";

const exec = promisify(execFile);

/** The Node.js majors the package supports: the maintained LTS lines. */
const RUNTIMES = [20, 22, 24];

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

/** Runs `work`, then prints `<label> <what it returns> <seconds>`. */
async function timed<T>(label: string, work: () => Promise<T>, describe: (result: T) => string): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`${label.padEnd(10)} ${describe(result)} (${seconds(started)})`);
  return result;
}

/** Runs npm; on failure throws its output, which names the problem. */
async function npm(cwd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec("npm", args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new StepError(`npm ${args.join(" ")} (in ${cwd}) failed:\n${(failed.stderr || failed.stdout || failed.message).trim()}`);
  }
}

interface Packed {
  tarball: string;
  size: number;
  files: number;
}

/** `npm pack` of this repository into `dir`. */
async function pack(dir: string): Promise<Packed> {
  const { stdout } = await npm(ROOT, ["pack", "--json", "--pack-destination", dir]);
  const [report] = JSON.parse(stdout) as { filename: string; size: number; entryCount: number }[];
  if (!report) throw new StepError("npm pack reported no tarball.");
  return { tarball: join(dir, report.filename), size: report.size, files: report.entryCount };
}

/**
 * A consumer project in `dir` with the tarball, and the vitest and TypeScript this repository uses.
 * npm warns about a dependency's install scripts (a `prepare` counts, for a tarball): ours has none.
 */
async function installConsumer(dir: string, tarball: string): Promise<string> {
  const version = async (name: string) => JSON.parse(await readFile(join(ROOT, "node_modules", name, "package.json"), "utf8")).version as string;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "runtimes-consumer", private: true, type: "module" }, null, 2));
  const packages = [tarball, `vitest@${await version("vitest")}`, `typescript@${await version("typescript")}`];
  const { stderr } = await npm(dir, ["install", "--no-audit", "--no-fund", "--prefer-offline", ...packages]);
  const warning = stderr.split("\n").find((line) => line.includes("install-scripts") && line.includes("cloud-api-contracts"));
  if (warning) throw new StepError(`npm install of the tarball warns about its install scripts:\n${warning}`);
  await checkSourceMaps(join(dir, "node_modules", "cloud-api-contracts"));
  await copyFile(join(ROOT, "test", "runtimes", "consumer.suite.ts"), join(dir, "consumer.test.ts"));
  return dir;
}

/** Fails when a source map of the installed package names a source the tarball does not hold. */
async function checkSourceMaps(installed: string): Promise<void> {
  const maps = (await readdir(join(installed, "dist"), { recursive: true })).filter((file) => file.endsWith(".map"));
  const missing: string[] = [];
  for (const map of maps) {
    const { sources } = JSON.parse(await readFile(join(installed, "dist", map), "utf8")) as { sources: string[] };
    for (const source of sources) if (!existsSync(join(installed, "dist", dirname(map), source))) missing.push(`dist/${map} → ${source}`);
  }
  if (missing.length > 0) throw new StepError(`The tarball's source maps name files it does not hold:\n${missing.join("\n")}`);
}

/** The `node` executable of a major version: this one, or the registry's `node` package through npx. */
async function nodeBinary(major: number): Promise<string> {
  if (Number(process.versions.node.split(".")[0]) === major) return process.execPath;
  const { stdout } = await npm(tmpdir(), ["exec", "--yes", "--package", `node@${major}`, "--", "node", "-p", "process.execPath"]);
  return stdout.trim().split("\n").at(-1)!;
}

/** Every API's mock on a free loopback port, from the committed generated/ contracts; their origins. */
async function startMocks(running: RunningMock[]): Promise<Record<string, string>> {
  await Promise.all(
    APIS.map(async (api) => {
      running.push(await startMock(api.id, { specPath: join(ROOT, "generated", api.id, "openapi.json"), port: await freePort() }));
    }),
  );
  return Object.fromEntries(running.map((mock) => [mock.id, new URL(mock.baseUrl).origin]));
}

interface SuiteRun {
  ok: boolean;
  version: string;
  passed: number;
  total: number;
  output: string;
}

/** Runs the consumer suite with vitest on `node`, in the consumer project. */
async function runSuite(node: string, consumer: string, origins: Record<string, string>): Promise<SuiteRun> {
  const results = join(consumer, `results-${Date.now()}.json`);
  const args = [join(consumer, "node_modules", "vitest", "vitest.mjs"), "run", "--testTimeout=60000", "--reporter=default", "--reporter=json", `--outputFile.json=${results}`];
  const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}`, CLOUD_CONTRACTS_MOCKS: JSON.stringify(origins), NO_COLOR: "1" };
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(node, args, { cwd: consumer, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
  const version = (await exec(node, ["--version"])).stdout.trim();
  const report = await readFile(results, "utf8").then((text) => JSON.parse(text) as { numPassedTests: number; numTotalTests: number }, () => undefined);
  return { ok: code === 0 && report !== undefined, version, passed: report?.numPassedTests ?? 0, total: report?.numTotalTests ?? 0, output };
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "cloud-contracts-runtimes-"));
  const mocks: RunningMock[] = [];
  try {
    const [consumer, nodes, origins] = await Promise.all([
      timed("pack", () => pack(scratch), (packed) => `${basename(packed.tarball)}: ${(packed.size / 1e6).toFixed(2)} MB, ${packed.files} files`).then((packed) =>
        timed("install", () => installConsumer(join(scratch, "consumer"), packed.tarball), () => "the tarball, vitest and typescript in a scratch project"),
      ),
      timed("runtimes", () => Promise.all(RUNTIMES.map(nodeBinary)), (paths) => `node ${RUNTIMES.join(", ")} ready`),
      timed("mocks", () => startMocks(mocks), (urls) => `${Object.keys(urls).length} mocks on node ${process.version}`),
    ]);
    let failed = false;
    for (const node of nodes) {
      const started = performance.now();
      const run = await runSuite(node, consumer, origins);
      const summary = run.ok ? `ok     ${run.passed} tests` : `FAILED ${run.total - run.passed} of ${run.total} tests`;
      console.log(`node ${run.version.padEnd(9)} ${summary} (${seconds(started)})`);
      if (!run.ok) console.log(run.output.replace(/^/gm, "    "));
      failed ||= !run.ok;
    }
    if (failed) process.exitCode = 1;
  } finally {
    await Promise.all(mocks.map((mock) => mock.stop()));
    await rm(scratch, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, main);
