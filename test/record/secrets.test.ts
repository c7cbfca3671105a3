/**
 * The recorder against the places secrets hide that a field name or a header does not give away
 * (issue 16): a form value echoed in a message, JSON that does not parse as sent (a byte-order
 * mark, an anti-XSSI prefix, JSON inside a string, truncated JSON), HTML forms, names outside the
 * first pattern (`auth`, `pwd`, `sig`, `passphrase`, `pin`, `X-Auth`, `X-Session-Id`), and
 * `{ "key": "apiSecret", "value": … }` pairs. A canary is planted in each place; no written byte
 * of the recordings, or of the HAR file, may hold one.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRecordingProxy, type RecordingProxyOptions } from "../../src/record/proxy.ts";
import { isSecretHeader, isSecretName, REDACTED } from "../../src/record/redact.ts";

/** Letters and digits only, so that no encoding hides one from a byte search. */
const canary = (label: string) => `CANARY${label}${randomBytes(8).toString("hex")}`;
const C = {
  formPassword: canary("formpassword"),
  xAuth: canary("xauth"),
  sessionId: canary("sessionid"),
  querySig: canary("querysig"),
  auth: canary("auth"),
  pwd: canary("pwd"),
  passphrase: canary("passphrase"),
  pairValue: canary("pairvalue"),
  envValue: canary("envvalue"),
  bomPassword: canary("bompassword"),
  xssiToken: canary("xssitoken"),
  nestedSecret: canary("nestedsecret"),
  doubleEncoded: canary("doubleencoded"),
  truncatedPassword: canary("truncatedpassword"),
  csrf: canary("csrf"),
  metaCsrf: canary("metacsrf"),
  respPair: canary("resppair"),
  respAuth: canary("respauth"),
  respPwd: canary("resppwd"),
  respSig: canary("respsig"),
  respPassphrase: canary("resppassphrase"),
  respXAuth: canary("respxauth"),
  respSession: canary("respsession"),
  textPassword: canary("textpassword"),
  textHeader: canary("textheader"),
  xmlPwd: canary("xmlpwd"),
};
/** A PIN is digits: one no other part of a recording could contain. */
const PIN = "86420975318642";
const ALL = [...Object.values(C), PIN];

/** What the fake upstream answers on each path: content type and body. */
const ANSWERS: Record<string, [string, string]> = {
  "/bom": ["text/html; charset=UTF-8", `\ufeff{"id": "1", "password": "${C.bomPassword}"}`],
  "/xssi": ["application/json", `)]}'\n{"id": "2", "token": "${C.xssiToken}"}`],
  "/string-json": ["application/json", JSON.stringify({ payload: JSON.stringify({ secret: C.nestedSecret, id: 3 }) })],
  "/double-encoded": ["application/json", JSON.stringify(JSON.stringify({ apiKey: C.doubleEncoded }))],
  "/truncated": ["application/json", `{"password": "${C.truncatedPassword}", "list": [1, 2`],
  "/html": ["text/html", `<html><form><input type="hidden" name="csrf_token" value="${C.csrf}"></form><meta name="csrf-token" content="${C.metaCsrf}"></html>`],
  "/pairs": ["application/json", JSON.stringify({ variables: [{ key: "apiSecret", value: C.respPair }, { key: "REGION", value: "eu-west" }] })],
  "/names": ["application/json", JSON.stringify({ auth: C.respAuth, pwd: C.respPwd, sig: C.respSig, passphrase: C.respPassphrase, pin: Number(PIN), author: "Ada", design: "round" })],
  "/text": ["text/plain", `password=${C.textPassword}\nX-Auth: ${C.textHeader}\n<pwd>${C.xmlPwd}</pwd>\n`],
};

let upstream: Server;
let upstreamUrl: string;
beforeAll(async () => {
  upstream = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = new URL(request.url!, "http://x").pathname;
    if (path === "/api/client/vps/1/reinstall") {
      // CVM's PHP repeats the form's password in its message.
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ message: `Reinstalled; root password is now ${form.get("password")}` }));
      return;
    }
    if (path === "/echo") {
      response.writeHead(200, { "Content-Type": "application/json", "X-Auth": C.respXAuth, "X-Session-Id": C.respSession });
      response.end(JSON.stringify({ ok: true }));
      return;
    }
    const [type, body] = ANSWERS[path] ?? ["application/json", "{}"];
    response.writeHead(200, { "Content-Type": type }).end(body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
});

const scratch: string[] = [];
afterAll(async () => {
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode!));
    });
    request.on("error", reject);
    request.end(init.body);
  });
}

