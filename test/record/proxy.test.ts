/**
 * The recording proxy between a real client and a real upstream, both on loopback: what the
 * client gets and what the upstream receives are untouched, and no secret reaches the disk.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingFileName, startRecordingProxy, type RecordingProxy, type RecordingProxyOptions } from "../../src/record/proxy.ts";
import { isSecretHeader, redact, redactJson, redactUrlParams, REDACTED, scrubSecrets, type Recording } from "../../src/record/redact.ts";

/** A unique marker per position; letters and digits only, so no encoding can hide it from a byte search. */
const canary = (label: string) => `CANARY${label}${randomBytes(8).toString("hex")}`;
const C = {
  mcApiKey: canary("mcapikey"),
  bearer: canary("bearer"),
  publicToken: canary("publictoken"),
  privateToken: canary("privatetoken"),
  cookie: canary("cookie"),
  proxyUser: canary("proxyuser"),
  proxyPass: canary("proxypass"),
  xApiKey: canary("xapikey"),
  basicUser: canary("basicuser"),
  basicPass: canary("basicpass"),
  digestUser: canary("digestuser"),
  digestResponse: canary("digestresponse"),
  query: canary("query"),
  password: canary("password"),
  clientSecret: canary("clientsecret"),
  privateKey: canary("privatekey"),
  apiKey: canary("apikey"),
  setCookie: canary("setcookie"),
  respKey: canary("respkey"),
  respToken: canary("resptoken"),
  respLink: canary("resplink"),
  respPem: canary("resppem"),
  formToken: canary("formtoken"),
  gzipToken: canary("gziptoken"),
};
const ALL_CANARIES = Object.values(C);
const basic = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString("base64");

/** Every header the proxy must redact, each holding a canary. */
const SECRET_HEADERS = {
  "MC-Api-Key": C.mcApiKey,
  Authorization: `Bearer ${C.bearer}`,
  "API-Public-Token": C.publicToken,
  "API-Private-Token": C.privateToken,
  Cookie: `sid=${C.cookie}; theme=dark`,
  "Proxy-Authorization": `Basic ${basic(C.proxyUser, C.proxyPass)}`,
  "X-Api-Key": C.xApiKey,
};

// --- the fake upstream -------------------------------------------------------------------------

interface Seen { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }
const seen: Seen[] = [];
let lastAnswer = Buffer.alloc(0);
let upstream: Server;
let upstreamUrl: string;

const UPSTREAM_SET_COOKIES = [`session=${C.setCookie}; Path=/; HttpOnly`, "theme=dark; Path=/"];

beforeAll(async () => {
  upstream = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    seen.push({ method: request.method!, url: request.url!, headers: request.headers, body });
    const path = new URL(request.url!, "http://x").pathname;
    if (path.endsWith("/text")) {
      response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("plain answer, not JSON");
    } else if (path.endsWith("/empty")) {
      response.writeHead(204).end();
    } else if (path.endsWith("/form")) {
      response.writeHead(200, { "Content-Type": "application/x-www-form-urlencoded" }).end(`access_token=${C.formToken}&token_type=bearer`);
    } else if (path.endsWith("/gzip")) {
      lastAnswer = gzipSync(JSON.stringify({ name: "zipped", auth: { token: C.gzipToken } }));
      response.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" }).end(lastAnswer);
    } else {
      // Echoes what it received, plus secrets of its own at several depths.
      lastAnswer = Buffer.from(JSON.stringify({
        received: { method: request.method, url: request.url, headers: request.headers, body: body.toString("utf8") },
        message: `key ${request.headers["mc-api-key"] ?? "none"} accepted`,
        account: {
          name: "acme",
          apiKey: C.respKey,
          hasPassword: true,
          sessions: [{ id: 1, access_token: C.respToken }],
          privateKey: { pem: C.respPem, bits: 4096 },
        },
        pagination: { next: `https://vendor.example/api/3/stacks?page=2&access_token=${C.respLink}` },
      }));
      response.writeHead(201, { "Content-Type": "application/json", "Set-Cookie": UPSTREAM_SET_COOKIES, "X-Upstream": "fake" }).end(lastAnswer);
    }
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
});

