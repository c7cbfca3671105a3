/**
 * The package as a consumer gets it: compiled JavaScript behind `exports` and `bin`, usable from
 * plain `node` (no TypeScript loader). `npm test` compiles dist/ first.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

async function node(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("cloud-contracts CLI", () => {
  it("prints help and exits 0", async () => {
    const { code, stdout } = await node(["dist/cli.js", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: cloud-contracts <command>/);
  });

  it("lists the APIs with their mock ports", async () => {
    const { stdout } = await node(["dist/cli.js", "apis", "--json"]);
    expect(JSON.parse(stdout)).toContainEqual({ id: "cvm", title: "CVM Client API", mockPort: 4013 });
  });

  it.each([["bogus"], ["apis", "--bogus"]])("exits 2 and names the bad input: %s", async (...args) => {
    const { code, stderr } = await node(["dist/cli.js", ...args]);
    expect(code).toBe(2);
    expect(stderr).toContain(args.at(-1));
    expect(stderr).toContain("cloud-contracts --help");
  });
});

describe("imports from plain node", () => {
  it("loads the clients and the contract checker through the package exports", async () => {
    const script = `
      import { createCvmClient } from "cloud-api-contracts/cvm";
      import { loadContract } from "cloud-api-contracts/contract";
      import { createCloudMcClient, waitForTask, CloudMcApiError } from "cloud-api-contracts/cloudmc";
      import { createCloudStackClient } from "cloud-api-contracts/cloudstack";
      import { createCloud66Client, paginate, waitForAction } from "cloud-api-contracts/cloud66";
      import { createCloudManagerClient, paginate as paginateCm } from "cloud-api-contracts/cloudmanager";
      if (typeof createCloudManagerClient({ publicKey: "p", privateKey: "q" }).GET !== "function" || typeof paginateCm !== "function") throw new Error("cloudmanager exports");
      if (typeof createCloud66Client({ token: "t" }).GET !== "function" || typeof paginate !== "function" || typeof waitForAction !== "function") throw new Error("cloud66 exports");
      const cs = createCloudStackClient({ baseUrl: "http://127.0.0.1:9/api/v2", apiKey: "k", serviceCode: "compute-qc", environmentName: "dev" });
      if (typeof cs.operate !== "function") throw new Error("cloudstack exports");
      const mc = createCloudMcClient({ baseUrl: "http://127.0.0.1:9/api/v2", apiKey: "k" });
      if (typeof waitForTask !== "function" || typeof mc.GET !== "function" || !(new CloudMcApiError(400, {}, new Request("http://x/")) instanceof Error)) throw new Error("cloudmc exports");
      const client = createCvmClient({ baseUrl: "http://127.0.0.1:9", publicToken: "a", privateToken: "b" });
      const contract = await loadContract("cvm");
      const result = contract.validateResponse({ method: "GET", path: "/api/client/vps/list", status: 401,
        body: { errors: ["No valid API token pair was specified."] } });
      console.log(JSON.stringify({ get: typeof client.GET, result }));
    `;
    const { code, stdout, stderr } = await node(["--input-type=module", "-e", script]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ get: "function", result: { valid: true, operationId: "listVpses", errors: [] } });
  });
});
