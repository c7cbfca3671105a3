/**
 * `npm run docs [-- <id>]`: a Redoc page per API (scripts inlined, so the site works offline and
 * from disk), a page of its workflows when it has some (scripts/docs-workflows.ts), and
 * `docs-site/index.html` linking every API.
 */
import { access, copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { verify, type ApiCoverage } from "../src/verify/index.ts";
import { readArazzo, WORKFLOWS_FILE, type ArazzoDocument } from "./arazzo.ts";
import { escapeHtml, renderWorkflowsPage, workflowsCopyName, workflowsPageName } from "./docs-workflows.ts";
import {
  docsDir, generatedDir, parseStepArgs, produceInto, readPipelineApis, ROOT, runIfMain, runTool, step, writeFileAtomic,
  type PipelineApi, type StepContext,
} from "./lib.ts";

export async function docs(api: PipelineApi, ctx: StepContext): Promise<void> {
  const contract = await readBundled(api, ctx);
  const workflows = await readBundledWorkflows(api, ctx);
  await step(api.id, "docs", () =>
    produceInto(docsDir(ctx), async (scratch) => {
      const page = `${api.id}.html`;
      await runTool("redocly", [
        "build-docs", join(generatedDir(ctx, api.id), "openapi.yaml"),
        "--output", join(scratch, page),
        "--title", `${contract.info.title} — cloud-api-contracts`,
        "--template", join(ROOT, "scripts", "docs-template.hbs"),
        ...(workflows ? ["--templateOptions.workflowsPage", workflowsPageName(api.id)] : []),
        "--inlineBundle",
      ]);
      // The bundled contract beside its page, so the site links to it when served and from disk.
      for (const ext of ["yaml", "json"]) await copyFile(join(generatedDir(ctx, api.id), `openapi.${ext}`), join(scratch, `${api.id}.openapi.${ext}`));
      const files = [page, `${api.id}.openapi.yaml`, `${api.id}.openapi.json`];
      if (workflows) {
        await writeFile(join(scratch, workflowsPageName(api.id)), renderWorkflowsPage(api.id, workflows, contract));
        await copyFile(join(generatedDir(ctx, api.id), WORKFLOWS_FILE), join(scratch, workflowsCopyName(api.id)));
        files.push(workflowsPageName(api.id), workflowsCopyName(api.id));
      }
      return files;
    }),
  );
}

interface BundledDocument {
  info: { title: string; version: string; summary?: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string; name?: string; in?: string }> };
}

async function readBundled(api: PipelineApi, ctx: StepContext): Promise<BundledDocument> {
  return JSON.parse(await readFile(join(generatedDir(ctx, api.id), "openapi.json"), "utf8")) as BundledDocument;
}

/** The API's bundled workflows (generated/<id>/workflows.arazzo.yaml), or undefined when it has none. */
async function readBundledWorkflows(api: PipelineApi, ctx: StepContext): Promise<ArazzoDocument | undefined> {
  const path = join(generatedDir(ctx, api.id), WORKFLOWS_FILE);
  const exists = await access(path).then(() => true, () => false);
  return exists ? readArazzo(path) : undefined;
}

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

const countOperations = (doc: BundledDocument) =>
  Object.values(doc.paths).reduce((sum, item) => sum + Object.keys(item).filter((key) => HTTP_METHODS.has(key)).length, 0);

const describeAuth = (doc: BundledDocument) =>
  Object.values(doc.components?.securitySchemes ?? {})
    .map((s) => (s.type === "apiKey" ? `${s.name} ${s.in}` : s.type === "http" ? `HTTP ${s.scheme}` : s.type))
    .join(" + ");

/** Recording coverage per API, as `cloud-contracts verify test/recordings` measures it. */
async function recordingCoverage(): Promise<Map<string, ApiCoverage>> {
  const report = await verify([join(ROOT, "test", "recordings")]);
  return new Map(report.coverage.map((coverage) => [coverage.api, coverage]));
}