const proxies: RecordingProxy[] = [];
const outDirs: string[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await Promise.all(outDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// --- helpers -----------------------------------------------------------------------------------

async function startProxy(options: Partial<RecordingProxyOptions> = {}) {
  const outDir = options.outDir ?? join(await mkdtemp(join(tmpdir(), "record-proxy-")), "out");
  outDirs.push(outDir);
  const recorded: string[] = [];
  const proxy = await startRecordingProxy({ api: "cloud66", target: upstreamUrl, outDir, onRecord: (file) => recorded.push(file), ...options });
  proxies.push(proxy);
  return { proxy, outDir, recorded };
}

interface Answer { status: number; headers: IncomingHttpHeaders; body: Buffer }

/** A raw node:http request: full control over headers (fetch refuses some) and no decompression. */
function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | string | Buffer[] } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on("error", reject);
    });
    request.on("error", reject);
    // An array is sent as separate chunks without Content-Length: Transfer-Encoding: chunked.
    if (Array.isArray(init.body)) for (const part of init.body) request.write(part);
    else if (init.body !== undefined) request.write(init.body);
    request.end();
  });
}

/** Every file under `dir` (names and bytes), hidden ones included. */
async function filesIn(dir: string): Promise<{ name: string; bytes: Buffer }[]> {
  const names = (await readdir(dir, { recursive: true })).sort();
  return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(dir, name)) })));
}

async function recordingsIn(dir: string): Promise<{ name: string; recording: Recording }[]> {
  return (await filesIn(dir)).map(({ name, bytes }) => ({ name, recording: JSON.parse(bytes.toString("utf8")) as Recording }));
}

const FILE_NAME = /^(\d{4})-[a-z]+-[a-z0-9-]+-\d{3}\.json$/;

// --- tests -------------------------------------------------------------------------------------

