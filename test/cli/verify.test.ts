/** `cloud-contracts verify`, run as a consumer runs it: the compiled bin in a child process. */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, "dist/cli.js"), ...args], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "cloud-contracts-verify-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A folder named after the API holding one edited copy of a recording. */
async function brokenCopy(api: string, file: string, edit: (recording: any) => void): Promise<string> {
  const dir = join(scratch, `${file}-${Math.random().toString(36).slice(2)}`, api);
  await mkdir(dir, { recursive: true });
  const recording = JSON.parse(await readFile(join(ROOT, "test/recordings", api, file), "utf8"));
  edit(recording);
  await writeFile(join(dir, file), JSON.stringify(recording));
  return join(dir, file);
}

describe("cloud-contracts verify", () => {
  it("accepts every recording in strict mode and prints a coverage table per API", async () => {
    const { code, stdout } = await cli("verify", "test/recordings", "--strict");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+ valid, 0 violating, 0 unreadable or unmatched/m);
    for (const api of ["cloud66", "cloudmanager", "cloudmc", "cloudstack", "cvm"]) {
      expect(stdout).toMatch(new RegExp(`^coverage ${api}: \\d+ of \\d+ documented operation × status pairs recorded \\(\\d+(\\.\\d)?%\\)$`, "m"));
    }
    expect(stdout).toMatch(/^ {2}listVpses +GET \/api\/client\/vps\/list +200✓ 401✓ 403✓$/m);
  });

  it("exits 1 for a broken recording, naming the file, operation and JSON path", async () => {
    const file = await brokenCopy("cvm", "list-valid-newer.json", (r) => (r.response.body.response.vpses[1].cpu_count = 240));
    const { code, stdout } = await cli("verify", file);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL  /m);
    expect(stdout).toContain("list-valid-newer.json  listVpses GET /api/client/vps/list 200");
    expect(stdout).toContain("$.response.vpses[1].cpu_count: must be string");
  });

  it("fails on an undocumented property only with --strict", async () => {
    const file = await brokenCopy("cloud66", "stacks-get.json", (r) => (r.response.body.response.kubernetes_version = "1.29"));
    expect((await cli("verify", file)).code).toBe(0);
    const strict = await cli("verify", file, "--strict");
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain("$.response.kubernetes_version: property is not described by the contract");
  });

  it("exits 2 with a one-line message for a file that is not JSON", async () => {
    const file = join(scratch, "notes.json");
    await writeFile(file, "this is not json");
    const { code, stdout } = await cli("verify", file, "--api", "cvm");
    expect(code).toBe(2);
    const errors = stdout.split("\n").filter((line) => line.startsWith("ERROR"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^ERROR .*notes\.json: not JSON: /);
  });

  it("exits 2 for a recording that matches no operation, saying so", async () => {
    const file = await brokenCopy("cvm", "start-success.json", (r) => (r.request.path = "/api/client/vps/1/explode"));
    const { code, stdout } = await cli("verify", file);
    expect(code).toBe(2);
    expect(stdout).toContain("No operation in the cvm contract matches POST /api/client/vps/1/explode");
  });

  it("exits 2 for an unknown API and for a missing file", async () => {
    const unknown = await cli("verify", "test/recordings/cvm", "--api", "nope");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--api: unknown API id "nope"');
    const missing = await cli("verify", join(scratch, "absent.json"));
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain("absent.json: no such file or folder");
  });

  it("reports JSON with the coverage, and JUnit XML with the failures", async () => {
    const file = await brokenCopy("cvm", "status-running-split.json", (r) => (r.response.body.response.status = "paused"));
    const json = await cli("verify", "test/recordings/cvm", file, "--format", "json");
    const report = JSON.parse(json.stdout);
    expect(json.code).toBe(1);
    expect(report.coverage[0]).toMatchObject({ api: "cvm", total: expect.any(Number), covered: expect.any(Number) });
    expect(report.results.filter((r: { valid: boolean }) => !r.valid)).toHaveLength(1);
    const junit = await cli("verify", file, "--format", "junit");
    expect(junit.stdout).toMatch(/^<\?xml version="1.0"/);
    expect(junit.stdout).toContain('<testsuite name="cvm" tests="1" failures="1" errors="0">');
    expect(junit.stdout).toContain("$.response.status: must be equal to one of the allowed values");
  });

  it("writes the report to --out, and refuses a bad --format without touching that file", async () => {
    const out = join(scratch, "report.txt");
    expect((await cli("verify", "test/recordings/cvm", "--out", out)).code).toBe(0);
    const written = await readFile(out, "utf8");
    expect(written).toContain("coverage cvm:");
    const bad = await cli("verify", "test/recordings/cvm", "--out", out, "--format", "yaml");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format: expected text, json or junit, got "yaml"');
    expect(await readFile(out, "utf8")).toBe(written);
  });

  it("guesses the API from the URL when the folder does not say", async () => {
    const dir = join(scratch, "mixed");
    await mkdir(dir, { recursive: true });
    await cp(join(ROOT, "test/recordings/cloud66/stacks-list.json"), join(dir, "a.json"));
    await cp(join(ROOT, "test/recordings/cloudmanager/projects-list.json"), join(dir, "b.json"));
    const { code, stdout } = await cli("verify", dir);
    expect(code).toBe(0);
    expect(stdout).toContain("coverage cloud66:");
    expect(stdout).toContain("coverage cloudmanager:");
  });
});
