/**
 * `npm run diff`, the breaking-change gate, run on a scratch git repository holding a copy of the
 * CVM spec: it passes an unchanged or compatible contract, fails a removed operation or a newly
 * required request field, and lets them through once info.version is bumped and the changelog
 * says so.
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DIFF = [join(ROOT, "node_modules", ".bin", "tsx"), join(ROOT, "scripts", "diff.ts")] as const;
const exec = promisify(execFile);

const scratchDirs: string[] = [];
afterAll(async () => {
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A git repository whose only commit holds the CVM spec and the changelog, as in this one. */
async function repository(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cloud-contracts-diff-test-"));
  scratchDirs.push(dir);
  await cp(join(ROOT, "spec", "cvm"), join(dir, "spec", "cvm"), { recursive: true });
  await cp(join(ROOT, "CHANGELOG.md"), join(dir, "CHANGELOG.md"));
  const git = (...args: string[]) => exec("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args], { cwd: dir });
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-q", "-m", "contract");
  return dir;
}

async function edit(dir: string, file: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, file);
  const before = await readFile(path, "utf8");
  const after = change(before);
  expect(after, `the edit of ${file} changed nothing`).not.toBe(before);
  await writeFile(path, after);
}

const removeListOperation = (dir: string) =>
  edit(dir, "spec/cvm/openapi.yaml", (text) => text.replace("  /api/client/vps/list:\n    $ref: paths/api_client_vps_list.yaml\n", ""));
const requireNewReinstallField = (dir: string) =>
  edit(dir, "spec/cvm/components/schemas/ReinstallRequest.yaml", (text) =>
    text.replace("  - template\n", "  - template\n  - hostname\n").replace(/$/, "  hostname:\n    type: string\n"),
  );
const bumpVersion = (dir: string) => edit(dir, "spec/cvm/openapi.yaml", (text) => text.replace("  version: 1.0.0\n", "  version: 2.0.0\n"));

/** Runs the gate for the CVM API against HEAD (the commit made above). */
async function diff(dir: string, ...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(DIFF[0], [DIFF[1], "cvm", ...args], { cwd: dir });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe.concurrent("npm run diff", { timeout: 60_000 }, () => {
  it("passes an unchanged contract and a compatible change (a new optional field)", async () => {
    const dir = await repository();
    expect(await diff(dir, "--base", "HEAD")).toMatchObject({ code: 0, output: expect.stringContaining("cvm: no breaking change (info.version 1.0.0)") });
    await edit(dir, "spec/cvm/components/schemas/ReinstallRequest.yaml", (text) => text.replace(/$/, "  hostname:\n    type: string\n"));
    expect((await diff(dir, "--base", "HEAD")).code).toBe(0);
  });

  it("fails a removed operation, naming it", async () => {
    const dir = await repository();
    await removeListOperation(dir);
    const { code, output } = await diff(dir, "--base", "HEAD");
    expect(code).toBe(1);
    expect(output).toContain("info.version is still 1.0.0");
    expect(output).toMatch(/GET \/api\/client\/vps\/list: .*[Rr]emoved/);
  });

  it("fails a newly required request field, naming the operation and the field", async () => {
    const dir = await repository();
    await requireNewReinstallField(dir);
    const { code, output } = await diff(dir, "--base", "HEAD");
    expect(code).toBe(1);
    expect(output).toMatch(/POST \/api\/client\/vps\/\{id\}\/reinstall: .*hostname/);
  });

  it("lets breaking changes through once info.version is bumped and CHANGELOG.md has the entry", async () => {
    const dir = await repository();
    await removeListOperation(dir);
    await bumpVersion(dir);
    const withoutEntry = await diff(dir, "--base", "HEAD");
    expect(withoutEntry.code).toBe(1);
    expect(withoutEntry.output).toContain('CHANGELOG.md has no "## cvm 2.0.0" entry');

    await edit(dir, "CHANGELOG.md", (text) => text.replace("## cvm 1.0.0", "## cvm 2.0.0 — list removed\nGET /api/client/vps/list is gone.\n\n## cvm 1.0.0"));
    const withEntry = await diff(dir, "--base", "HEAD");
    expect(withEntry.code).toBe(0);
    expect(withEntry.output).toContain("announced as info.version 1.0.0 → 2.0.0");
  });

  it("compares with the previous commit by default, and refuses a ref that is not a commit", async () => {
    const dir = await repository();
    await removeListOperation(dir);
    await exec("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-qam", "drop list"], { cwd: dir });
    const byDefault = await diff(dir);
    expect(byDefault.output).toContain("(previous commit)");
    expect(byDefault.code).toBe(1);

    const badRef = await diff(dir, "--base", "no-such-ref");
    expect(badRef).toMatchObject({ code: 2, output: expect.stringContaining('--base: "no-such-ref" is not a commit') });
  });
});
