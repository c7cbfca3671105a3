/**
 * `npm run lint [-- <id>]`: Redocly lint with the rules in redocly.yaml; any problem fails. An API
 * with workflows (spec/<id>/workflows.arazzo.yaml) has them linted in the same step.
 */
import { relative } from "node:path";
import { hasWorkflows, workflowsSource } from "./arazzo.ts";
import { parseStepArgs, ROOT, runIfMain, runTool, step, type PipelineApi } from "./lib.ts";

export async function lint(api: PipelineApi): Promise<void> {
  await step(api.id, "lint", async () => {
    await runTool("redocly", ["lint", api.redoclyName, "--max-problems", "1000"]);
    if (await hasWorkflows(api.id)) await runTool("redocly", ["lint", relative(ROOT, workflowsSource(api.id)), "--max-problems", "1000"]);
  });
}

runIfMain(import.meta.url, async (argv) => {
  const { apis } = await parseStepArgs(argv);
  for (const api of apis) await lint(api);
});