describe("secrets", () => {
  const requestBody = JSON.stringify(
    { name: "web", credentials: { password: C.password, nested: [{ client_secret: C.clientSecret, region: "eu" }] }, settings: { privateKey: C.privateKey, apiKey: C.apiKey } },
    null,
    3, // odd indentation: the upstream must get these exact bytes, not a re-serialisation
  );
  let outDir: string;
  let main: Answer;
  let mainSeen: Seen;
  let mainAnswer: Buffer;
  let gzip: Answer;
  let gzipAnswer: Buffer;

  beforeAll(async () => {
    const started = await startProxy();
    outDir = started.outDir;
    const { proxy } = started;
    seen.length = 0;
    main = await send(`${proxy.url}/api/3/stacks?api_key=${C.query}&name=x`, {
      method: "POST",
      headers: { ...SECRET_HEADERS, "Content-Type": "application/json" },
      body: requestBody,
    });
    mainSeen = seen[0]!;
    mainAnswer = lastAnswer;
    await send(`${proxy.url}/api/3/stacks`, { headers: { Authorization: `Basic ${basic(C.basicUser, C.basicPass)}` } });
    await send(`${proxy.url}/api/public/v1.0/groups`, {
      headers: { Authorization: `Digest username="${C.digestUser}", realm="MMS Public API", nonce="abc", uri="/api/public/v1.0/groups", response="${C.digestResponse}", qop=auth, nc=00000001, cnonce="x"` },
    });
    await send(`${proxy.url}/oauth/form`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `client_secret=${C.clientSecret}&grant_type=x` });
    gzip = await send(`${proxy.url}/api/3/gzip`, { headers: { "Accept-Encoding": "gzip" } });
    gzipAnswer = lastAnswer;
    await proxy.close();
  });

  it("gives the client the upstream's real answer: status, headers, body bytes", () => {
    expect(main.status).toBe(201);
    expect(main.body.equals(mainAnswer)).toBe(true);
    expect(main.headers["set-cookie"]).toEqual(UPSTREAM_SET_COOKIES);
    expect(main.headers["x-upstream"]).toBe("fake");
    expect(main.headers["content-type"]).toBe("application/json");
    // The answer carries every secret back, as the upstream sent it.
    const answer = JSON.parse(main.body.toString("utf8"));
    expect(answer.account.apiKey).toBe(C.respKey);
    expect(answer.received.headers.authorization).toBe(`Bearer ${C.bearer}`);
  });

  it("passes a compressed answer through still compressed, byte for byte", () => {
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(gzip.body.equals(gzipAnswer)).toBe(true);
    expect(JSON.parse(gunzipSync(gzip.body).toString("utf8")).auth.token).toBe(C.gzipToken);
  });

  it("forwards the real secrets, path, query and body unaltered", () => {
    expect(mainSeen.method).toBe("POST");
    expect(mainSeen.url).toBe(`/api/3/stacks?api_key=${C.query}&name=x`);
    for (const [name, value] of Object.entries(SECRET_HEADERS)) expect(mainSeen.headers[name.toLowerCase()]).toBe(value);
    expect(mainSeen.body.toString("utf8")).toBe(requestBody);
    expect(mainSeen.headers.host).toBe(new URL(upstreamUrl).host);
  });

  it("writes no canary, in any position, into any byte or name of any file under outDir", async () => {
    const files = await filesIn(outDir);
    expect(files).toHaveLength(5);
    for (const { name, bytes } of files) {
      for (const secret of ALL_CANARIES) {
        expect(name.includes(secret), `${secret} in file name ${name}`).toBe(false);
        expect(bytes.includes(secret), `${secret} in ${name}`).toBe(false);
      }
    }
    // The encoded forms too: Basic credentials are base64 on the wire.
    const everything = Buffer.concat(files.map((file) => file.bytes)).toString("utf8");
    expect(everything).not.toContain(basic(C.basicUser, C.basicPass));
    expect(everything).not.toContain(basic(C.proxyUser, C.proxyPass));
  });

  it("redacts values and keeps names and shape", async () => {
    const [post, basicAuth, digest, form, zipped] = (await recordingsIn(outDir)).map((r) => r.recording);
    const { request, response } = post!;
    expect(request.path).toBe(`/api/3/stacks?api_key=${REDACTED}&name=x`);
    for (const name of Object.keys(SECRET_HEADERS)) expect(request.headers[name.toLowerCase()]).toBe(REDACTED);
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.body).toEqual({
      name: "web",
      credentials: { password: REDACTED, nested: [{ client_secret: REDACTED, region: REDACTED }] },
      settings: { privateKey: REDACTED, apiKey: REDACTED },
    });
    expect(response.status).toBe(201);
    expect(response.headers["set-cookie"]).toEqual([REDACTED, REDACTED]);
    expect(response.headers["x-upstream"]).toBe("fake");
    const body = response.body as any;
    expect(body.account).toEqual({
      name: "acme",
      apiKey: REDACTED,
      hasPassword: true,
      sessions: [{ id: 1, access_token: REDACTED }],
      privateKey: { pem: REDACTED, bits: REDACTED },
    });
    expect(body.pagination.next).toBe(`https://vendor.example/api/3/stacks?page=2&access_token=${REDACTED}`);
    // Echoed where no name gives it away: found by value.
    expect(body.received.headers.authorization).toBe(REDACTED);
    expect(body.received.headers.cookie).toBe(REDACTED);
    expect(body.received.url).toBe(`/api/3/stacks?api_key=${REDACTED}&name=x`);
    expect(body.message).toBe(`key ${REDACTED} accepted`);
    expect(basicAuth!.request.headers.authorization).toBe(REDACTED);
    expect(digest!.request.headers.authorization).toBe(REDACTED);
    expect(form!.request.body).toBeUndefined();
    // `token_type` matches the secret-name pattern too: over-redaction is the safe side.
    expect(form!.response.body).toBe(`access_token=${REDACTED}&token_type=${REDACTED}`);
    expect(zipped!.response.body).toEqual({ name: "zipped", auth: { token: REDACTED } }); // decoded from gzip to be redacted
  });
});

