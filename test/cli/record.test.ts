/**
 * `cloud-contracts record` end to end: the bin proxies a real client to a fake CVM on loopback,
 * the recordings carry no token, and `verify` accepts them against the contract.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCvmClient } from "../../src/clients/cvm.ts";
import { readRecording } from "../support/recordings.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PUBLIC = "public-canary-5a1d";
const PRIVATE = "private-canary-88c0";

let upstream: Server;
let target: string;
let out: string;

beforeAll(async () => {
  const list = readRecording("cvm", "list-valid-newer.json").response.body;
  upstream = createServer((request, response) => {
    if (request.url === "/api/client/vps/1") {
      // An answer that never ends: the headers, then nothing more.
      response.writeHead(200, { "Content-Type": "application/json" });
      response.write('{"response": {');
      return;
    }
    const authorized = request.headers["api-public-token"] === PUBLIC && request.headers["api-private-token"] === PRIVATE;
    response.writeHead(authorized ? 200 : 401, { "Content-Type": "application/json" });
    response.end(JSON.stringify(authorized ? list : { errors: ["No valid API token pair was specified."] }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  target = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  out = await mkdtemp(join(tmpdir(), "cloud-contracts-record-"));
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await rm(out, { recursive: true, force: true });
});

/** Runs `cloud-contracts record` in a child process; resolves once it says where to send requests. */
async function startRecord(...args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, "dist/cli.js"), "record", "--api", "cvm", "--target", target, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const proxyUrl = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const match = /send requests to (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`record exited early: ${output}`)));
  });
  /** Sends one Ctrl-C and resolves with the exit code. */
  const interrupt = () => {
    child.kill("SIGINT");
    return exited;
  };
  return { proxyUrl, interrupt, output: () => output };
}

/** Both calls of the session: the list with the token pair (200), and with a wrong pair (401). */
async function callThrough(proxyUrl: string) {
  const cvm = createCvmClient({ baseUrl: proxyUrl, publicToken: PUBLIC, privateToken: PRIVATE });
  expect((await cvm.GET("/api/client/vps/list")).response.status).toBe(200);
  const anonymous = createCvmClient({ baseUrl: proxyUrl, publicToken: "wrong", privateToken: "wrong" });
  await expect(anonymous.GET("/api/client/vps/list")).rejects.toMatchObject({ name: "CvmApiError", status: 401 });
}

describe("cloud-contracts record", () => {
  it("records a client's exchanges, redacts the tokens, and the recordings verify", async () => {
    const record = await startRecord("--out", out);
    try {
      await callThrough(record.proxyUrl);
    } finally {
      expect(await record.interrupt()).toBe(0);
    }

    const files = (await readdir(out)).sort();
    expect(files).toEqual(["0001-get-api-client-vps-list-200.json", "0002-get-api-client-vps-list-401.json"]);
    const bytes = (await Promise.all(files.map((file) => readFile(join(out, file), "utf8")))).join("\n");
    expect(bytes).not.toContain(PUBLIC);
    expect(bytes).not.toContain(PRIVATE);
    expect(bytes).toContain("[REDACTED]");

    const verify = await promisify(execFile)(process.execPath, [join(ROOT, "dist/cli.js"), "verify", out, "--api", "cvm", "--strict"]).catch((e: { code: number; stdout: string }) => e);
    expect(verify.stdout).toContain("2 valid, 0 violating");
  });

  it("writes one HAR file with --format har, without the tokens, that verify reads back", async () => {
    const har = join(out, "..", `${basename(out)}-session.har`);
    const record = await startRecord("--out", har, "--format", "har");
    try {
      await callThrough(record.proxyUrl);
    } finally {
      expect(await record.interrupt()).toBe(0);
    }
    expect(record.output()).toContain(`recorded ${har} (entry 1)`);
    const bytes = await readFile(har, "utf8");
    expect(bytes).not.toContain(PUBLIC);
    expect(bytes).not.toContain(PRIVATE);
    expect(JSON.parse(bytes).log.entries.map((entry: { response: { status: number } }) => entry.response.status)).toEqual([200, 401]);
    const verify = await promisify(execFile)(process.execPath, [join(ROOT, "dist/cli.js"), "verify", har, "--api", "cvm", "--strict"]).catch((e: { code: number; stdout: string }) => e);
    expect(verify.stdout).toContain("2 valid, 0 violating, 0 unreadable or unmatched (2 recordings and HAR entries)");
    await rm(har);
  });

  it("stops on one Ctrl-C while an upstream answer never ends, keeping what was recorded", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cloud-contracts-record-endless-"));
    const record = await startRecord("--out", dir);
    let cutOff: Promise<string> | undefined;
    try {
      await callThrough(record.proxyUrl);
      // The answer starts (its headers reach the client) and then never ends.
      await new Promise<void>((started, failed) => {
        const request = httpRequest(`${record.proxyUrl}/api/client/vps/1`, { agent: false }, (response) => {
          cutOff = new Promise<string>((resolve) => {
            response.on("error", (error) => resolve(error.message));
            response.on("end", () => resolve("ended"));
          });
          response.resume();
          started();
        });
        request.on("error", failed);
        request.end();
      });
    } finally {
      expect(await record.interrupt()).toBe(0);
    }
    expect(await cutOff).not.toBe("ended");
    expect((await readdir(dir)).sort()).toEqual(["0001-get-api-client-vps-list-200.json", "0002-get-api-client-vps-list-401.json"]);
    await rm(dir, { recursive: true, force: true });
  });
});
