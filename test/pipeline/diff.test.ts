/**
 * `npm run diff`, the breaking-change gate, run on a scratch git repository holding a copy of the
 * CVM spec: it passes an unchanged or compatible contract, fails a removed operation, a newly
 * required request field, a widened response type or enum, and a change api-smart-diff leaves
 * unclassified, and lets them through once info.version is bumped and the changelog says so.
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
/** The CVM contract's version as committed, and the major version above it. */
const VERSION = /^ {2}version: (\S+)$/m.exec(await readFile(join(ROOT, "spec", "cvm", "openapi.yaml"), "utf8"))![1]!;
const BUMPED = `${Number(VERSION.split(".")[0]) + 1}.0.0`;

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
  await git(dir, "init", "-q", "-b", "main");
  await commitAll(dir, "contract");
  return dir;
}

const git = (dir: string, ...args: string[]) => exec("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args], { cwd: dir });
const commitAll = async (dir: string, message: string) => {
  await git(dir, "add", ".");
  await git(dir, "commit", "-q", "-m", message);
};

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
const bumpVersion = (dir: string) => edit(dir, "spec/cvm/openapi.yaml", (text) => text.replace(`  version: ${VERSION}\n`, `  version: ${BUMPED}\n`));
const announce = (dir: string, text: string) => edit(dir, "CHANGELOG.md", (log) => log.replace(`## cvm ${VERSION}`, `## cvm ${BUMPED} — ${text}\n\n## cvm ${VERSION}`));
/** A string field of a node (in every response that carries one) given another type. */
const retypeNodeField = (dir: string, field: "name" | "hostname" | "location", type: string) =>
  edit(dir, "spec/cvm/components/schemas/Node.yaml", (text) => text.replace(`  ${field}:\n    type: string\n`, `  ${field}:\n    type: ${type}\n`));
const VPS = "spec/cvm/components/schemas/Vps.yaml";
const ONE_VIRTUALIZATION_TYPE = '    enum:\n      - "1"\n';
/** A tuple in every node response: api-smart-diff classifies no change inside `prefixItems`. */
const addNodeTuple = (dir: string) =>
  edit(dir, "spec/cvm/components/schemas/Node.yaml", (text) =>
    text.replace(/$/, "  pair:\n    type: array\n    description: A pair.\n    prefixItems:\n      - type: string\n      - type: string\n"),
  );

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
  it("passes an unchanged contract and compatible changes (a new optional field, a tag's description, an example, a response type narrowed)", async () => {
    const dir = await repository();
    expect(await diff(dir, "--base", "HEAD")).toMatchObject({ code: 0, output: expect.stringContaining(`cvm: no breaking change (info.version ${VERSION})`) });
    await retypeNodeField(dir, "name", '[string, "null"]');
    await commitAll(dir, "nullable node name");
    await edit(dir, "spec/cvm/components/schemas/ReinstallRequest.yaml", (text) => text.replace(/$/, "  hostname:\n    type: string\n"));
    await edit(dir, "spec/cvm/openapi.yaml", (text) => text.replace("    description: Host nodes that the user's VPSes run on.\n", "    description: The host nodes.\n"));
    await edit(dir, "spec/cvm/components/examples/NodeListExample.yaml", (text) => text.replace("name: Roubaix 1", "name: Roubaix 2"));
    await edit(dir, "spec/cvm/components/schemas/Node.yaml", (text) => text.replace('  name:\n    type: [string, "null"]\n', "  name:\n    type: string\n"));
    expect(await diff(dir, "--base", "HEAD")).toMatchObject({ code: 0, output: expect.stringContaining("cvm: no breaking change") });
  });

  it("fails a removed operation, naming it", async () => {
    const dir = await repository();
    await removeListOperation(dir);
    const { code, output } = await diff(dir, "--base", "HEAD");
    expect(code).toBe(1);
    expect(output).toContain(`info.version is still ${VERSION}`);
    expect(output).toMatch(/GET \/api\/client\/vps\/list: .*[Rr]emoved/);
  });

  it("fails a newly required request field, naming the operation and the field", async () => {
    const dir = await repository();
    await requireNewReinstallField(dir);
    const { code, output } = await diff(dir, "--base", "HEAD");
    expect(code).toBe(1);
    expect(output).toMatch(/POST \/api\/client\/vps\/\{id\}\/reinstall: .*hostname/);
  });

  it("fails response fields made nullable, given a second type or another type, or a new enum value, naming each", async () => {
    const dir = await repository();
    await retypeNodeField(dir, "name", '[string, "null"]');
    await retypeNodeField(dir, "hostname", "[string, integer]");
    await retypeNodeField(dir, "location", "integer");
    await edit(dir, VPS, (text) => text.replace(ONE_VIRTUALIZATION_TYPE, `${ONE_VIRTUALIZATION_TYPE}      - "2"\n`));
    const { code, output } = await diff(dir, "--base", "HEAD");
    expect(code).toBe(1);
    const widened = (operation: string, field: string, what: string) =>
      `${operation}: [Widened] \`${field}\` in Response 200 content (application/json) may now be ${what}`;
    expect(output).toContain(widened("GET /api/client/node/list", "response.nodes[].name", "null"));
    expect(output).toContain(widened("GET /api/client/node/{id}", "response.name", "null"));
    expect(output).toContain(widened("GET /api/client/node/list", "response.nodes[].hostname", "integer"));
    expect(output).toContain(widened("GET /api/client/node/list", "response.nodes[].location", "integer"));
    expect(output).toContain(widened("GET /api/client/vps/list", "response.vpses[].virtualization_type", '"2"'));
  });

  it("fails a response enum dropped", async () => {
    const dir = await repository();
    await edit(dir, VPS, (text) => text.replace(ONE_VIRTUALIZATION_TYPE, ""));
    const { code, output } = await diff(dir, "--base", "HEAD");
    expect(code).toBe(1);
    expect(output).toContain("GET /api/client/vps/list: [Widened] `response.vpses[].virtualization_type` in Response 200 content (application/json) may now be any value (no enum)");
  });

  it("fails, on a branch compared with its merge base on main, a response field made nullable without a version bump", async () => {
    const dir = await repository();
    await git(dir, "checkout", "-q", "-b", "nullable-node-name");
    await retypeNodeField(dir, "name", '[string, "null"]');
    await commitAll(dir, "node names may be null");
    const { code, output } = await diff(dir);
    expect(output).toContain("(merge base with main)");
    expect(output).toContain(`info.version is still ${VERSION}`);
    expect(output).toContain("may now be null");
    expect(code).toBe(1);
  });

  it("counts a change api-smart-diff leaves unclassified (inside prefixItems) as breaking", async () => {
    const dir = await repository();
    await addNodeTuple(dir);
    await commitAll(dir, "a tuple");
    await edit(dir, "spec/cvm/components/schemas/Node.yaml", (text) => text.replace("      - type: string\n      - type: string\n", "      - type: string\n      - type: string\n        maxLength: 3\n"));
    const { code, output } = await diff(dir, "--base", "HEAD");
    expect(code).toBe(1);
    expect(output).toMatch(/GET \/api\/client\/node\/list: .*maxLength.* \(unclassified by api-smart-diff, so counted as breaking\)/);
  });

  it("lets breaking changes through once info.version is bumped and CHANGELOG.md has the entry", async () => {
    const dir = await repository();
    await removeListOperation(dir);
    await bumpVersion(dir);
    const withoutEntry = await diff(dir, "--base", "HEAD");
    expect(withoutEntry.code).toBe(1);
    expect(withoutEntry.output).toContain(`CHANGELOG.md has no "## cvm ${BUMPED}" entry`);

    await announce(dir, "list removed\nGET /api/client/vps/list is gone.");
    const withEntry = await diff(dir, "--base", "HEAD");
    expect(withEntry.code).toBe(0);
    expect(withEntry.output).toContain(`announced as info.version ${VERSION} → ${BUMPED}`);
  });

  it("compares with the previous commit by default, and refuses a ref that is not a commit", async () => {
    const dir = await repository();
    await removeListOperation(dir);
    await commitAll(dir, "drop list");
    const byDefault = await diff(dir);
    expect(byDefault.output).toContain("(previous commit)");
    expect(byDefault.code).toBe(1);

    const badRef = await diff(dir, "--base", "no-such-ref");
    expect(badRef).toMatchObject({ code: 2, output: expect.stringContaining('--base: "no-such-ref" is not a commit') });
  });
});