describe("recordings", () => {
  it("writes one valid recording per exchange, named by sequence, method, path and status", async () => {
    const { proxy, outDir, recorded } = await startProxy();
    await send(`${proxy.url}/api/3/stacks`, { headers: { Authorization: "Bearer t0ken-value" } });
    await send(`${proxy.url}/api/3/stacks/5999b7/text`);
    await send(`${proxy.url}/api/3/stacks/5999b7/empty`, { method: "DELETE" });
    await send(`${proxy.url}/`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: '{"a":1}' });
    await proxy.close();

    const recordings = await recordingsIn(outDir);
    expect(recordings.map((r) => r.name)).toEqual([
      "0001-get-api-3-stacks-201.json",
      "0002-get-api-3-stacks-5999b7-text-200.json",
      "0003-delete-api-3-stacks-5999b7-empty-204.json",
      "0004-put-root-201.json",
    ]);
    expect(recorded).toEqual(recordings.map((r) => join(outDir, r.name)));
    for (const { name, recording } of recordings) {
      expect(name).toMatch(FILE_NAME);
      expect(Object.keys(recording)).toEqual(["request", "response", "source"]);
      expect(Object.keys(recording.request).slice(0, 3)).toEqual(["method", "path", "headers"]);
      expect(Object.keys(recording.response)).toEqual(["status", "headers", "body"]);
      const source = /^recorded from (\S+) by cloud-contracts record \(cloud66\) at (\S+)$/.exec(recording.source);
      expect(source?.[1]).toBe(upstreamUrl);
      expect(new Date(source![2]!).toISOString()).toBe(source![2]);
    }
    const [json, text, empty, put] = recordings.map((r) => r.recording);
    expect(json!.request).toMatchObject({ method: "GET", path: "/api/3/stacks" });
    expect(json!.request.body).toBeUndefined();
    expect(text!.response).toMatchObject({ status: 200, body: "plain answer, not JSON" });
    expect(text!.response.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(empty!.request.method).toBe("DELETE");
    expect(empty!.response).toMatchObject({ status: 204, body: null });
    expect(put!.request.body).toEqual({ a: 1 });
  });

  it("puts each recording on disk, whole, while the session goes on, and leaves no temporary file", async () => {
    const { proxy, outDir, recorded } = await startProxy();
    await send(`${proxy.url}/api/3/stacks`);
    await expect.poll(() => recorded.length).toBe(1);
    // Still running: what an interrupted session would keep.
    expect(JSON.parse(await readFile(recorded[0]!, "utf8")).response.status).toBe(201);

    await Promise.all(Array.from({ length: 24 }, (_, i) => send(`${proxy.url}/api/3/stacks/${i}`)));
    await proxy.close();
    const names = (await readdir(outDir)).sort();
    expect(names).toHaveLength(25);
    for (const name of names) expect(name).toMatch(FILE_NAME);
    expect(names.map((name) => Number(FILE_NAME.exec(name)![1]))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it("continues the sequence of a folder that already holds recordings instead of replacing them", async () => {
    const first = await startProxy();
    await send(`${first.proxy.url}/api/3/stacks`);
    await first.proxy.close();
    await writeFile(join(first.outDir, "notes.txt"), "not a recording");
    const second = await startProxy({ outDir: first.outDir });
    await send(`${second.proxy.url}/api/3/stacks`);
    await second.proxy.close();
    expect((await readdir(first.outDir)).sort()).toEqual(["0001-get-api-3-stacks-201.json", "0002-get-api-3-stacks-201.json", "notes.txt"]);
  });

  it("creates a missing outDir, nested", async () => {
    const base = await mkdtemp(join(tmpdir(), "record-proxy-"));
    const { proxy, outDir } = await startProxy({ outDir: join(base, "a", "b") });
    await send(`${proxy.url}/x`);
    await proxy.close();
    expect(await readdir(outDir)).toEqual(["0001-get-x-201.json"]);
    await rm(base, { recursive: true, force: true });
  });
});

describe("forwarding", () => {
  it("joins the target's path prefix and the request path", async () => {
    const { proxy, outDir } = await startProxy({ target: `${upstreamUrl}/api/3/` });
    seen.length = 0;
    const answer = await send(`${proxy.url}/stacks?page=2`);
    await proxy.close();
    expect(answer.status).toBe(201);
    expect(seen[0]!.url).toBe("/api/3/stacks?page=2");
    const [only] = await recordingsIn(outDir);
    expect(only!.name).toBe("0001-get-api-3-stacks-201.json");
    expect(only!.recording.request.path).toBe("/api/3/stacks?page=2");
  });

  it("forwards a POST body intact: binary, chunked, 256 KiB", async () => {
    const { proxy, outDir } = await startProxy();
    const part = () => randomBytes(128 * 1024);
    const parts = [part(), part()];
    seen.length = 0;
    const answer = await send(`${proxy.url}/upload`, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: parts });
    await proxy.close();
    expect(answer.status).toBe(201);
    expect(seen[0]!.body.equals(Buffer.concat(parts))).toBe(true);
    const [only] = await recordingsIn(outDir);
    expect(only!.recording.request.body).toBeUndefined(); // not JSON: omitted
  });

  it("answers 502 with a short JSON error when the target is unreachable, and records nothing", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const { proxy, outDir, recorded } = await startProxy({ target: deadUrl });
    const answer = await send(`${proxy.url}/api/3/stacks?api_key=${C.query}`, { headers: SECRET_HEADERS });
    await proxy.close();
    expect(answer.status).toBe(502);
    expect(answer.headers["content-type"]).toBe("application/json");
    const error = JSON.parse(answer.body.toString("utf8"));
    expect(error).toEqual({ error: "Bad Gateway", message: `cloud-contracts record could not reach ${deadUrl} (ECONNREFUSED)` });
    for (const secret of ALL_CANARIES) expect(answer.body.includes(secret)).toBe(false);
    expect(recorded).toEqual([]);
    expect(await readdir(outDir)).toEqual([]);
  });

  it("refuses a target that is not a plain http(s) base URL, and an unknown API id", async () => {
    const outDir = join(tmpdir(), "never-created");
    await expect(startRecordingProxy({ api: "cloud66", target: "ftp://x", outDir })).rejects.toThrow(/http or https/);
    await expect(startRecordingProxy({ api: "cloud66", target: "https://u:p@x", outDir })).rejects.toThrow(/credentials/);
    await expect(startRecordingProxy({ api: "nope", target: upstreamUrl, outDir })).rejects.toThrow(/Unknown API id/);
  });
});

describe("pure helpers", () => {
  it("redactUrlParams: secret-named parameters only, the rest byte for byte", () => {
    const secrets = new Set<string>();
    expect(redactUrlParams("/a?Api_Key=abc%2Bdef123&name=a%20b&apiKey&x=1#access_token=qwerty123", secrets))
      .toBe(`/a?Api_Key=${REDACTED}&name=a%20b&apiKey&x=1#access_token=${REDACTED}`);
    expect(secrets).toContain("abc+def123");
    expect(secrets).toContain("qwerty123");
    expect(redactUrlParams("/plain/path")).toBe("/plain/path");
  });

  it("redactJson: any depth, names kept, null and booleans kept", () => {
    expect(redactJson({ a: [{ b: { PASSWD: "p", token: null, credentialsSet: false } }], privateIps: ["10.0.0.1"], ok: "x" }))
      .toEqual({ a: [{ b: { PASSWD: REDACTED, token: null, credentialsSet: false } }], privateIps: [REDACTED], ok: "x" });
  });

  it("scrubSecrets: replaces known values anywhere, longest first, ignores short ones", () => {
    expect(scrubSecrets({ m: "Bearer abcdefgh and abcdefgh", abcdefgh: 1, n: 2, s: "id 1" }, ["abcdefgh", "Bearer abcdefgh", "1"]))
      .toEqual({ m: `${REDACTED} and ${REDACTED}`, [REDACTED]: 1, n: 2, s: "id 1" });
  });

  it("isSecretHeader: the listed headers and secret-looking names, not CORS metadata", () => {
    for (const name of ["Authorization", "cookie", "Set-Cookie", "MC-Api-Key", "API-Public-Token", "X-Auth-Token", "Proxy-Authorization"]) {
      expect(isSecretHeader(name)).toBe(true);
    }
    for (const name of ["Content-Type", "WWW-Authenticate", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers"]) {
      expect(isSecretHeader(name)).toBe(false);
    }
  });

  it("redact: Basic credentials are found again decoded, the request body kept only when JSON", () => {
    const credentials = Buffer.from("someuser:s3cr3t-pass").toString("base64");
    const recording = redact({
      request: { method: "post", path: "/login", headers: { authorization: `Basic ${credentials}`, "content-type": "text/plain" }, body: Buffer.from("hello") },
      response: { status: 200, headers: { "content-type": "text/plain" }, body: Buffer.from("welcome someuser, your password is s3cr3t-pass") },
    });
    expect(recording.request).toEqual({ method: "POST", path: "/login", headers: { authorization: REDACTED, "content-type": "text/plain" } });
    expect(recording.response.body).toBe(`welcome ${REDACTED}, your password is ${REDACTED}`);
  });

  it("recordingFileName: padded sequence, method, path slug without query, status", () => {
    expect(recordingFileName(1, "GET", "/api/3/stacks?page=2", 200)).toBe("0001-get-api-3-stacks-200.json");
    expect(recordingFileName(12345, "DELETE", "/api/v2/Users/{id}", 404)).toBe("12345-delete-api-v2-users-id-404.json");
    expect(recordingFileName(2, "GET", "/", 200)).toBe("0002-get-root-200.json");
  });
});
