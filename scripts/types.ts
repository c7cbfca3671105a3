/** `npm run types [-- <id>]`: TypeScript types for each bundled spec, with openapi-typescript. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderTypes } from "../src/generate.ts";
import type { OpenApiDocument } from "../src/contract/document.ts";
import { findDispatchedOperations, renderOperationModule, renderOperationTypes } from "./operations.ts";
import { generatedDir, parseStepArgs, produceInto, runIfMain, step, StepError, type PipelineApi, type StepContext } from "./lib.ts";

export async function types(api: PipelineApi, ctx: StepContext): Promise<void> {
  const dir = generatedDir(ctx, api.id);
  const source = join(dir, "openapi.json");
  await step(api.id, "types", () =>
    produceInto(dir, async (scratch) => {
      // The library rather than the CLI: the CLI reads redocly.yaml and wants an output per API there.
      const types = await renderTypes(source).catch((error: Error) => {
        throw new StepError(`openapi-typescript ${source}:\n${error.message}`);
      });
      await writeFile(join(scratch, "schema.d.ts"), types);
      // Query-dispatched operations (`?operation=`) also get a typed map; see operations.ts.
      const document = JSON.parse(await readFile(source, "utf8")) as OpenApiDocument;
      const dispatched = findDispatchedOperations(document);
      if (dispatched.length === 0) return ["schema.d.ts"];
      await writeFile(join(scratch, "operations.d.ts"), renderOperationTypes(dispatched));
      await writeFile(join(scratch, "operations.js"), renderOperationModule(dispatched));
      return ["schema.d.ts", "operations.d.ts", "operations.js"];
    }),
  );
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx } = await parseStepArgs(argv);
  for (const api of apis) await types(api, ctx);
});
