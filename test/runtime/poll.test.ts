import { describe, expect, it } from "vitest";
import { TaskError } from "../../src/runtime/errors.ts";
import { pollTask, type PollState } from "../../src/runtime/poll.ts";

type Seen = { status: string };

/** A check that reports each state of `script` in turn, then the last one forever. */
function scripted(script: PollState<Seen, string>[]) {
  let calls = 0;
  const check = async () => script[Math.min(calls++, script.length - 1)]!;
  return { check, calls: () => calls };
}

const pending: PollState<Seen, string> = { state: "pending", task: { status: "PENDING" } };

async function rejection(promise: Promise<unknown>): Promise<TaskError<Seen>> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TaskError);
  return error as TaskError<Seen>;
}

describe("pollTask", () => {
  it("keeps checking while pending and resolves with the result", async () => {
    const { check, calls } = scripted([pending, pending, { state: "succeeded", task: { status: "SUCCESS" }, result: "morty" }]);
    await expect(pollTask("t1", check, { intervalMs: 1 })).resolves.toBe("morty");
    expect(calls()).toBe(3);
  });

  it("rejects with reason failed and the failed task", async () => {
    const { check } = scripted([pending, { state: "failed", task: { status: "FAILED" }, message: "quota exceeded" }]);
    const error = await rejection(pollTask("t2", check, { intervalMs: 1 }));
    expect(error).toMatchObject({ reason: "failed", taskId: "t2", task: { status: "FAILED" } });
    expect(error.message).toContain("quota exceeded");
  });

  it("rejects with reason timeout, keeping the last state seen", async () => {
    const { check } = scripted([pending]);
    const error = await rejection(pollTask("t3", check, { intervalMs: 5, timeoutMs: 40 }));
    expect(error).toMatchObject({ reason: "timeout", taskId: "t3", task: { status: "PENDING" } });
  });

  it("rejects with reason aborted when the caller aborts while it waits", async () => {
    const controller = new AbortController();
    const { check } = scripted([pending]);
    const waiting = pollTask("t4", check, { intervalMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    expect(await rejection(waiting)).toMatchObject({ reason: "aborted", taskId: "t4" });
  });

  it("does not check at all when the signal is already aborted", async () => {
    const { check, calls } = scripted([pending]);
    expect(await rejection(pollTask("t5", check, { signal: AbortSignal.abort() }))).toMatchObject({ reason: "aborted" });
    expect(calls()).toBe(0);
  });

  it("passes the abort on to a check in flight", async () => {
    const controller = new AbortController();
    const check = (signal: AbortSignal) =>
      new Promise<PollState<Seen, string>>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    const waiting = pollTask("t6", check, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    expect(await rejection(waiting)).toMatchObject({ reason: "aborted" });
  });

  it.each([{ intervalMs: -1 }, { timeoutMs: 0 }])("refuses %o", async (options) => {
    await expect(pollTask("t7", scripted([pending]).check, options)).rejects.toThrow(RangeError);
  });
});
