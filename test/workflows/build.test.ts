/**
 * The workflows in the pipeline: linted with their contract, bundled beside the bundled contract
 * (and exported by the package), and rendered on the docs site as step lists that each API's
 * reference page and the index link to.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { APIS } from "../../src/apis.ts";
import { arazzo, readArazzo, WORKFLOWS_FILE } from "../../scripts/arazzo.ts";
import { docs, writeIndex } from "../../scripts/docs.ts";
import { readPipelineApis, type StepContext } from "../../scripts/lib.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const run = promisify(execFile);
const WITH_WORKFLOWS = APIS.map((api) => api.id).filter((id) => existsSync(join(ROOT, "spec", id, WORKFLOWS_FILE)));

const scratchDirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cloud-contracts-arazzo-"));
  scratchDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function runScript(cwd: string, script: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(TSX, [join(cwd, "scripts", script), ...args], { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

/** A build output folder holding the committed generated/ and freshly bundled workflows. */
let ctx: StepContext;
beforeAll(async () => {
  ctx = { outRoot: await scratch() };
  await cp(join(ROOT, "generated"), join(ctx.outRoot, "generated"), { recursive: true });
  await mkdir(join(ctx.outRoot, "docs-site"));
  for (const api of await readPipelineApis()) await arazzo(api, ctx);
});

describe("the arazzo build step", () => {
  it.each(WITH_WORKFLOWS)("bundles %s's workflows beside its bundled contract, as written", async (id) => {
    const bundledPath = join(ctx.outRoot, "generated", id, WORKFLOWS_FILE);
    const [bundled, source] = await Promise.all([readArazzo(bundledPath), readArazzo(join(ROOT, "spec", id, WORKFLOWS_FILE))]);
    expect(bundled).toEqual(source);
    for (const description of bundled.sourceDescriptions) expect(resolve(dirname(bundledPath), description.url)).toBe(join(ctx.outRoot, "generated", id, "openapi.yaml"));
    expect((await readFile(bundledPath, "utf8")).startsWith("arazzo: 1.0.1\ninfo:\n")).toBe(true);
  });

  it("skips an API without workflows", async () => {
    const [api] = await readPipelineApis();
    await arazzo({ ...api!, id: "without-workflows" }, ctx);
    await expect(readFile(join(ctx.outRoot, "generated", "without-workflows", WORKFLOWS_FILE))).rejects.toThrow(/ENOENT/);
  });

  it.each(WITH_WORKFLOWS)("writes what the package exports as cloud-api-contracts/workflows/%s.yaml", async (id) => {
    const { exports } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, string> };
    const target = exports["./workflows/*.yaml"]!.replace("*", id);
    await expect(readArazzo(join(ctx.outRoot, target))).resolves.toMatchObject({ arazzo: "1.0.1" });
  });
});

describe("npm run lint", () => {
  it("lints an API's workflows with its contract", async () => {
    const { code, output } = await runScript(ROOT, "lint.ts", ["cvm"]);
    expect(output).toMatch(/^cvm +lint +ok/m);
    expect(code).toBe(0);
  });

  it("fails on a workflow step that reads an output no step defines, naming it", async () => {
    const project = await scratch();
    for (const entry of ["scripts", "src", "spec", "redocly.yaml", "package.json"]) await cp(join(ROOT, entry), join(project, entry), { recursive: true });
    await symlink(join(ROOT, "node_modules"), join(project, "node_modules"), "dir");
    const file = join(project, "spec", "cvm", WORKFLOWS_FILE);
    await writeFile(file, (await readFile(file, "utf8")).replace("value: $steps.listVpses.outputs.nodeId", "value: $steps.listVpses.outputs.hostNode"));
    const { code, output } = await runScript(project, "lint.ts", ["cvm"]);
    expect(code).toBe(1);
    expect(output).toMatch(/^cvm +lint +FAILED/m);
    expect(output).toContain('Output key "hostNode" is not defined in step "listVpses"');
  });
});

/** The HTML of one step of a workflows page, up to the next step or the end of the list. */
function stepItem(page: string, workflowId: string, stepId: string): string {
  const start = page.indexOf(`<li id="workflow-${workflowId}-${stepId}"`);
  expect(start, `${workflowId}/${stepId}`).toBeGreaterThan(-1);
  const rest = page.slice(start + 1);
  return page.slice(start, start + 1 + Math.min(...[rest.indexOf("<li id=\"workflow-"), rest.indexOf("</ol>")].filter((index) => index !== -1)));
}

describe("the docs site", () => {
  beforeAll(async () => {
    const cvm = (await readPipelineApis()).find((api) => api.id === "cvm")!;
    await docs(cvm, ctx);
    await writeIndex(ctx);
  });
  const site = (file: string) => readFile(join(ctx.outRoot, "docs-site", file), "utf8");

  it("links the workflows from the API's reference page and serves the Arazzo file beside them", async () => {
    expect(await site("cvm.html")).toContain('<a href="cvm.workflows.html" id="to-workflows">');
    expect(parseYaml(await site("cvm.workflows.arazzo.yaml"))).toEqual(parseYaml(await readFile(join(ctx.outRoot, "generated", "cvm", WORKFLOWS_FILE), "utf8")));
  });

  it("renders every workflow as a list of its steps: operation, inputs, success criteria", async () => {
    const page = await site("cvm.workflows.html");
    const workflows = await readArazzo(join(ROOT, "spec", "cvm", WORKFLOWS_FILE));
    for (const workflow of workflows.workflows) {
      const section = new RegExp(`<section class="workflow" id="workflow-${workflow.workflowId}"[\\s\\S]*?</section>`).exec(page)?.[0];
      expect(section, workflow.workflowId).toBeDefined();
      for (const step of workflow.steps) expect(section).toContain(`data-step="${step.stepId}"`);
    }
    const reinstall = stepItem(page, "reinstallVps", "reinstall");
    expect(reinstall).toContain('<span class="method">POST</span> <code>/api/client/vps/{id}/reinstall</code>');
    expect(reinstall).toContain('<a href="cvm.html#/vps/reinstallvps">reinstallVps</a>');
    expect(reinstall).toContain("<code>id</code> (path) = <code>$inputs.vpsId</code>");
    expect(reinstall).toContain("&quot;template&quot;: &quot;$inputs.templateId&quot;");
    expect(reinstall).toContain("<dt>Succeeds when</dt><dd><code>$statusCode == 200</code></dd>");
    const poll = stepItem(page, "waitForVpsStatus", "getStatus");
    expect(poll).toContain("retry the step after 2 s, up to 30 times when <code>$statusCode == 200</code>");
    expect(page).toContain("<code>$CVM_PRIVATE_TOKEN</code></th><td>environment, secret</td>");
  });

  it("lists the workflows of every API that has some on the index", async () => {
    const index = await site("index.html");
    for (const id of WITH_WORKFLOWS) {
      const { workflows } = await readArazzo(join(ROOT, "spec", id, WORKFLOWS_FILE));
      expect(index).toMatch(new RegExp(`data-api="${id}"[\\s\\S]*?<a href="${id}.workflows.html">${workflows.length} workflows</a>[\\s\\S]*?</li>`));
    }
  });
});
