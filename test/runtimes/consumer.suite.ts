/**
 * The package as a consumer uses it, run by `npm run test:runtimes` (scripts/test-runtimes.ts) on
 * each supported Node.js: copied as consumer.test.ts into a scratch folder where the packed tarball
 * is installed, it imports only `cloud-api-contracts/...`, calls every client against the mocks
 * the harness started (their origins in CLOUD_CONTRACTS_MOCKS, with the README's base paths),
 * checks each answer with the vitest matcher, and runs the `cloud-contracts` bin (`verify`,
 * `generate`) on the runtime under test. Not part of `npm test` (no `.test.ts` name here): it
 * needs the harness.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { createCloud66Client } from "cloud-api-contracts/cloud66";
import { createCloudManagerClient } from "cloud-api-contracts/cloudmanager";
import { createCloudMcClient } from "cloud-api-contracts/cloudmc";
import { createCloudStackClient } from "cloud-api-contracts/cloudstack";
import { createCvmClient, CvmApiError } from "cloud-api-contracts/cvm";
import { toMatchContract } from "cloud-api-contracts/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

expect.extend({ toMatchContract });

/** The bin as npm linked it in the scratch folder vitest runs in. */
const BIN = join(process.cwd(), "node_modules", ".bin", "cloud-contracts");
/** This run's own folder for recordings and generated files, so runtimes do not share them. */
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "cloud-contracts-consumer-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const origins = JSON.parse(process.env.CLOUD_CONTRACTS_MOCKS ?? "{}") as Record<string, string>;
/** Each mock's base URL as the README gives it: the API's real base path on the mock's origin. */
const BASE_PATHS: Record<string, string> = { cloudmc: "/api/v2", cloudstack: "/api/v2", cloud66: "/api/3", cvm: "", cloudmanager: "/api/public/v1.0" };
const mock = (id: string) => (origins[id] ?? expect.fail(`CLOUD_CONTRACTS_MOCKS names no ${id} mock: run this through npm run test:runtimes`)) + BASE_PATHS[id];

/** What each client calls on its mock: one typed list call per API. */
const calls: Record<string, () => Promise<{ data?: unknown; response: Response }>> = {
  cloudmc: () => createCloudMcClient({ baseUrl: mock("cloudmc"), apiKey: "mc-api-key" }).GET("/organizations"),
  cloudstack: () =>
    createCloudStackClient({ baseUrl: mock("cloudstack"), apiKey: "mc-api-key", serviceCode: "compute-qc", environmentName: "dev" }).GET("/instances"),
  cloud66: () => createCloud66Client({ baseUrl: mock("cloud66"), token: "personal-token" }).GET("/stacks"),
  cvm: () => createCvmClient({ baseUrl: mock("cvm"), publicToken: "public", privateToken: "private" }).GET("/api/client/vps/list"),
  cloudmanager: () => createCloudManagerClient({ baseUrl: mock("cloudmanager"), publicKey: "mdb_pub_mock", privateKey: "mdb_priv_mock" }).GET("/groups"),
};

/** Saves an answer as a recording (the format `cloud-contracts verify` reads) under recordings/<id>/. */
async function record(id: string, name: string, method: string, response: Response, body: unknown): Promise<void> {
  const file = join(work, "recordings", id, `${name}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ request: { method, path: new URL(response.url).pathname }, response: { status: response.status, body } }, null, 2));
}

/** Runs the installed `cloud-contracts` bin in the work folder, its `#!/usr/bin/env node` resolving to this runtime. */
async function cli(...args: string[]): Promise<{ code: number; output: string }> {
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  try {
    const { stdout, stderr } = await promisify(execFile)(BIN, args, { cwd: work, env });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe(`the installed package on Node.js ${process.version}`, () => {
  // Sequential: verify reads the recordings these calls write.
  it.each(Object.keys(calls))("calls the %s mock through its client, and the answer matches the contract (strict)", async (id) => {
    const result = await calls[id]!();
    expect(result.response.status).toBe(200);
    await expect(result).toMatchContract(id, { strict: true });
    await record(id, "list", "GET", result.response, result.data);
  });

  it("throws the API's typed error for a documented error answer", async () => {
    const cvm = createCvmClient({ baseUrl: mock("cvm"), publicToken: "public", privateToken: "private", retry: false });
    const error = await cvm.GET("/api/client/vps/{id}", { params: { path: { id: "999" } }, headers: { Prefer: "code=404" } }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CvmApiError);
    expect(error).toMatchObject({ status: 404, request: { method: "GET", path: "/api/client/vps/999" } });
  });

  it("sends a middleware's own Request, and lets an already aborted signal of the caller's end the call", async () => {
    const cvm = createCvmClient({ baseUrl: mock("cvm"), publicToken: "public", privateToken: "private", retry: false });
    cvm.use({ onRequest: ({ request }) => new Request(request) });
    const { response } = await cvm.GET("/api/client/vps/list");
    expect(response.status).toBe(200);
    const aborted = cvm.GET("/api/client/vps/list", { signal: AbortSignal.abort() });
    await expect(aborted).rejects.toMatchObject({ name: "AbortError" });
  });

  it("fails the matcher on an answer the contract does not allow", async () => {
    const broken = { method: "GET", path: "/api/client/vps/list", status: 200, body: { response: { vpses: [{ id: 1 }] } } };
    await expect(broken).not.toMatchContract("cvm");
  });

  it("verifies the recordings with `cloud-contracts verify`, and names a broken one", async () => {
    const valid = await cli("verify", "recordings", "--strict");
    expect(valid.output).toMatch(/cvm/);
    expect(valid.code).toBe(0);

    const recording = JSON.parse(await readFile(join(work, "recordings", "cvm", "list.json"), "utf8"));
    recording.response.body.response.vpses[0].id = 1;
    await mkdir(join(work, "broken", "cvm"), { recursive: true });
    await writeFile(join(work, "broken", "cvm", "list-with-numeric-id.json"), JSON.stringify(recording));
    const broken = await cli("verify", "broken");
    expect(broken.code).toBe(1);
    expect(broken.output).toContain("list-with-numeric-id.json");
  });

  it("writes a contract and its types with `cloud-contracts generate`", async () => {
    const { code, output } = await cli("generate", "--api", "cvm", "--out", join("vendor", "cvm"));
    expect(output).not.toMatch(/error/i);
    expect(code).toBe(0);
    expect(JSON.parse(await readFile(join(work, "vendor", "cvm", "openapi.json"), "utf8")).openapi).toBe("3.1.0");
    expect(existsSync(join(work, "vendor", "cvm", "schema.d.ts"))).toBe(true);
    expect(await readFile(join(work, "vendor", "cvm", "schema.d.ts"), "utf8")).toContain('"/api/client/vps/list"');
  });
});
