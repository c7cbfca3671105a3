/**
 * `npm run mock [-- <id>]`: every built API's mock on its port (one child process, watched as
 * `npm start` watches it), until Ctrl-C.
 */
import { join } from "node:path";
import type { ApiId } from "../src/apis.ts";
import { superviseMocks } from "../src/mock/supervisor.ts";
import { parseStepArgs, runIfMain, StepError } from "./lib.ts";

/** Stops everything on SIGINT / SIGTERM (once: a second Ctrl-C is not needed), then exits. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: stopping…`);
      stop().finally(() => process.exit(0));
    });
  }
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx } = await parseStepArgs(argv);
  const mocks = await superviseMocks({ serve: apis.map((api) => ({ id: api.id as ApiId, port: api.mockPort })), generated: join(ctx.outRoot, "generated") }).catch(
    (error: Error) => {
      throw new StepError(error.message);
    },
  );
  for (const mock of mocks.mocks) console.log(`${mock.id.padEnd(13)} mock    ${mock.baseUrl}`);
  console.log("Press Ctrl-C to stop.");
  stopOnSignal(() => mocks.stop());
  mocks.ended.catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
});
