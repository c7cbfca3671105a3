/**
 * Runs the mocks in one child process (src/mock/worker.ts) and watches it: what `npm start` and
 * `cloud-contracts mock` use. A child that exits unexpectedly is reported and restarted once; if it
 * dies again (or cannot start again), `ended` rejects and the caller exits non-zero. `stop()` ends
 * it at once (SIGTERM, then SIGKILL after a grace period).
 *
 * Why a child and not this process: a mock that crashes (an engine bug, a port that goes away) must
 * not take the docs server or the caller's terminal with it, and must be noticed.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ApiId } from "../apis.js";
import type { WorkerFailed, WorkerReady } from "./worker.js";

export interface SupervisorOptions {
  serve: { id: ApiId; port: number }[];
  /** The folder holding `<id>/openapi.json` for each API. */
  generated: string;
  host?: string;
  /** Receives what the supervisor has to say (a mock died, restarted). */
  log?: (line: string) => void;
  /** How long a start may take. */
  startTimeoutMs?: number;
}

export interface SupervisedMocks {
  readonly mocks: WorkerReady["mocks"];
  /** The process the mocks run in now. */
  readonly pid: number;
  /** Rejects when the mocks died twice (or could not be restarted); resolves after `stop()`. */
  readonly ended: Promise<void>;
  stop(): Promise<void>;
}

// The worker beside this module: worker.js in the package, worker.ts when run from source with tsx
// (a forked child inherits tsx's loader through execArgv).
const WORKER = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url));

export async function superviseMocks(options: SupervisorOptions): Promise<SupervisedMocks> {
  const log = options.log ?? ((line: string) => console.error(line));
  const ids = options.serve.map(({ id }) => id).join(", ");
  let child = await startWorker(options);
  let stopping = false;
  let restarted = false;
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const ended = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ended.catch(() => undefined); // the caller may only look at it later

  const watch = (running: StartedWorker) => {
    running.process.once("exit", (code, signal) => {
      if (stopping) return settle.resolve();
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      if (restarted) {
        log(`mocks (${ids}) stopped again (${how}); not restarting.`);
        return settle.reject(new Error(`The mocks (${ids}) stopped twice (${how}).`));
      }
      restarted = true;
      log(`mocks (${ids}) stopped unexpectedly (${how}); restarting them once.`);
      startWorker(options).then(
        (again) => {
          child = again;
          log(`mocks (${ids}) restarted in process ${again.process.pid}.`);
          watch(again);
        },
        (error: Error) => settle.reject(new Error(`The mocks (${ids}) could not be restarted: ${error.message}`)),
      );
    });
  };
  watch(child);

  return {
    mocks: child.ready.mocks,
    get pid() {
      return child.process.pid!;
    },
    ended,
    async stop() {
      stopping = true;
      await terminate(child.process);
      settle.resolve();
    },
  };
}

interface StartedWorker {
  process: ChildProcess;
  ready: WorkerReady;
}

function startWorker(options: SupervisorOptions): Promise<StartedWorker> {
  const args = ["--generated", options.generated, ...options.serve.flatMap(({ id, port }) => ["--serve", `${id}=${port}`])];
  if (options.host) args.push("--host", options.host);
  const child = fork(WORKER, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => fail(`The mocks did not start within ${timeoutMs} ms.`), timeoutMs);
    const onError = (error: Error) => fail(`Cannot start the mock process: ${error.message}`);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`The mock process exited (${signal ?? `code ${code}`}) before it was ready.`);
    const settled = () => {
      clearTimeout(timer);
      child.off("error", onError).off("exit", onExit);
    };
    const fail = (message: string) => {
      settled();
      child.kill("SIGKILL");
      reject(new Error(message));
    };
    child.once("message", (message: WorkerReady | WorkerFailed) => {
      settled();
      if (message.type === "ready") resolve({ process: child, ready: message });
      else reject(new Error(message.message));
    });
    child.once("error", onError).once("exit", onExit);
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
