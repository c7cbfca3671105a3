/**
 * `cloud-contracts verify` reading HAR 1.2 files: the one headless Chromium wrote against the CVM
 * mock (test/fixtures/har/), and copies of it edited the ways other tools and servers write them.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = join(ROOT, "test/fixtures/har/cvm-chromium.har");
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

interface Har {
  log: { entries: { request: { method: string; url: string }; response: { status: number; content: { mimeType: string; text?: string; encoding?: string } } }[] };
}

let scratch: string;
let har: Har;
/** `127.0.0.1:<port>`, where the mock listened when Chromium wrote the fixture. */
let mockHost: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "cloud-contracts-verify-har-"));
  har = JSON.parse(await readFile(FIXTURE, "utf8")) as Har;
  mockHost = new URL(har.log.entries[0]!.request.url).host;
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A copy of the fixture, edited, under `name` in a new folder. */
async function editedCopy(name: string, edit: (copy: Har) => void): Promise<string> {
  const dir = join(scratch, Math.random().toString(36).slice(2));
  await mkdir(dir, { recursive: true });
  const copy = structuredClone(har);
  edit(copy);
  await writeFile(join(dir, name), JSON.stringify(copy));
  return join(dir, name);
}

describe("verify on a HAR file written by Chromium", () => {
  it("checks the API's entries with --api, and skips the other host's by name", async () => {
    const { code, stdout } = await cli("verify", FIXTURE, "--api", "cvm", "--strict");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SKIP {2}test\/fixtures\/har\/cvm-chromium\.har: 1 entry \(4\): outside the cvm API \(\/api\/client\)$/m);
    expect(stdout).toContain("4 valid, 0 violating, 0 unreadable or unmatched (4 recordings and HAR entries; 1 HAR entry skipped)");
    expect(stdout).toMatch(/^ {2}listVpses +GET \/api\/client\/vps\/list +200✓ 401✓ 403·$/m);
    expect(stdout).toMatch(/^ {2}reinstallVps +POST \/api\/client\/vps\/\{id\}\/reinstall +200✓/m);
  });

  it("matches entries to an API by host with --host, and lists other hosts' entries as skipped", async () => {
    const { code, stdout } = await cli("verify", FIXTURE, "--host", `${mockHost}=cvm`, "--format", "json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.results.map((r: { entry: number; valid: boolean }) => [r.entry, r.valid])).toEqual([[0, true], [1, true], [2, true], [3, true]]);
    expect(report.skipped).toEqual([
      { file: FIXTURE, entry: 4, method: "GET", url: expect.stringMatching(/^http:\/\/localhost:\d+\/style\.css$/), host: expect.stringMatching(/^localhost:\d+$/), reason: expect.stringMatching(/^no API for host localhost:\d+ \(use --api <id> or --host localhost:\d+=<id>\)$/) },
    ]);
  });

  it("checks nothing without --api or --host for a host no contract names, and exits 2 saying so", async () => {
    const { code, stdout } = await cli("verify", FIXTURE);
    expect(code).toBe(2);
    expect(stdout).toContain(`SKIP  test/fixtures/har/cvm-chromium.har: 4 entries (0, 1, 2, 3): no API for host ${mockHost}`);
    expect(stdout).toContain(`ERROR no recording to check in ${FIXTURE} (found 5 HAR entries, all skipped) (--allow-empty to accept)`);
  });

  it("names the HAR file and entry index of a violation, in a body encoded as base64", async () => {
    const file = await editedCopy("session.har", (copy) => {
      const content = copy.log.entries[0]!.response.content;
      const body = JSON.parse(content.text!);
      body.response.vpses[0].cpu_count = 240;
      content.text = Buffer.from(JSON.stringify(body)).toString("base64");
      content.encoding = "base64";
    });
    const { code, stdout } = await cli("verify", file, "--api", "cvm");
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL {2}.*session\.har entry 0 {2}listVpses GET \/api\/client\/vps\/list 200$/m);
    expect(stdout).toContain("      $.response.vpses[0].cpu_count: must be string");
  });
});

describe("HAR files as other tools and servers write them", () => {
  it("reads JSON with log.entries whatever the file is named, and JSON sent with a byte-order mark as text/html", async () => {
    const file = await editedCopy("exported.json", (copy) => {
      const content = copy.log.entries[1]!.response.content;
      content.text = `\ufeff${content.text}`; // CVM's PHP
      content.mimeType = "text/html; charset=UTF-8";
    });
    const { code, stdout } = await cli("verify", file, "--api", "cvm", "--strict");
    expect(stdout).toContain("4 valid, 0 violating");
    expect(code).toBe(0);
  });

  it("skips entries that got no answer and CORS preflights, and reports an answer labelled JSON that is not, by entry", async () => {
    const file = await editedCopy("broken.har", (copy) => {
      copy.log.entries[1]!.response.status = 0; // blocked or cancelled in the browser
      copy.log.entries[2]!.request.method = "OPTIONS"; // a preflight, as mitmproxy records it
      copy.log.entries[3]!.response.content.text = '{"errors": [';
    });
    const { code, stdout } = await cli("verify", file, "--api", "cvm");
    expect(code).toBe(2);
    expect(stdout).toMatch(/^SKIP {2}.*broken\.har: 1 entry \(1\): no answer \(request blocked, cancelled or failed\)$/m);
    expect(stdout).toMatch(/^SKIP {2}.*broken\.har: 1 entry \(2\): CORS preflight \(OPTIONS\), not an API call$/m);
    expect(stdout).toMatch(/^ERROR .*broken\.har entry 3: answer labelled application\/json is not JSON: /m);
  });

  it("reports a body nested too deep by HAR file and entry, and checks the other entries", async () => {
    const file = await editedCopy("deep.har", (copy) => {
      copy.log.entries[0]!.response.content.text = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    });
    const { code, stdout } = await cli("verify", file, "--api", "cvm", "--strict");
    expect(code).toBe(2);
    expect(stdout).toMatch(/^ERROR .*deep\.har entry 0: body nests 100,000 levels deep/m);
    expect(stdout).toContain("3 valid, 0 violating, 1 unreadable or unmatched");
  });
});
