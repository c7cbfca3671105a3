/**
 * The heap figure of `npm run bench:client`: forked by client.bench.ts with `--expose-gc`, one
 * process per subject, so that no subject's garbage or retained objects count for another. Every
 * process imports the same modules (all of client-subjects.ts), sends 100 calls to warm up,
 * collects garbage and reads the heap, sends HEAP_REQUESTS calls, collects again and reads the heap,
 * then reports both over IPC.
 *
 *   client-heap.ts <subject> <origin>
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { CONCURRENCY, HEAP_REQUESTS, load, SUBJECTS, type HeapReport, type SubjectName } from "./client-subjects.ts";

const [name, origin] = process.argv.slice(2) as [SubjectName, string];
const gc = globalThis.gc;
if (!gc) throw new Error("client-heap.ts needs node --expose-gc");

/** Collects until the heap stops shrinking: finalizers and weak references settle over a few turns. */
async function settledHeap(): Promise<number> {
  let used = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round++) {
    gc!();
    await nextTurn();
    const now = process.memoryUsage().heapUsed;
    if (now >= used) return now;
    used = now;
  }
  return used;
}

const call = SUBJECTS[name](origin);
await load(call, 100, CONCURRENCY);
const before = await settledHeap();
await load(call, HEAP_REQUESTS, CONCURRENCY);
const after = await settledHeap();
process.send!({ before, after } satisfies HeapReport, () => process.exit(0));
