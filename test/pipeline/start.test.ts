/**
 * `npm start` (scripts/start.ts): with generated/ fresh it builds nothing, docs and mocks answer on
 * their ports, a mock process that dies is restarted once (twice: start exits 1), and SIGINT stops
 * everything; an API whose spec changed since its build is rebuilt before it is served.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npmStartCommand } from "../../scripts/lib.ts";
import { freePort } from "../../scripts/prism.ts";
import { MOCK_DIGEST_CREDENTIALS as MOCK_CREDENTIALS } from "../../src/mock/server.ts";
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
    child.stderr!.on("data", check);
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
  const [command, args] = await npmStartCommand();
  child = spawn(
    command,
    [...args, "--docs-port", String(docsPort), ...[...mockPorts].flatMap(([id, port]) => ["--mock-port", `${id}=${port}`])],
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
    expect(output).toContain(`try     curl -H 'MC-Api-Key: x' http://127.0.0.1:${mockPorts.get("cloudmc")}/api/v2/organizations`);
  });

  it("rebuilds nothing when generated/ is fresh", () => {
    expect(output).not.toMatch(/rebuilding|lint|bundle/);
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

  it("serves the CloudMC mock under /api/v2: organizations in a data array with MC-Api-Key, the documented 403 without", async () => {
    const url = `http://127.0.0.1:${mockPorts.get("cloudmc")}/api/v2/organizations`;
    const ok = await fetch(url, { headers: { "MC-Api-Key": "key" } });
    expect(ok.status).toBe(200);
    expect(Array.isArray((await ok.json()).data)).toBe(true);
    expect((await fetch(url)).status).toBe(403);
  });

  it("restarts the mock process once when it dies, and says so", async () => {
    const pid = Number(/the mocks run in process (\d+)/.exec(output)![1]);
    process.kill(pid, "SIGKILL");
    await waitFor(/restarted in process \d+/);
    expect(output).toContain("stopped unexpectedly (signal SIGKILL); restarting them once.");
    const url = `http://127.0.0.1:${mockPort}/api/client/vps/list`;
    expect((await fetch(url, { headers: { "API-Public-Token": "a", "API-Private-Token": "b" } })).status).toBe(200);
  });

  it("stops the docs server and every mock on one SIGINT", async () => {
    child.kill("SIGINT");
    expect(await exited(child)).toBe(0);
    for (const port of mockPorts.values()) await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${docsPort}/`)).rejects.toThrow();
  });
});

describe("start, when the mock process dies twice", () => {
  it("exits 1 and says the mocks stopped twice", async () => {
    const ports = [await freePort(), await freePort()];
    const [command, args] = await npmStartCommand();
    const second = spawn(command, [...args, "cvm", "--docs-port", String(ports[0]), "--mock-port", `cvm=${ports[1]}`], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    const seen = (pattern: RegExp) =>
      new Promise<RegExpExecArray>((resolveSeen, reject) => {
        const timer = setTimeout(() => reject(new Error(`Timed out waiting for ${pattern}:\n${text}`)), 60_000);
        const check = () => {
          const match = pattern.exec(text);
          if (match) {
            clearTimeout(timer);
            resolveSeen(match);
          }
        };
        second.stdout!.on("data", (chunk: Buffer) => ((text += chunk), check()));
        second.stderr!.on("data", (chunk: Buffer) => ((text += chunk), check()));
      });
    try {
      process.kill(Number((await seen(/the mocks run in process (\d+)/))[1]), "SIGKILL");
      process.kill(Number((await seen(/restarted in process (\d+)/))[1]), "SIGKILL");
      expect(await exited(second)).toBe(1);
      expect(text).toContain("stopped again (signal SIGKILL); not restarting.");
    } finally {
      if (second.exitCode === null) second.kill("SIGKILL");
    }
  });
});

describe("start, when a spec changed since its last build", () => {
  it("rebuilds that API, says so, then serves the rebuilt contract", async () => {
    const out = await mkdtemp(join(tmpdir(), "start-rebuild-"));
    const ports = [await freePort(), await freePort()];
    await cp(join(ROOT, "generated"), join(out, "generated"), { recursive: true });
    await cp(join(ROOT, "docs-site"), join(out, "docs-site"), { recursive: true });
    // As if spec/cvm had been edited after generated/cvm was built.
    await writeFile(join(out, "generated", "cvm", "spec.sha256"), `${"0".repeat(64)}\n`);
    const [command, args] = await npmStartCommand();
    const started = spawn(command, [...args, "cvm", "--out", out, "--docs-port", String(ports[0]), "--mock-port", `cvm=${ports[1]}`], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    started.stdout!.on("data", (chunk: Buffer) => (text += chunk));
    started.stderr!.on("data", (chunk: Buffer) => (text += chunk));
    try {
      await expect.poll(() => text, { timeout: 90_000, interval: 200 }).toMatch(/Press Ctrl-C to stop/);
      expect(text).toContain("cvm: spec/cvm changed since generated/cvm was built; rebuilding it.");
      expect(text).toMatch(/^cvm +mock-operations +ok/m);
      expect(await readFile(join(out, "generated", "cvm", "spec.sha256"), "utf8")).toBe(await readFile(join(ROOT, "generated", "cvm", "spec.sha256"), "utf8"));
      const answer = await fetch(`http://127.0.0.1:${ports[1]}/api/client/vps/list`, { headers: { "API-Public-Token": "a", "API-Private-Token": "b" } });
      expect(answer.status).toBe(200);
    } finally {
      if (started.exitCode === null) started.kill("SIGINT");
      await exited(started);
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});
