/**
 * `cloud-contracts verify` on input that is not what it expects: thousands of failing items, a
 * body nested 100,000 levels deep, messages full of control characters, symbolic links, a FIFO,
 * nothing to check. Each is reported against its file, by name, and the run goes on.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import chromium from "@sparticuz/chromium";
import { chromium as playwright, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, "dist/cli.js"), ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "cloud-contracts-verify-hostile-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A new folder in the scratch space. */
async function folder(...parts: string[]): Promise<string> {
  const dir = join(scratch, `${Math.random().toString(36).slice(2)}`, ...parts);
  await mkdir(dir, { recursive: true });
  return dir;
}

const VALID = join(ROOT, "test/recordings/cvm/list-valid-newer.json");
const list = (body: unknown) => ({ request: { method: "GET", path: "/api/client/vps/list" }, response: { status: 200, body } });

describe("errors are capped per recording", () => {
  it("lists the first 100 errors of 5,000 failing items and counts the rest", async () => {
    const dir = await folder("cvm");
    await writeFile(join(dir, "many.json"), JSON.stringify(list({ response: { vpses: Array.from({ length: 5000 }, () => ({ id: 5 })) } })));
    const json = await cli("verify", dir, "--format", "json");
    expect(json.code).toBe(1);
    const [result] = JSON.parse(json.stdout).results;
    expect(result.errors).toHaveLength(100);
    expect(result.errors[0]).toMatchObject({ path: expect.stringMatching(/^\$\.response\.vpses\[0\]/) });
    expect(result.moreErrors).toBeGreaterThanOrEqual(5000 - 100); // every item fails at least once
    const text = await cli("verify", dir);
    const lines = text.stdout.split("\n");
    expect(lines.filter((line) => /^ {6}\$\./.test(line))).toHaveLength(100);
    expect(text.stdout).toContain(`      … and ${result.moreErrors.toLocaleString("en-US")} more errors`);
  });
});

describe("a body nested 100,000 levels deep", () => {
  it("is an error of its file, named, while the other files are checked and --out is written", async () => {
    const dir = await folder("cvm");
    const depth = 100_000;
    await writeFile(join(dir, "deep.json"), `{"request":{"method":"GET","path":"/api/client/vps/list"},"response":{"status":200,"body":${"[".repeat(depth)}${"]".repeat(depth)}}}`);
    await writeFile(join(dir, "valid.json"), await readFile(VALID));
    const out = join(dir, "..", "report.xml");
    const { code, stderr } = await cli("verify", dir, "--strict", "--format", "junit", "--out", out);
    expect(stderr).toBe("");
    expect(code).toBe(2);
    const report = await readFile(out, "utf8");
    expect(report).toMatch(/name="[^"]*deep\.json"><error message="body nests 100,002 levels deep; verify checks bodies up to 1,000 levels/);
    expect(report).toMatch(/name="[^"]*valid\.json"><\/testcase>/);
  });
});

describe("JUnit XML", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await playwright.launch({ executablePath: process.env.CHROMIUM_PATH ?? (await chromium.executablePath()), args: chromium.args, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The problems a strict XML parser (Chromium's DOMParser) finds in a document; "" when it is well-formed. */
  async function xmlProblems(document: string): Promise<string> {
    const page = await browser.newPage();
    try {
      return await page.evaluate((text) => {
        const parsed = new DOMParser().parseFromString(text, "application/xml");
        return parsed.getElementsByTagName("parsererror")[0]?.textContent ?? "";
      }, document);
    } finally {
      await page.close();
    }
  }

  it("is well-formed whatever the messages, file names and paths carry", async () => {
    const dir = await folder("cvm");
    const hostile = "\u0000\u0001\u0007\u001b[31m\u000b\u000c\ud800\ufffe\uffff]]><x>&amp;\"'\t\r\n";
    await writeFile(join(dir, `odd\u0001name\u001b.json`), JSON.stringify({
      request: { method: "GET", path: `/api/client/vps/list?q=${hostile}` },
      response: { status: 200, body: { response: { vpses: [{ [`key${hostile}`]: 1, id: hostile }] } } },
    }));
    await writeFile(join(dir, "not-json.json"), `{"broken": "${hostile}`);
    const { code, stdout } = await cli("verify", dir, "--strict", "--format", "junit");
    expect(code).toBe(2);
    expect(await xmlProblems(stdout)).toBe("");
    expect(stdout).toContain("odd\\u0001name\\u001b.json"); // visible, not dropped
    expect(stdout).toContain('<testsuite name="cvm" tests="1" failures="1" errors="0">');
  });
});

describe("files that are not plain recordings", () => {
  it("follows symbolic links to recordings and to folders, once each, even in a loop", async () => {
    const dir = await folder("links", "cvm");
    const elsewhere = await folder("elsewhere");
    await writeFile(join(elsewhere, "a.json"), await readFile(VALID));
    await writeFile(join(elsewhere, "b.json"), await readFile(VALID));
    await symlink(VALID, join(dir, "linked-file.json"));
    await symlink(elsewhere, join(dir, "linked-folder"));
    await symlink(dir, join(dir, "loop")); // points at its own folder
    const { code, stdout } = await cli("verify", dir, "--api", "cvm");
    expect(stdout).toContain("3 valid, 0 violating, 0 unreadable or unmatched (3 files)");
    expect(code).toBe(0);
  });

  it("reports a broken symbolic link by name", async () => {
    const dir = await folder("cvm");
    await symlink(join(dir, "gone.json"), join(dir, "dangling.json"));
    const { code, stdout } = await cli("verify", dir);
    expect(code).toBe(2);
    expect(stdout).toMatch(/^ERROR .*dangling\.json: broken symbolic link/m);
  });

  it("refuses a FIFO, given as input or met in a folder, instead of waiting on it", async () => {
    const dir = await folder("cvm");
    await run("mkfifo", [join(dir, "pipe.json")]);
    await writeFile(join(dir, "valid.json"), await readFile(VALID));
    for (const input of [join(dir, "pipe.json"), dir]) {
      const { code, stdout } = await cli("verify", input);
      expect(code).toBe(2);
      expect(stdout).toMatch(/^ERROR .*pipe\.json: a FIFO \(named pipe\), not a regular file: refused/m);
    }
  });
});

describe("nothing to check", () => {
  it("exits 2 for an empty folder or one of other files, saying what it found, unless --allow-empty", async () => {
    const empty = await folder("empty");
    const none = await cli("verify", empty);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain(`ERROR no recording to check in ${empty} (--allow-empty to accept)`);
    const others = await folder("others");
    await writeFile(join(others, "notes.txt"), "notes");
    await writeFile(join(others, "spec.yaml"), "openapi: 3.1.0");
    const unknown = await cli("verify", others, "--format", "json");
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).empty).toBe(`no recording to check in ${others} (found 2 file(s) that are neither *.json nor *.har)`);
    expect(unknown.stderr).toContain("no recording to check");
    const allowed = await cli("verify", empty, "--allow-empty");
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain("0 valid, 0 violating, 0 unreadable or unmatched (0 files)");
  });
});
