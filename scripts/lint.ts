/** `npm run lint [-- <id>]`: Redocly lint with the rules in redocly.yaml; any problem fails. */
import { parseStepArgs, runIfMain, runTool, step, type PipelineApi } from "./lib.ts";

export async function lint(api: PipelineApi): Promise<void> {
  await step(api.id, "lint", () => runTool("redocly", ["lint", api.redoclyName, "--max-problems", "1000"]));
}

runIfMain(import.meta.url, async (argv) => {
  const { apis } = await parseStepArgs(argv);
  for (const api of apis) await lint(api);
});
