/**
 * `npm run bench:verify`: how `cloud-contracts verify` copes with hostile recordings, run as a
 * user runs it (the compiled bin, a fresh process per case), against a baseline measured in the
 * same run: the same command on one small valid recording (process start, contract load).
 *
 *   16,000 failing items     the case issue 16 measured at 55 s (errors copied per failing item)
 *   1,000,000 failing items  never finished before; now capped at 100 errors and a count
 *   the same, --strict       plus the walk for undocumented properties
 *   100,000-deep body        ended the run with "Maximum call stack size exceeded"; now an error
 *                            of its file, with the other file of the run still checked
 *
 * Each case prints its wall time, its time over the baseline's, its peak memory (maxRSS of the
 * process) and what verify said. Exits 1 when a case gives the wrong verdict or misses its target.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist/cli.js");
const VALID = join(ROOT, "test/recordings/cvm/list-valid-newer.json");

/** Runs the bin in a fresh node that reports its peak memory on exit. */
function verify(args: string[]): Promise<{ code: number; stdout: string; ms: number; maxRssMb: number }> {
  const script = `process.on("exit", () => process.stderr.write("maxRSS " + process.resourceUsage().maxRSS + "\\n")); process.argv.splice(1, 0, "cli"); await import(${JSON.stringify(`file://${CLI}`)});`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script, "verify", ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 600_000 }, (error, stdout, stderr) => {
      const ms = performance.now() - started;
      const rss = /maxRSS (\d+)/.exec(stderr);
      if (!rss) return reject(new Error(`verify ${args.join(" ")} ended without a report: ${error?.message ?? ""}\n${stderr}`));
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, ms, maxRssMb: Number(rss[1]) / 1024 });
    });
  });
}

const list = (items: number) => `{"request":{"method":"GET","path":"/api/client/vps/list"},"response":{"status":200,"body":{"response":{"vpses":[${Array.from({ length: items }, () => '{"id":5}').join(",")}]}}}}`;

interface Case {
  name: string;
  args: string[];
  targetMs: number;
  /** What the report must say; undefined when it says it. */
  check(report: { code: number; stdout: string }): string | undefined;
}

const scratch = await mkdtemp(join(tmpdir(), "cloud-contracts-bench-verify-"));
try {
  const dir = (name: string) => join(scratch, name, "cvm");
  for (const [name, items] of [["16k", 16_000], ["1m", 1_000_000]] as const) {
    await mkdir(dir(name), { recursive: true });
    await writeFile(join(dir(name), "failing.json"), list(items));
  }
  await mkdir(dir("deep"), { recursive: true });
  const depth = 100_000;
  await writeFile(join(dir("deep"), "deep.json"), `{"request":{"method":"GET","path":"/api/client/vps/list"},"response":{"status":200,"body":${"[".repeat(depth)}${"]".repeat(depth)}}}`);
  await writeFile(join(dir("deep"), "valid.json"), await readFile(VALID));

  const capped = (items: number) => ({ code, stdout }: { code: number; stdout: string }) => {
    const [result] = (JSON.parse(stdout) as { results: { errors: unknown[]; moreErrors?: number }[] }).results;
    if (code !== 1 || result?.errors.length !== 100 || (result.moreErrors ?? 0) < items - 100) return `expected exit 1, 100 errors and at least ${items - 100} more; got exit ${code}, ${result?.errors.length} and ${result?.moreErrors}`;
    return undefined;
  };
  const cases: Case[] = [
    { name: "16,000 failing items", args: [dir("16k"), "--format", "json"], targetMs: 5_000, check: capped(16_000) },
    { name: "1,000,000 failing items", args: [dir("1m"), "--format", "json"], targetMs: 30_000, check: capped(1_000_000) },
    { name: "1,000,000 failing items, --strict", args: [dir("1m"), "--format", "json", "--strict"], targetMs: 60_000, check: capped(1_000_000) },
    {
      name: "100,000-deep body (+1 valid file), --strict",
      args: [dir("deep"), "--strict"],
      targetMs: 5_000,
      check: ({ code, stdout }) =>
        code === 2 && /deep\.json: body nests 100,002 levels deep/.test(stdout) && stdout.includes("1 valid, 0 violating, 1 unreadable or unmatched") ? undefined : `expected exit 2 naming deep.json, 1 valid; got exit ${code}:\n${stdout}`,
    },
  ];

  console.log(`\nverify on hostile input; Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, load average ${loadavg().map((n) => n.toFixed(2)).join(" ")}`);
  const baselines: number[] = [];
  for (let i = 0; i < 5; i++) baselines.push((await verify([VALID])).ms);
  const baseline = baselines.sort((a, b) => a - b)[2]!;
  console.log(`baseline: one valid recording, ${Math.round(baseline)} ms (median of 5: process start, contract load, one check)\n`);
  let failed = false;
  for (const test of cases) {
    const result = await verify(test.args);
    const problem = test.check(result);
    const ok = !problem && result.ms <= test.targetMs;
    failed ||= !ok;
    const time = `${(result.ms / 1000).toFixed(2)} s`.padStart(8);
    console.log(`${ok ? "ok  " : "MISS"} ${test.name.padEnd(46)} ${time}  ${(result.ms / baseline).toFixed(1).padStart(6)}× baseline  ${Math.round(result.maxRssMb).toLocaleString("en-US").padStart(6)} MB peak  target ≤ ${test.targetMs / 1000} s`);
    if (problem) console.log(`     ${problem}`);
  }
  console.log(`\nload average ${loadavg().map((n) => n.toFixed(2)).join(" ")}`);
  process.exitCode = failed ? 1 : 0;
} finally {
  await rm(scratch, { recursive: true, force: true });
}
