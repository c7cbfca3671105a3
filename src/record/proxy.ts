/**
 * A local recording proxy: point a client at it instead of the vendor, and every exchange is
 * forwarded untouched and written to `outDir` as a recording (the format of test/recordings/, plus
 * headers), or to `harFile` as an entry of one HAR file, with every secret redacted before
 * anything reaches the disk (redact.ts says how).
 *
 *   const proxy = await startRecordingProxy({ api: "cloud66", target: "https://app.cloud66.com", outDir: "rec" });
 *   // client baseUrl: `${proxy.url}/api/3`
 *   await proxy.close();
 *
 * The proxy is written on node:http rather than taken from a library (http-proxy and friends):
 * the package takes no new dependencies, and a recorder needs to hold each body while forwarding
 * its exact bytes, which is about as much code as configuring a library's hooks. node:http rather
 * than fetch because fetch decodes gzip/br answers and normalises headers, so the client would
 * not get the upstream's answer byte for byte.
 *
 * Bounded, whatever the upstream or the client does:
 *   - bodies are held in memory while they pass (the recording needs them whole), up to
 *     `maxBodyBytes` each, decoded size included: a larger request is refused (413), a larger
 *     answer is forwarded whole but not recorded, and a gzip bomb stops decoding at the limit;
 *   - an exchange the upstream has not answered in full within `upstreamTimeoutMs` is ended
 *     (504 when nothing was sent to the client yet) and not recorded;
 *   - `close({ abort: true })` (what Ctrl-C does) cuts exchanges under way instead of waiting.
 */
import { readFileSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { join } from "node:path";
import { pipeline } from "node:stream";
import { getApi } from "../apis.js";
import { writeFileAtomic } from "../atomic.js";
import { harEntry, openHarWriter } from "./har.js";
import { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES, redact, type CapturedExchange, type RecordedHeaders, type Recording } from "./redact.js";

/** Default for `upstreamTimeoutMs`: two minutes, for an exchange from sending it to the end of its answer. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 120_000;

export interface RecordingProxyOptions {
  /** API id, e.g. "cloud66" (written into each recording's `source`). */
  api: string;
  /** Real base URL, e.g. "https://app.cloud66.com"; its path is prefixed to every request path. */
  target: string;
  /** Folder receiving one JSON file per exchange; created when missing. Give this or `harFile`. */
  outDir?: string;
  /** HAR file receiving one entry per exchange (continued when it exists). Give this or `outDir`. */
  harFile?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Largest body held for a recording, raw or decoded, in bytes (default 32 MiB). */
  maxBodyBytes?: number;
  /** Longest an exchange may take upstream, from sending it to the end of its answer (default 120,000 ms). */
  upstreamTimeoutMs?: number;
  /** Called once an exchange is on disk: with the recording's path, or the HAR file's and the entry's index. */
  onRecord?: (file: string, entry?: number) => void;
  /**
   * Called when an exchange was not recorded (it was still forwarded as far as it went): a body
   * too large, an upstream timeout, a write that failed. Default: a one-line message on stderr.
   */
  onError?: (error: Error) => void;
}

export interface RecordingProxy {
  /** `http://<host>:<port>`, without a trailing slash. */
  url: string;
  port: number;
  /**
   * Stops accepting and waits until every recording is on disk. Exchanges under way are let
   * finish (each within `upstreamTimeoutMs`), or with `abort: true` cut off and not recorded.
   */
  close(options?: { abort?: boolean }): Promise<void>;
}

