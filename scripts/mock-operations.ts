/**
 * `npm run mock-operations [-- <id>]`: Prism's operations for each bundled spec, saved beside it as
 * `generated/<id>/mock-operations.json` so that the mocks start without computing them (see
 * src/mock/operations.ts).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MOCK_OPERATIONS_FILE, renderMockOperations } from "../src/mock/operations.ts";
import { generatedDir, parseStepArgs, produceInto, runIfMain, step, type PipelineApi, type StepContext } from "./lib.ts";

export async function mockOperations(api: PipelineApi, ctx: StepContext): Promise<void> {
  const dir = generatedDir(ctx, api.id);
  await step(api.id, "mock-operations", () =>
    produceInto(dir, async (scratch) => {
      await writeFile(join(scratch, MOCK_OPERATIONS_FILE), await renderMockOperations(await readFile(join(dir, "openapi.json"))));
      return [MOCK_OPERATIONS_FILE];
    }),
  );
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx } = await parseStepArgs(argv);
  for (const api of apis) await mockOperations(api, ctx);
});
