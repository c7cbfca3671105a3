/**
 * `npm run bench:client`: what the five clients cost against bare openapi-fetch and raw fetch.
 * See bench/README.md.
 *
 * Forks the loopback server (client-server.ts), then:
 * - throughput: ROUNDS rounds; in each, every pair of PAIRS runs SLICE calls of one subject, then
 *   of the other (CONCURRENCY in flight; the order flips every round). A pair's ratio is the median
 *   of its rounds' ratios; a subject's calls per second, the median of its slices. The CPU time
 *   this process spent per call is printed too;
 * - heap: one process per subject (client-heap.ts, --expose-gc) sends HEAP_REQUESTS calls; its
 *   `heapUsed` after a full collection, beside bare openapi-fetch's.
 *
 * Targets, per client: calls per second at least 0.9 of its baseline's, bare openapi-fetch sending
 * the same request (for Cloud Manager, with a Digest answer in it: `openapi-fetch+digest`); heap at
 * most 2× bare openapi-fetch's. Exits 1 when one is missed.
 */
import { fork, type ChildProcess } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { CLIENTS, CONCURRENCY, HEAP_REQUESTS, load, SUBJECTS, type Call, type HeapReport, type SubjectName } from "./client-subjects.ts";

const ROUNDS = 40;
const SLICE = 200;
const WARM_UP = 2_000;
const MIN_RATIO = 0.9;
const MAX_HEAP_RATIO = 2;
const BARE: SubjectName = "openapi-fetch";
/** Each client's baseline: bare openapi-fetch sending what the client sends. */
const BASELINE: Partial<Record<SubjectName, SubjectName>> = { cloudmanager: "openapi-fetch+digest" };
const baselineOf = (name: SubjectName) => BASELINE[name] ?? BARE;
/** Subject and the subject it is measured against, in each round; the clients' pairs carry the target. */
const PAIRS: [SubjectName, SubjectName][] = [
  ["fetch", BARE],
  ["openapi-fetch+digest", BARE],
  ...CLIENTS.map((name): [SubjectName, SubjectName] => [name, baselineOf(name)]),
  ...CLIENTS.filter((name) => baselineOf(name) !== BARE).map((name): [SubjectName, SubjectName] => [name, BARE]),
];
const SUBJECT_NAMES = Object.keys(SUBJECTS) as SubjectName[];

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** The value below which `share` of `values` lie (0.5: the median), interpolated. */
const quantile = (values: number[], share: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * share;
  const below = Math.floor(position);
  return sorted[below]! + (sorted[Math.ceil(position)]! - sorted[below]!) * (position - below);
};
const median = (values: number[]) => quantile(values, 0.5);
const format = (value: number, digits = 0) => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const megabytes = (bytes: number) => `${format(bytes / 2 ** 20, 1)} MB`;

interface Slice {
  perSecond: number;
  /** CPU time of this process per call, in µs. */
  cpuMicros: number;
}

async function slice(call: Call): Promise<Slice> {
  const cpu = process.cpuUsage();
  const perSecond = await load(call, SLICE, CONCURRENCY);
  const used = process.cpuUsage(cpu);
  return { perSecond, cpuMicros: (used.user + used.system) / SLICE };
}

const pairName = ([subject, baseline]: [SubjectName, SubjectName]) => `${subject} ÷ ${baseline}`;

async function throughput(origin: string) {
  const calls = Object.fromEntries(SUBJECT_NAMES.map((name) => [name, SUBJECTS[name](origin)])) as Record<SubjectName, Call>;
  for (const call of Object.values(calls)) await load(call, WARM_UP, CONCURRENCY);
  const slices = Object.fromEntries(SUBJECT_NAMES.map((name) => [name, [] as Slice[]])) as Record<SubjectName, Slice[]>;
  const ratios = new Map(PAIRS.map((pair) => [pairName(pair), [] as number[]]));
  const cpuRatios = new Map(PAIRS.map((pair) => [pairName(pair), [] as number[]]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const pair of PAIRS) {
      const [subject, baseline] = pair;
      const order = round % 2 === 0 ? [baseline, subject] : [subject, baseline];
      const [first, second] = [await slice(calls[order[0]!]), await slice(calls[order[1]!])];
      const [base, measured] = round % 2 === 0 ? [first, second] : [second, first];
      slices[baseline].push(base);
      slices[subject].push(measured);
      ratios.get(pairName(pair))!.push(measured.perSecond / base.perSecond);
      cpuRatios.get(pairName(pair))!.push(measured.cpuMicros / base.cpuMicros);
    }
  }
  return { slices, ratios, cpuRatios };
}

