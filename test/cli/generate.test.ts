/** `cloud-contracts generate`: a consumer regenerating an API's contract and types into its repo. */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
let out: string;

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, "dist/cli.js"), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "cloud-contracts-generate-"));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe("cloud-contracts generate", () => {
  it("writes the bundled contract and types that compile with tsc", async () => {
    const { code, stdout } = await cli("generate", "--api", "cvm", "--out", out);
    expect(code).toBe(0);
    expect(stdout).toContain(join(out, "schema.d.ts"));
    expect(JSON.parse(await readFile(join(out, "openapi.json"), "utf8"))).toEqual(JSON.parse(await readFile(join(ROOT, "generated/cvm/openapi.json"), "utf8")));
    await writeFile(join(out, "use.ts"), 'import type { paths } from "./schema.js";\nexport type List = paths["/api/client/vps/list"]["get"]["responses"][200]["content"]["application/json"]["response"]["vpses"];\n');
    const tsc = await run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", join(out, "use.ts"), join(out, "schema.d.ts")]).then(
      () => 0,
      (error: { code: number; stdout: string }) => error.stdout,
    );
    expect(tsc).toBe(0);
  });

  it("regenerates over its own files, but refuses a file it did not write and changes nothing", async () => {
    expect((await cli("generate", "--api", "cvm", "--out", out)).code).toBe(0);
    const mine = "// hand-written\n";
    await writeFile(join(out, "schema.d.ts"), mine);
    const before = await readFile(join(out, "openapi.json"), "utf8");
    const refused = await cli("generate", "--api", "cloud66", "--out", out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("schema.d.ts exists and was not written by cloud-contracts generate");
    expect(await readFile(join(out, "schema.d.ts"), "utf8")).toBe(mine);
    expect(await readFile(join(out, "openapi.json"), "utf8")).toBe(before);
  });

  it("writes all its files or none: a failed run changes nothing, and the next one is not refused", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "cloud-contracts-generate-"));
    await mkdir(join(fresh, "schema.d.ts")); // a folder where the types go
    const failed = await cli("generate", "--api", "cvm", "--out", fresh);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(`generate: ${join(fresh, "schema.d.ts")} is in the way and is not a file; nothing was written.`);
    expect(await readdir(fresh)).toEqual(["schema.d.ts"]);
    await rm(join(fresh, "schema.d.ts"), { recursive: true });
    const next = await cli("generate", "--api", "cvm", "--out", fresh);
    expect(next.code).toBe(0);
    expect((await readdir(fresh)).sort()).toEqual([".cloud-api-contracts.json", "openapi.json", "schema.d.ts"]);
    await rm(fresh, { recursive: true, force: true });
  });

  it("overwrites with --force", async () => {
    expect((await cli("generate", "--api", "cloud66", "--out", out, "--force")).code).toBe(0);
    expect(await readFile(join(out, "schema.d.ts"), "utf8")).toContain("Cloud 66 API v3 3.1: written by `cloud-contracts generate --api cloud66`");
  });

  it("names the bad flag or API", async () => {
    expect((await cli("generate", "--api", "nope", "--out", out)).stderr).toContain('Unknown API id "nope"');
    expect((await cli("generate", "--api", "cvm")).stderr).toContain("generate: --out is required.");
  });
});