/** RFC 9110 section 7.6.1: meaningful for one connection only, so never forwarded. */
const HOP_BY_HOP = new Set(["connection", "proxy-connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]);

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** `0001-get-api-3-stacks-200.json`: sequence, method, path without its query, status. */
export function recordingFileName(sequence: number, method: string, path: string, status: number): string {
  const slug =
    (path.split(/[?#]/)[0] ?? "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .slice(0, 80)
      .replace(/^-+|-+$/g, "") || "root";
  const verb = method.toLowerCase().replace(/[^a-z0-9]+/g, "") || "request";
  return `${String(sequence).padStart(4, "0")}-${verb}-${slug}-${status}.json`;
}

const RECORDING_NAME = /^(\d+)-.+-\d{3}\.json$/;

/** Highest sequence already in `dir`, so that a second session adds files instead of replacing them. */
async function lastSequence(dir: string): Promise<number> {
  const names = await readdir(dir);
  return names.reduce((max, name) => Math.max(max, Number(RECORDING_NAME.exec(name)?.[1] ?? 0)), 0);
}

interface TargetUrl {
  origin: string;
  protocol: "http:" | "https:";
  hostname: string;
  port: number | undefined;
  /** The target's path without a trailing slash ("" for none), prefixed to every request path. */
  prefix: string;
}

function parseTarget(target: string): TargetUrl {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new Error(`--target: "${target}" is not a URL (expected e.g. https://app.cloud66.com).`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`--target: expected an http or https URL, got ${url.protocol}`);
  // Credentials in the target would be sent on every request and could end up in `source`;
  // the client sends its own credentials, which the proxy forwards.
  if (url.username || url.password) throw new Error("--target: give credentials to the client, not in the target URL.");
  if (url.search || url.hash) throw new Error("--target: expected a base URL without query or fragment.");
  return {
    origin: url.origin,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ""), // node:http wants an IPv6 literal without brackets
    port: url.port ? Number(url.port) : undefined,
    prefix: url.pathname.replace(/\/+$/, ""),
  };
}

/**
 * Node's flat rawHeaders ([name, value, name, value, …]) grouped by name, without hop-by-hop
 * headers, those the Connection header names, and `drop`. Names keep the case they were sent in.
 */
function endToEndHeaders(rawHeaders: readonly string[], drop: readonly string[] = []): [string, string[]][] {
  const byName = new Map<string, [string, string[]]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const entry = byName.get(name.toLowerCase());
    if (entry) entry[1].push(rawHeaders[i + 1]!);
    else byName.set(name.toLowerCase(), [name, [rawHeaders[i + 1]!]]);
  }
  const listed = (byName.get("connection")?.[1] ?? []).flatMap((value) => value.split(",")).map((token) => token.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...listed, ...drop]) byName.delete(name);
  return [...byName.values()];
}

const outgoing = (headers: [string, string[]][]) =>
  Object.fromEntries(headers.map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
const recorded = (headers: [string, string[]][]): RecordedHeaders =>
  Object.fromEntries(headers.map(([name, values]) => [name.toLowerCase(), values.length === 1 ? values[0]! : values]));

/** The path a request addresses: origin-form as is; absolute-form (`GET http://h/p`) reduced to its path. */
function requestPath(url: string): string {
  if (url.startsWith("/")) return url;
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return `/${url}`;
  }
}

/**
 * Reads a request body whole, up to `limit` bytes. Past the limit it stops reading (the request
 * is left paused, to be refused); `gone` when the client went away first.
 */
function readBody(request: IncomingMessage, limit: number): Promise<{ body: Buffer } | { tooLarge: true } | { gone: true }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      request.off("data", onData);
      request.pause();
      chunks.length = 0;
      resolve({ tooLarge: true });
    };
    request.on("data", onData);
    request.on("end", () => resolve({ body: Buffer.concat(chunks) }));
    // After "end" this changes nothing (a promise settles once); before it, the client is gone.
    request.on("close", () => resolve({ gone: true }));
    request.on("error", () => resolve({ gone: true }));
  });
}

/** A short JSON error answer of the proxy's own. Never quotes a header: headers hold secrets. */
function answerError(response: ServerResponse, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message });
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Connection: "close" }).end(body);
}

/** Where exchanges go: one JSON file each in a folder, or one HAR file. */
interface Sink {
  /** Writes an exchange; resolves with what onRecord is told. */
  write(recording: Omit<Recording, "source">, startedAt: Date, durationMs: number): Promise<[string, number?]>;
}

