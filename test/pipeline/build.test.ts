/**
 * The pipeline: committed output is exactly what `npm run build` makes, and a failing step stops
 * the build with the tool's own message, a non-zero exit, and the previous output intact.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const run = promisify(execFile);

const scratchDirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cloud-contracts-build-"));
  scratchDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name))).sort();
}

/** Runs a script and returns its exit code and combined output instead of throwing. */
async function runScript(cwd: string, script: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(TSX, [join(cwd, "scripts", script), ...args], { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe("npm run build", () => {
  it("reproduces the committed generated/ and docs-site/ byte for byte", async () => {
    const out = await scratch();
    const { code, output } = await runScript(ROOT, "build.ts", ["--out", out]);
    expect(output).toMatch(/cvm +lint +ok/);
    expect(code).toBe(0);
    for (const dir of ["generated", "docs-site"]) {
      const built = await listFiles(join(out, dir));
      expect(built).toEqual(await listFiles(join(ROOT, dir)));
      for (const file of built) {
        const [fresh, committed] = await Promise.all([readFile(join(out, dir, file)), readFile(join(ROOT, dir, file))]);
        expect(fresh.equals(committed), `${dir}/${file} differs from a fresh build: run npm run build and commit`).toBe(true);
      }
    }
  });

  it("prints one line per step with its duration", async () => {
    const out = await scratch();
    const { output } = await runScript(ROOT, "build.ts", ["cvm", "--out", out]);
    for (const step of ["lint", "bundle", "types", "mock-operations", "docs"]) expect(output).toMatch(new RegExp(`^cvm +${step} +ok +\\d+\\.\\d\\ds$`, "m"));
  });

  it("refuses an unknown API id, naming the known ones", async () => {
    const { code, output } = await runScript(ROOT, "build.ts", ["nosuchapi"]);
    expect(code).toBe(1);
    expect(output).toMatch(/Unknown API id "nosuchapi"\. Known ids: .*\bcvm\b/);
  });

  it("stops at a failing lint with Redocly's message and keeps the previous output", async () => {
    // A copy of the project whose CVM spec has lost an operationId.
    const project = await scratch();
    for (const entry of ["scripts", "src", "spec", "generated", "redocly.yaml", "package.json"]) {
      await cp(join(ROOT, entry), join(project, entry), { recursive: true });
    }
    await symlink(join(ROOT, "node_modules"), join(project, "node_modules"), "dir");
    const pathFile = join(project, "spec/cvm/paths/api_client_node_list.yaml");
    await writeFile(pathFile, (await readFile(pathFile, "utf8")).replace("  operationId: listNodes\n", ""));
    const before = await readFile(join(project, "generated/cvm/openapi.json"));
    await mkdir(join(project, "docs-site"), { recursive: true });

    const { code, output } = await runScript(project, "build.ts", []);

    expect(code).toBe(1);
    expect(output).toMatch(/^cvm +lint +FAILED/m);
    expect(output).toContain("operation-operationId");
    expect(output).toContain("api_client_node_list.yaml");
    // Nothing after the failing step ran: no CVM bundle, no index.
    expect(output).not.toMatch(/^cvm +bundle/m);
    expect(output).not.toMatch(/^index /m);
    expect((await readFile(join(project, "generated/cvm/openapi.json"))).equals(before)).toBe(true);
  });
});
