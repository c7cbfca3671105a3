/**
 * `npm run bench:start`: how long `npm start` takes, from process start to the docs and all five
 * mocks answering, with generated/ fresh (nothing to rebuild), against one bare `prism mock` of
 * the smallest contract (CVM) measured in the same run, in alternating order.
 *
 * Targets: all five answering in ≤ 5 s, and no more than 1.5× one bare Prism. Exits 1 when one is
 * missed. `BENCH_RUNS` (default 5) sets the number of runs of each; medians are compared.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { npmStartCommand } from "../scripts/lib.ts";
import { freePort } from "../scripts/prism.ts";
import { APIS } from "../src/apis.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const bin = (name: string) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

/** Resolves once a GET of `url` gets any HTTP answer. */
async function answering(url: string, child: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode}) before answering`);
    if (performance.now() > deadline) throw new Error(`${url}: no answer within the deadline`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGINT");
  });
}

/** Seconds from spawning `npm start`'s command (package.json's, without npm) to every URL answering. */
async function timeStart(): Promise<number> {
  const docsPort = await freePort();
  const ports = new Map<string, number>();
  for (const api of APIS) ports.set(api.id, await freePort());
  const started = performance.now();
  const [command, args] = await npmStartCommand();
  const child = spawn(command, [...args, "--docs-port", String(docsPort), ...[...ports].flatMap(([id, port]) => ["--mock-port", `${id}=${port}`])], {
    cwd: ROOT,
    stdio: "ignore",
  });
  try {
    const deadline = started + 120_000;
    await Promise.all([`http://127.0.0.1:${docsPort}/`, ...[...ports.values()].map((port) => `http://127.0.0.1:${port}/`)].map((url) => answering(url, child, deadline)));
    return (performance.now() - started) / 1000;
  } finally {
    await stop(child);
  }
}

/** Seconds from spawning one bare `prism mock` of the CVM contract to it answering. */
async function timeBarePrism(): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(bin("prism"), ["mock", "generated/cvm/openapi.json", "--host", "127.0.0.1", "--port", String(port)], { cwd: ROOT, stdio: "ignore" });
  try {
    await answering(`http://127.0.0.1:${port}/`, child, started + 120_000);
    return (performance.now() - started) / 1000;
  } finally {
    await stop(child);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const startTimes: number[] = [];
const prismTimes: number[] = [];
for (let run = 0; run < RUNS; run++) {
  // Alternate which goes first, so a slow spell of the machine hits both alike.
  if (run % 2 === 0) {
    startTimes.push(await timeStart());
    prismTimes.push(await timeBarePrism());
  } else {
    prismTimes.push(await timeBarePrism());
    startTimes.push(await timeStart());
  }
  console.log(`run ${run + 1}: npm start ${startTimes.at(-1)!.toFixed(2)} s, bare prism mock (cvm) ${prismTimes.at(-1)!.toFixed(2)} s`);
}

const start = median(startTimes);
const prism = median(prismTimes);
const ratio = start / prism;
console.log("");
console.log(`npm start, docs and five mocks answering   ${start.toFixed(2)} s   (target ≤ 5 s)`);
console.log(`one bare prism mock (cvm) answering         ${prism.toFixed(2)} s`);
console.log(`ratio                                      ${ratio.toFixed(2)}×    (target ≤ 1.5×)`);
const missed = [start > 5 && "npm start took more than 5 s", ratio > 1.5 && "npm start took more than 1.5× one bare Prism"].filter(Boolean);
if (missed.length > 0) {
  console.log(`\nMISSED: ${missed.join("; ")}`);
  process.exitCode = 1;
}