async function folderSink(outDir: string, source: (startedAt: Date) => string): Promise<Sink> {
  await mkdir(outDir, { recursive: true });
  let sequence = await lastSequence(outDir);
  return {
    async write(recording, startedAt) {
      // The sequence is taken when the exchange completes, so exchanges that fail (502) leave no gap.
      const name = recordingFileName(++sequence, recording.request.method, recording.request.path, recording.response.status);
      const file = join(outDir, name);
      await writeFileAtomic(file, `${JSON.stringify({ ...recording, source: source(startedAt) }, null, 2)}\n`);
      return [file];
    },
  };
}

async function harSink(harFile: string, api: string, origin: string): Promise<Sink> {
  const writer = await openHarWriter(harFile, {
    creator: { name: "cloud-contracts record", version: PACKAGE_VERSION },
    comment: `recorded from ${origin} by cloud-contracts record (${api}); secrets redacted`,
  });
  return {
    async write(recording, startedAt, durationMs) {
      return [harFile, await writer.add(harEntry(recording, origin, startedAt, durationMs))];
    },
  };
}

/** The request's path without query or fragment, for messages: a query may hold a secret. */
const bare = (method: string, path: string) => `${method} ${path.split(/[?#]/)[0]}`;

export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  const api = getApi(options.api).id;
  const target = parseTarget(options.target);
  if ((options.outDir === undefined) === (options.harFile === undefined)) throw new Error("give either outDir (recordings) or harFile (HAR), not both or neither.");
  const maxBodyBytes = positive(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, "maxBodyBytes");
  const upstreamTimeoutMs = positive(options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS, "upstreamTimeoutMs");
  const host = options.host ?? "127.0.0.1";
  const onError = options.onError ?? ((error: Error) => console.error(`cloud-contracts record: ${error.message}`));
  const sink = options.harFile !== undefined
    ? await harSink(options.harFile, api, target.origin)
    : await folderSink(options.outDir!, (startedAt) => `recorded from ${target.origin} by cloud-contracts record (${api}) at ${startedAt.toISOString()}`);

  const transport = target.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: true });
  /** Exchanges under way, and recordings being written: close() waits for both. */
  const inFlight = new Set<Promise<void>>();
  const writes = new Set<Promise<void>>();
  /** What close({ abort: true }) cuts: each exchange's upstream request and client answer. */
  const open = new Set<{ upstream?: ClientRequest; response: ServerResponse }>();
  const track = (set: Set<Promise<void>>, work: Promise<void>) => {
    set.add(work);
    const done = () => void set.delete(work);
    work.then(done, done);
  };

  function record(exchange: CapturedExchange, startedAt: Date): void {
    let recording: Omit<Recording, "source">;
    try {
      recording = redact(exchange, { maxBodyBytes });
    } catch (error) {
      onError(error as Error);
      return;
    }
    const durationMs = Date.now() - startedAt.getTime();
    track(
      writes,
      sink.write(recording, startedAt, durationMs).then(
        ([file, entry]) => options.onRecord?.(file, entry),
        (error: Error) => onError(new Error(`could not write ${bare(recording.request.method, recording.request.path)}: ${error.message}`)),
      ).catch((error: Error) => onError(error)), // an onRecord that throws
    );
  }

  /** Forwards one exchange; resolves once it is answered and its recording (if any) is under way. */
  async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = new Date();
    const path = target.prefix + requestPath(request.url ?? "/");
    const method = request.method ?? "GET";
    const exchange: { upstream?: ClientRequest; response: ServerResponse } = { response };
    open.add(exchange);
    try {
      const read = await readBody(request, maxBodyBytes);
      if ("gone" in read) return void response.destroy(); // the client went away mid-request
      if ("tooLarge" in read) {
        onError(new BodyTooLargeError(maxBodyBytes, `the request body of ${bare(method, path)}`, "refused (413), not forwarded"));
        // The rest of the body is never read: the connection ends with the answer.
        response.on("finish", () => request.socket.destroy());
        answerError(response, 413, "Payload Too Large", `cloud-contracts record holds request bodies up to ${maxBodyBytes} bytes (--max-body-bytes); this one was not forwarded.`);
        return;
      }
      await exchangeWithUpstream(request, response, exchange, { method, path, body: read.body, startedAt });
    } finally {
      open.delete(exchange);
    }
  }

  function exchangeWithUpstream(
    request: IncomingMessage, response: ServerResponse, exchange: { upstream?: ClientRequest },
    { method, path, body, startedAt }: { method: string; path: string; body: Buffer; startedAt: Date },
  ): Promise<void> {
    // `host` is dropped so that node:http sends the target's own. Proxy-Authorization is passed
    // on like any other header: RFC 9110 no longer counts it hop-by-hop, this proxy expects no
    // credentials of its own, and the upstream must get exactly what the client sent.
    const requestHeaders = endToEndHeaders(request.rawHeaders, ["host"]);
    const headers = outgoing(requestHeaders);
    // A chunked request body (Transfer-Encoding is hop-by-hop) goes on with its length instead.
    if (body.length > 0 && !requestHeaders.some(([name]) => name.toLowerCase() === "content-length")) {
      headers["Content-Length"] = String(body.length);
    }

    return new Promise<void>((resolve) => {
      const upstream = transport.request({ protocol: target.protocol, hostname: target.hostname, port: target.port, method, path, headers, agent });
      exchange.upstream = upstream;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        onError(new Error(`${bare(method, path)}: no complete answer from ${target.origin} within ${upstreamTimeoutMs} ms (--upstream-timeout): not recorded`));
        if (response.headersSent || response.destroyed) response.destroy();
        else answerError(response, 504, "Gateway Timeout", `cloud-contracts record got no complete answer from ${target.origin} within ${upstreamTimeoutMs} ms`);
        upstream.destroy();
        resolve();
      }, upstreamTimeoutMs);
      const finish = () => {
        clearTimeout(timer);
        resolve();
      };

      upstream.on("response", (answer) => {
        const answerHeaders = endToEndHeaders(answer.rawHeaders);
        const status = answer.statusCode ?? 502;
        response.writeHead(status, answer.statusMessage, outgoing(answerHeaders));
        // Held for the recording up to maxBodyBytes; past it, forwarded only.
        let chunks: Buffer[] | undefined = [];
        let size = 0;
        answer.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) chunks = undefined;
          else chunks?.push(chunk);
        });
        pipeline(answer, response, (error) => {
          // An answer cut short (upstream or client gone, timeout) is not a whole exchange: not recorded.
          if (!error && answer.complete && !timedOut) {
            if (!chunks) onError(new BodyTooLargeError(maxBodyBytes, `the answer to ${bare(method, path)}`));
            else {
              record(
                {
                  request: { method, path, headers: recorded(requestHeaders), body },
                  response: { status, headers: recorded(answerHeaders), body: Buffer.concat(chunks) },
                },
                startedAt,
              );
            }
          }
          finish();
        });
      });
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        if (timedOut) return;
        if (response.headersSent || response.destroyed) {
          response.destroy();
        } else {
          // Only the code and the origin: a message could quote a header, and headers hold secrets.
          const code = typeof error.code === "string" && /^[A-Z0-9_]+$/.test(error.code) ? error.code : "request failed";
          const message = JSON.stringify({ error: "Bad Gateway", message: `cloud-contracts record could not reach ${target.origin} (${code})` });
          response.writeHead(502, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(message) }).end(message);
        }
        finish();
      });
      // The client hung up before the answer was through: stop the upstream request too.
      response.on("close", () => {
        if (!response.writableFinished) {
          upstream.destroy();
          finish();
        }
      });
      upstream.end(body.length > 0 ? body : undefined);
    });
  }

  const server = http.createServer((request, response) => {
    track(inFlight, forward(request, response).catch((error: Error) => {
      onError(error);
      response.destroy();
    }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => {
      agent.destroy();
      reject(error);
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    async close({ abort = false } = {}) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (abort) {
        for (const { upstream, response } of open) {
          upstream?.destroy();
          response.destroy();
        }
      }
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      // Keep-alive connections that went idle after close() was called are ended here.
      server.closeAllConnections();
      await closed;
      while (writes.size > 0) await Promise.allSettled([...writes]);
      agent.destroy();
    },
  };
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new TypeError(`${name}: expected a positive number, got ${String(value)}.`);
  return value;
}
