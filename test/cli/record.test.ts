/**
 * `cloud-contracts record` end to end: the bin proxies a real client to a fake CVM on loopback,
 * the recordings carry no token, and `verify` accepts them against the contract.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    const authorized = request.headers["api-public-token"] === PUBLIC && request.headers["api-private-token"] === PRIVATE;
    response.writeHead(authorized ? 200 : 401, { "Content-Type": "application/json" });
    response.end(JSON.stringify(authorized ? list : { errors: ["No valid API token pair was specified."] }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  target = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  out = await mkdtemp(join(tmpdir(), "cloud-contracts-record-"));
});
afterAll(async () => {
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await rm(out, { recursive: true, force: true });
});

describe("cloud-contracts record", () => {
  it("records a client's exchanges, redacts the tokens, and the recordings verify", async () => {
    const child = spawn(process.execPath, [join(ROOT, "dist/cli.js"), "record", "--api", "cvm", "--target", target, "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    try {
      const proxyUrl = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", () => {
          const match = /send requests to (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match) resolve(match[1]!);
        });
        child.on("exit", () => reject(new Error(`record exited early: ${output}`)));
      });
      const cvm = createCvmClient({ baseUrl: proxyUrl, publicToken: PUBLIC, privateToken: PRIVATE });
      expect((await cvm.GET("/api/client/vps/list")).response.status).toBe(200);
      const anonymous = createCvmClient({ baseUrl: proxyUrl, publicToken: "wrong", privateToken: "wrong" });
      await expect(anonymous.GET("/api/client/vps/list")).rejects.toMatchObject({ name: "CvmApiError", status: 401 });
    } finally {
      child.kill("SIGINT");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    expect(child.exitCode).toBe(0);

    const files = (await readdir(out)).sort();
    expect(files).toEqual(["0001-get-api-client-vps-list-200.json", "0002-get-api-client-vps-list-401.json"]);
    const bytes = (await Promise.all(files.map((file) => readFile(join(out, file), "utf8")))).join("\n");
    expect(bytes).not.toContain(PUBLIC);
    expect(bytes).not.toContain(PRIVATE);
    expect(bytes).toContain("[REDACTED]");

    const verify = await promisify(execFile)(process.execPath, [join(ROOT, "dist/cli.js"), "verify", out, "--api", "cvm", "--strict"]).catch((e: { code: number; stdout: string }) => e);
    expect(verify.stdout).toContain("2 valid, 0 violating");
  });
});