/** Writes docs-site/index.html with one card per API of redocly.yaml (all of them, always). */
export async function writeIndex(ctx: StepContext): Promise<void> {
  const apis = await readPipelineApis();
  await step("index", "docs", async () => {
    const coverage = await recordingCoverage();
    const cards = [];
    const rows = [];
    for (const api of apis) {
      const doc = await readBundled(api, ctx);
      const workflows = await readBundledWorkflows(api, ctx);
      const covered = coverage.get(api.id);
      cards.push(`    <li class="card" data-api="${api.id}">
      <h2><a href="${api.id}.html">${escapeHtml(doc.info.title)}</a></h2>
      <p>${escapeHtml(doc.info.summary ?? "")}</p>
      <dl>
        <dt>Version</dt><dd>${escapeHtml(doc.info.version)}</dd>
        <dt>Base URL</dt><dd><code>${escapeHtml(doc.servers?.[0]?.url ?? "")}</code></dd>
        <dt>Auth</dt><dd>${escapeHtml(describeAuth(doc))}</dd>
        <dt>Operations</dt><dd class="operations">${countOperations(doc)}</dd>
        <dt>Mock</dt><dd><code>http://127.0.0.1:${api.mockPort}</code> (<code>npm start</code>)</dd>
        <dt>Contract</dt><dd><a href="${api.id}.openapi.yaml">YAML</a> · <a href="${api.id}.openapi.json">JSON</a></dd>${workflows ? `
        <dt>Workflows</dt><dd class="workflows"><a href="${workflowsPageName(api.id)}">${workflows.workflows.length} workflows</a> (Arazzo, <code>npm run workflows</code>)</dd>` : ""}
      </dl>
    </li>`);
      const percent = covered?.percent ?? 0;
      rows.push(`      <tr data-api="${api.id}"><th scope="row">${escapeHtml(api.id)}</th><td>${covered?.covered ?? 0} of ${covered?.total ?? 0}</td><td><span class="bar"><span style="width: ${percent}%"></span></span> ${percent}%</td></tr>`);
    }
    await writeFileAtomic(join(docsDir(ctx), "index.html"), `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>cloud-api-contracts</title>
  <link rel="icon" href="data:,">
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; padding: 0 1rem; color: #1f2328; }
    ul.apis { list-style: none; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(19rem, 1fr)); }
    .card { border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem; }
    .card h2 { font-size: 1.2rem; margin: 0 0 .5rem; }
    dl { display: grid; grid-template-columns: auto 1fr; gap: .2rem 1rem; margin: 0; }
    dt { color: #59636e; }
    dd { margin: 0; overflow-wrap: anywhere; }
    table { border-collapse: collapse; }
    th, td { text-align: left; padding: .25rem 1rem .25rem 0; }
    .bar { display: inline-block; width: 10rem; height: .6rem; background: #eaeef2; border-radius: .3rem; vertical-align: middle; }
    .bar span { display: block; height: 100%; background: #2da44e; border-radius: .3rem; }
  </style>
</head>
<body>
  <h1>cloud-api-contracts</h1>
  <p>OpenAPI 3.1 contracts for cloud-management APIs that publish none. Each reference below is rendered from the bundled contract.</p>
  <ul class="apis">
${cards.join("\n")}
  </ul>
  <h2>Contract coverage of the recordings</h2>
  <p>Documented operation × status pairs with at least one recorded response in <code>test/recordings/</code> (<code>npx cloud-contracts verify test/recordings</code>).</p>
  <table class="coverage">
    <thead><tr><th scope="col">API</th><th scope="col">Pairs recorded</th><th scope="col">Coverage</th></tr></thead>
    <tbody>
${rows.join("\n")}
    </tbody>
  </table>
</body>
</html>
`);
  });
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx } = await parseStepArgs(argv);
  for (const api of apis) await docs(api, ctx);
  await writeIndex(ctx);
});