/** Runs the whole session through a proxy with these options; returns every written file. */
async function session(options: (dir: string) => Partial<RecordingProxyOptions>): Promise<{ name: string; bytes: Buffer }[]> {
  const dir = await mkdtemp(join(tmpdir(), "record-secrets-"));
  scratch.push(dir);
  const proxy = await startRecordingProxy({ api: "cvm", target: upstreamUrl, ...options(dir) });
  try {
    await send(`${proxy.url}/api/client/vps/1/reinstall`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `template=3&password=${C.formPassword}`,
    });
    await send(`${proxy.url}/echo?sig=${C.querySig}&page=2`, {
      method: "POST",
      headers: { "X-Auth": C.xAuth, "X-Session-Id": C.sessionId, "Content-Type": "application/json" },
      body: JSON.stringify({
        auth: C.auth, pwd: C.pwd, passphrase: C.passphrase, pin: Number(PIN),
        settings: [{ key: "apiSecret", value: C.pairValue }, { name: "DB_PASSWORD", value: C.envValue }],
      }),
    });
    for (const path of Object.keys(ANSWERS)) await send(`${proxy.url}${path}`);
  } finally {
    await proxy.close();
  }
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const paths = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name)).sort();
  return Promise.all(paths.map(async (path) => ({ name: relative(dir, path), bytes: await readFile(path) })));
}

function expectNoCanary(files: { name: string; bytes: Buffer }[]): void {
  for (const { name, bytes } of files) {
    for (const secret of ALL) {
      expect(name.includes(secret), `${secret} in file name ${name}`).toBe(false);
      expect(bytes.includes(secret), `${secret} in ${name}`).toBe(false);
    }
  }
}

describe("secrets no name or header gives away", () => {
  it("are in no byte of the recordings, and the rest of each answer is", async () => {
    const files = await session((dir) => ({ outDir: join(dir, "out") }));
    expect(files).toHaveLength(2 + Object.keys(ANSWERS).length);
    expectNoCanary(files);
    const recordings = files.map((file) => JSON.parse(file.bytes.toString("utf8")));
    expect(recordings[0].response.body).toEqual({ message: `Reinstalled; root password is now ${REDACTED}` });
    expect(recordings[1].request.body.settings).toEqual([{ key: "apiSecret", value: REDACTED }, { name: "DB_PASSWORD", value: REDACTED }]);
    expect(recordings[1].request.path).toBe(`/echo?sig=${REDACTED}&page=2`);
    // JSON behind a byte-order mark or an anti-XSSI prefix is recorded as the JSON it is.
    expect(recordings[2].response.body).toEqual({ id: "1", password: REDACTED });
    expect(recordings[3].response.body).toEqual({ id: "2", token: REDACTED });
    expect(recordings[4].response.body).toEqual({ payload: JSON.stringify({ secret: REDACTED, id: 3 }) });
    expect(recordings[7].response.body).toContain("csrf_token");
    expect(recordings[8].response.body).toEqual({ variables: [{ key: "apiSecret", value: REDACTED }, { key: "REGION", value: "eu-west" }] });
    expect(recordings[9].response.body).toMatchObject({ author: "Ada", design: "round" });
  });

  it("are in no byte of the HAR file, which holds every exchange", async () => {
    const files = await session((dir) => ({ harFile: join(dir, "session.har") }));
    expect(files.map((file) => file.name)).toEqual(["session.har"]);
    expectNoCanary(files);
    const har = JSON.parse(files[0]!.bytes.toString("utf8"));
    expect(har.log.entries).toHaveLength(2 + Object.keys(ANSWERS).length);
    const echo = har.log.entries[1];
    expect(echo.request.url).toBe(`${upstreamUrl}/echo?sig=${REDACTED}&page=2`);
    expect(echo.request.headers).toContainEqual({ name: "x-auth", value: REDACTED });
    expect(echo.response.headers).toContainEqual({ name: "x-session-id", value: REDACTED });
  });
});

describe("isSecretName", () => {
  it("knows the wider list, as whole words where a short name could be part of another", () => {
    for (const name of ["auth", "X-Auth", "authToken", "pwd", "root_pwd", "sig", "sigV4", "passphrase", "pin", "userPIN", "pin_code", "X-Session-Id", "sessionId", "JSESSIONID", "otp", "jwt", "apiKey", "client_secret", "PASSWD", "credentials", "x-amz-signature"]) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ["author", "authenticated", "design", "signal", "shipping", "spinner", "pinned", "session", "sessions", "region", "id", "name"]) {
      expect(isSecretName(name), name).toBe(false);
    }
    expect(isSecretHeader("WWW-Authenticate")).toBe(false);
    expect(isSecretHeader("X-Session-Id")).toBe(true);
  });
});
