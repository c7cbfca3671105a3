/**
 * The recorder stays bounded whatever the upstream or the client sends: a gzip bomb, an answer or
 * a request larger than it holds, an upstream that never answers or never finishes. Each ends in
 * a clear error, nothing half-recorded, and the client still gets what could be forwarded.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRecordingProxy, type RecordingProxyOptions } from "../../src/record/proxy.ts";

const MiB = 1024 * 1024;

/** 256 MiB of zeros, gzipped (about 256 KiB): a small answer that decodes to far more than the recorder holds. */
async function gzipBomb(): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => chunks.push(chunk));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < 256; i++) if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once("drain", resolve));
  await new Promise((resolve) => gzip.end(resolve));
  return Buffer.concat(chunks);
}

let bomb: Buffer;
let upstream: Server;
let upstreamUrl: string;
/** Upstream requests still open (the endless ones), to see that the proxy hangs up on them. */
const openUpstream = new Set<IncomingMessage>();
const uploads: number[] = [];

beforeAll(async () => {
  bomb = await gzipBomb();
  upstream = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url!, "http://x").pathname;
    openUpstream.add(request);
    response.on("close", () => openUpstream.delete(request));
    let received = 0;
    request.on("data", (chunk: Buffer) => (received += chunk.length));
    request.on("end", () => {
      uploads.push(received);
      if (path === "/bomb") response.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" }).end(bomb);
      else if (path === "/big") response.writeHead(200, { "Content-Type": "application/json" }).end(`[${"1,".repeat(MiB)}1]`);
      else if (path === "/silent") return; // never answers
      else if (path === "/endless") {
        response.writeHead(200, { "Content-Type": "application/json" });
        response.write('{"items": [');
      } else response.writeHead(200, { "Content-Type": "application/json" }).end('{"ok": true}');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
});

const outDirs: string[] = [];
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await Promise.all(outDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function startProxy(options: Partial<RecordingProxyOptions> = {}) {
  const outDir = await mkdtemp(join(tmpdir(), "record-limits-"));
  outDirs.push(outDir);
  const errors: string[] = [];
  const proxy = await startRecordingProxy({ api: "cloud66", target: upstreamUrl, outDir, onError: (error) => errors.push(error.message), ...options });
  return { proxy, outDir, errors };
}

interface Answer { status?: number; body: Buffer; error?: string }

/** A raw request; resolves with what arrived, also when the connection breaks. */
function send(url: string, init: { method?: string; body?: Buffer } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const request = httpRequest(url, { method: init.method ?? "GET", agent: false }, (response) => {
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
      response.on("error", (error) => resolve({ status: response.statusCode, body: Buffer.concat(chunks), error: error.message }));
    });
    request.on("error", (error) => resolve({ body: Buffer.concat(chunks), error: error.message }));
    request.end(init.body);
  });
}

describe("bodies larger than the recorder holds", () => {
  it("forwards a gzip bomb as it came, decodes no more than maxBodyBytes of it, and records nothing", async () => {
    const { proxy, outDir, errors } = await startProxy({ maxBodyBytes: MiB });
    const answer = await send(`${proxy.url}/bomb`);
    await proxy.close();
    expect(answer.status).toBe(200);
    expect(answer.body.equals(bomb)).toBe(true);
    expect(errors).toEqual(["the answer to GET /bomb, decoded (gzip), is larger than 1,048,576 bytes (--max-body-bytes): forwarded, not recorded"]);
    expect(await readdir(outDir)).toEqual([]);
  });

  it("forwards an answer larger than maxBodyBytes whole, and records nothing", async () => {
    const { proxy, outDir, errors } = await startProxy({ maxBodyBytes: MiB });
    const answer = await send(`${proxy.url}/big?token=abc`);
    await proxy.close();
    expect(answer.body.length).toBe(2 * MiB + 3);
    expect(errors).toEqual(["the answer to GET /big is larger than 1,048,576 bytes (--max-body-bytes): forwarded, not recorded"]);
    expect(await readdir(outDir)).toEqual([]);
  });

  it("refuses a request body larger than maxBodyBytes with 413, without forwarding it", async () => {
    const { proxy, outDir, errors } = await startProxy({ maxBodyBytes: 64 * 1024 });
    uploads.length = 0;
    const answer = await send(`${proxy.url}/upload`, { method: "POST", body: Buffer.alloc(256 * 1024, 1) });
    const small = await send(`${proxy.url}/upload`, { method: "POST", body: Buffer.alloc(1024, 1) });
    await proxy.close();
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body.toString("utf8")).message).toContain("request bodies up to 65536 bytes (--max-body-bytes)");
    expect(small.status).toBe(200);
    expect(uploads).toEqual([1024]); // only the small one reached the upstream
    expect(errors).toEqual(["the request body of POST /upload is larger than 65,536 bytes (--max-body-bytes): refused (413), not forwarded"]);
    expect(await readdir(outDir)).toHaveLength(1);
  });
});

describe("an upstream that does not finish", () => {
  it("answers 504 when no answer comes within upstreamTimeoutMs, hangs up upstream, and records nothing", async () => {
    const { proxy, outDir, errors } = await startProxy({ upstreamTimeoutMs: 300 });
    const answer = await send(`${proxy.url}/silent`);
    await proxy.close();
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body.toString("utf8"))).toEqual({ error: "Gateway Timeout", message: `cloud-contracts record got no complete answer from ${upstreamUrl} within 300 ms` });
    expect(errors).toEqual([`GET /silent: no complete answer from ${upstreamUrl} within 300 ms (--upstream-timeout): not recorded`]);
    await expect.poll(() => openUpstream.size).toBe(0);
    expect(await readdir(outDir)).toEqual([]);
  });

  it("cuts off an answer that never ends at upstreamTimeoutMs, and records nothing", async () => {
    const { proxy, outDir } = await startProxy({ upstreamTimeoutMs: 300 });
    const answer = await send(`${proxy.url}/endless`);
    await proxy.close();
    expect(answer.status).toBe(200);
    expect(answer.body.toString("utf8")).toBe('{"items": [');
    expect(answer.error).toBeDefined(); // the client sees the answer end early, not complete
    expect(await readdir(outDir)).toEqual([]);
  });

  it("close({ abort: true }) ends exchanges under way at once, and keeps what was recorded", async () => {
    const { proxy, outDir } = await startProxy(); // default timeout: two minutes
    await send(`${proxy.url}/done`);
    const endless = send(`${proxy.url}/endless`);
    await expect.poll(() => openUpstream.size).toBe(1);
    await proxy.close({ abort: true });
    expect((await endless).error).toBeDefined();
    await expect.poll(() => openUpstream.size).toBe(0);
    expect(await readdir(outDir)).toEqual(["0001-get-done-200.json"]);
  });
});
