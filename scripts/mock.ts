/** `npm run mock [-- <id>]`: a Prism mock per built API on its own port, until Ctrl-C. */
import { join } from "node:path";
import { generatedDir, parseStepArgs, runIfMain, type PipelineApi, type StepContext } from "./lib.ts";
import { startMock, type RunningMock } from "./prism.ts";

/** Starts every mock (all or none: if one fails, those already started are stopped). */
export async function startMocks(apis: PipelineApi[], ctx: StepContext, host = "127.0.0.1"): Promise<RunningMock[]> {
  const settled = await Promise.allSettled(
    apis.map((api) => startMock(api.id, { specPath: join(generatedDir(ctx, api.id), "openapi.json"), port: api.mockPort, host })),
  );
  const running = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failure) {
    await Promise.all(running.map((mock) => mock.stop()));
    throw failure.reason;
  }
  return running;
}

/** Stops everything on SIGINT / SIGTERM, then exits. */
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
  const mocks = await startMocks(apis, ctx);
  for (const mock of mocks) console.log(`${mock.id.padEnd(13)} mock    ${mock.baseUrl}`);
  console.log("Press Ctrl-C to stop.");
  stopOnSignal(async () => {
    await Promise.all(mocks.map((mock) => mock.stop()));
  });
});
