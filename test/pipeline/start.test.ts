/**
 * `npm start`'s server half (scripts/start.ts, which npm start runs after the build): docs and
 * mocks answer on their ports, and SIGINT stops every child process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/prism.ts";
import { MOCK_CREDENTIALS } from "../../scripts/digest-front.ts";
import { APIS } from "../../src/apis.ts";
import { createCloudManagerClient } from "../../src/clients/cloudmanager.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let child: ChildProcess;
let output = "";
let docsPort: number;
/** A free port per API, so the test never collides with a running `npm start`. */
const mockPorts = new Map<string, number>();
let mockPort: number;

function waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolveWait, reject) => {
    const timer = setTimeout(() => reject(new Error(`Timed out waiting for ${pattern}; output:\n${output}`)), timeoutMs);
    const check = () => {
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolveWait();
      }
    };
    child.stdout!.on("data", check);
    child.on("exit", () => {
      clearTimeout(timer);
      reject(new Error(`start exited early:\n${output}`));
    });
    check();
  });
}

const exited = (process: ChildProcess) =>
  new Promise<number | null>((resolveExit) => {
    if (process.exitCode !== null) resolveExit(process.exitCode);
    else process.once("exit", (code) => resolveExit(code));
  });

beforeAll(async () => {
  docsPort = await freePort();
  for (const api of APIS) mockPorts.set(api.id, await freePort());
  mockPort = mockPorts.get("cvm")!;
  child = spawn(
    fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url)),
    ["scripts/start.ts", "--docs-port", String(docsPort), ...[...mockPorts].flatMap(([id, port]) => ["--mock-port", `${id}=${port}`])],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  await waitFor(/Press Ctrl-C to stop/);
});

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill("SIGKILL");
    await exited(child);
  }
});

describe("start", () => {
  it("prints the docs URL and each mock URL", () => {
    expect(output).toContain(`docs          http://localhost:${docsPort}/`);
    expect(output).toContain(`cvm           mock    http://127.0.0.1:${mockPort}`);
    expect(output).toContain(`cloudmc       mock    http://127.0.0.1:${mockPorts.get("cloudmc")}/api/v2`);
  });

  it("serves the docs index linking every API, and each rendered page", async () => {
    const index = await fetch(`http://127.0.0.1:${docsPort}/`);
    expect(index.status).toBe(200);
    const html = await index.text();
    for (const api of APIS) expect(html).toContain(`href="${api.id}.html"`);
    const page = await fetch(`http://127.0.0.1:${docsPort}/cvm.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("CVM Client API");
  });

  it("serves the CVM mock: 200 with the token pair, 401 without", async () => {
    const url = `http://127.0.0.1:${mockPort}/api/client/vps/list`;
    const ok = await fetch(url, { headers: { "API-Public-Token": "a", "API-Private-Token": "b" } });
    expect(ok.status).toBe(200);
    expect((await ok.json()).response.vpses.length).toBeGreaterThan(0);
    expect((await fetch(url)).status).toBe(401);
  });

  it("serves the Cloud Manager mock behind digest: a challenge without keys, 200 with them", async () => {
    const url = `http://127.0.0.1:${mockPorts.get("cloudmanager")}/api/public/v1.0/groups`;
    const challenged = await fetch(url);
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get("WWW-Authenticate")).toMatch(/^Digest /);
    const client = createCloudManagerClient({ baseUrl: url.replace(/\/groups$/, ""), publicKey: MOCK_CREDENTIALS.username, privateKey: MOCK_CREDENTIALS.password });
    const { data } = await client.GET("/groups");
    expect(Array.isArray(data!.results)).toBe(true);
  });

  it("serves the Cloud 66 mock under /api/3: 200 with a bearer token, 401 without", async () => {
    const url = `http://127.0.0.1:${mockPorts.get("cloud66")}/api/3/stacks`;
    expect((await fetch(url, { headers: { Authorization: "Bearer x" } })).status).toBe(200);
    expect((await fetch(url)).status).toBe(401);
  });

  it("serves the CloudStack mock under /api/v2/services/{service_code}/{environment_name}: instances in a data array with MC-Api-Key", async () => {
    const url = `http://127.0.0.1:${mockPorts.get("cloudstack")}/api/v2/services/compute-qc/dev/instances`;
    const ok = await fetch(url, { headers: { "MC-Api-Key": "key" } });
    expect(ok.status).toBe(200);
    expect(Array.isArray((await ok.json()).data)).toBe(true);
  });

  it("serves the CloudMC mock under /api/v2: organizations in a data array with MC-Api-Key, 401 without", async () => {
    const url = `http://127.0.0.1:${mockPorts.get("cloudmc")}/api/v2/organizations`;
    const ok = await fetch(url, { headers: { "MC-Api-Key": "key" } });
    expect(ok.status).toBe(200);
    expect(Array.isArray((await ok.json()).data)).toBe(true);
    expect((await fetch(url)).status).toBe(401);
  });

  it("stops the docs server and every mock on SIGINT", async () => {
    child.kill("SIGINT");
    expect(await exited(child)).toBe(0);
    for (const port of mockPorts.values()) await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${docsPort}/`)).rejects.toThrow();
  });
});
