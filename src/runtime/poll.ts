/**
 * Waiting for background work: CloudMC and CloudStack tasks, Cloud 66 stack actions.
 *
 * Written here rather than taken from a library: the loop is a few lines over Node's abortable
 * `timers/promises` sleep, and it must tell apart a failed task, a timeout and an abort with one
 * typed error (TaskError) that keeps the last state seen — which generic "wait for" packages do not.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TaskError } from "./errors.js";

export interface PollOptions {
  /** Pause between two checks, in milliseconds (default 1000). */
  intervalMs?: number;
  /** Give up after this many milliseconds (default 300000: five minutes). */
  timeoutMs?: number;
  /** Stops waiting when aborted. */
  signal?: AbortSignal;
}

/** What one check of a task found. */
export type PollState<Task, Result> =
  | { state: "pending"; task: Task }
  | { state: "succeeded"; task: Task; result: Result }
  | { state: "failed"; task: Task; message: string };

/**
 * Calls `check` until it reports success (resolves with the result) or failure, the timeout
 * passes, or `signal` aborts (rejects with a TaskError whose `reason` says which).
 */
export async function pollTask<Task, Result>(
  taskId: string,
  check: (signal: AbortSignal) => Promise<PollState<Task, Result>>,
  options: PollOptions = {},
): Promise<Result> {
  const { intervalMs = 1000, timeoutMs = 300_000, signal } = options;
  if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be 0 or more, got ${intervalMs}.`);
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be more than 0, got ${timeoutMs}.`);

  const timeout = AbortSignal.timeout(timeoutMs);
  const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let last: Task | undefined;

  const stopped = (cause?: unknown) => {
    const reason = signal?.aborted ? "aborted" : "timeout";
    const message = reason === "aborted" ? `Stopped waiting for task ${taskId}: aborted.` : `Task ${taskId} did not finish within ${timeoutMs} ms.`;
    return new TaskError(message, { reason, taskId, ...(last === undefined ? {} : { task: last }), cause: cause ?? stop.reason });
  };

  for (;;) {
    if (stop.aborted) throw stopped();
    let seen: PollState<Task, Result>;
    try {
      seen = await check(stop);
    } catch (error) {
      if (stop.aborted) throw stopped(error);
      throw error;
    }
    last = seen.task;
    if (seen.state === "succeeded") return seen.result;
    if (seen.state === "failed") throw new TaskError(`Task ${taskId} failed: ${seen.message}`, { reason: "failed", taskId, task: seen.task });
    try {
      await sleep(intervalMs, undefined, { signal: stop });
    } catch {
      throw stopped();
    }
  }
}