function heap(name: SubjectName, origin: string): Promise<HeapReport> {
  return new Promise((resolve, reject) => {
    const child = fork(here("./client-heap.ts"), [name, origin], { execArgv: [...process.execArgv, "--expose-gc"], stdio: "inherit" });
    child.once("message", (report) => resolve(report as HeapReport));
    child.once("exit", (code) => reject(new Error(`client-heap.ts ${name} exited with ${code} before reporting`)));
  });
}

function startServer(): Promise<{ child: ChildProcess; origin: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(here("./client-server.ts"), { stdio: "inherit" });
    child.once("message", (message) => resolve({ child, origin: `http://127.0.0.1:${(message as { port: number }).port}` }));
    child.once("exit", (code) => reject(new Error(`client-server.ts exited with ${code}`)));
  });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ")).join("\n");
}

const { child: server, origin } = await startServer();
let failed = false;
try {
  console.log(`${cpus().length} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}; load average ${loadavg().map((load) => load.toFixed(1)).join(" ")}`);
  console.log(`Throughput: ${ROUNDS} rounds of ${SLICE}-call slices, each subject paired with its baseline, ${CONCURRENCY} calls in flight, server in a second process\n`);
  const { slices, ratios, cpuRatios } = await throughput(origin);
  const rows = [["subject", "calls/s", "CPU µs/call"]];
  for (const name of SUBJECT_NAMES) rows.push([name, format(median(slices[name].map((s) => s.perSecond))), format(median(slices[name].map((s) => s.cpuMicros)))]);
  console.log(table(rows));
  console.log("(medians of the slices)\n");
  const pairRows = [["pair", "calls/s ratio", "(middle half)", "CPU ratio", "target (calls/s)"]];
  for (const pair of PAIRS) {
    const [subject, baseline] = pair;
    const targeted = CLIENTS.includes(subject) && baseline === baselineOf(subject);
    const ratio = median(ratios.get(pairName(pair))!);
    const ok = !targeted || ratio >= MIN_RATIO;
    failed ||= !ok;
    pairRows.push([
      pairName(pair),
      `${format(ratio, 2)}×`,
      `${format(quantile(ratios.get(pairName(pair))!, 0.25), 2)}–${format(quantile(ratios.get(pairName(pair))!, 0.75), 2)}`,
      `${format(median(cpuRatios.get(pairName(pair))!), 2)}×`,
      targeted ? `≥ ${MIN_RATIO}× ${ok ? "ok" : "MISSED"}` : "",
    ]);
  }
  console.log(table(pairRows));
  console.log("(the ratios: medians of the paired slices' ratios, and the middle half of them)");

  console.log(`\nHeap: ${HEAP_REQUESTS.toLocaleString("en-US")} calls per subject, each in its own process (--expose-gc), heapUsed after a full collection\n`);
  const reports = {} as Record<SubjectName, HeapReport>;
  for (const name of SUBJECT_NAMES) reports[name] = await heap(name, origin);
  const heapRows = [["subject", "before", "after", "growth", `after ÷ ${BARE}`, "target"]];
  for (const name of SUBJECT_NAMES) {
    const { before, after } = reports[name];
    const client = CLIENTS.includes(name);
    const ratio = after / reports[BARE].after;
    const ok = !client || ratio <= MAX_HEAP_RATIO;
    failed ||= !ok;
    heapRows.push([name, megabytes(before), megabytes(after), megabytes(after - before), `${format(ratio, 2)}×`, client ? `≤ ${MAX_HEAP_RATIO}× ${ok ? "ok" : "MISSED"}` : ""]);
  }
  console.log(table(heapRows));
  console.log(`\nload average ${loadavg().map((load) => load.toFixed(1)).join(" ")}`);
} finally {
  server.kill();
}
process.exit(failed ? 1 : 0);
