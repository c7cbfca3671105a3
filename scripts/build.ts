/** `npm run build [-- <id>] [--out <dir>]`: lint → bundle → arazzo → types → validators → mock operations → docs for each API, then the docs index. */
import { arazzo } from "./arazzo.ts";
import { bundle } from "./bundle.ts";
import { docs, writeIndex } from "./docs.ts";
import { parseStepArgs, runIfMain } from "./lib.ts";
import { lint } from "./lint.ts";
import { mockOperations } from "./mock-operations.ts";
import { types } from "./types.ts";
import { validators } from "./validators.ts";

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx } = await parseStepArgs(argv);
  for (const api of apis) {
    await lint(api);
    await bundle(api, ctx);
    await arazzo(api, ctx);
    await types(api, ctx);
    await validators(api, ctx);
    await mockOperations(api, ctx);
    await docs(api, ctx);
  }
  await writeIndex(ctx);
});
