/**
 * `npm run bundle [-- <id>]`: one self-contained document per API, as YAML and as JSON, and the
 * content hash of the spec it was bundled from (`spec.sha256`, which `npm start` compares).
 */
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { hashSpecDir, SPEC_HASH_FILE } from "../src/mock/freshness.ts";
import { generatedDir, ROOT, parseStepArgs, produceInto, runIfMain, runTool, step, type PipelineApi, type StepContext } from "./lib.ts";

export async function bundle(api: PipelineApi, ctx: StepContext): Promise<void> {
  await step(api.id, "bundle", () =>
    produceInto(generatedDir(ctx, api.id), async (scratch) => {
      const yamlPath = join(scratch, "openapi.yaml");
      await runTool("redocly", ["bundle", api.redoclyName, "--output", yamlPath]);
      // JSON is converted from the bundled YAML rather than bundled twice, so both always agree.
      const document = parseYaml(await readFile(yamlPath, "utf8"));
      await writeFile(join(scratch, "openapi.json"), `${JSON.stringify(document, null, 2)}\n`);
      await writeFile(join(scratch, SPEC_HASH_FILE), `${await hashSpecDir(dirname(join(ROOT, api.root)))}\n`);
      return ["openapi.yaml", "openapi.json", SPEC_HASH_FILE];
    }),
  );
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx } = await parseStepArgs(argv);
  for (const api of apis) await bundle(api, ctx);
});
