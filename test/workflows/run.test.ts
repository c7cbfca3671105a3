/**
 * `npm run workflows`: every workflow of every API passes against its mock, and the run fails when
 * the workflows and the contract part ways (a step's operation removed) or when an API answers
 * with another schema than the contract's, also where respect itself does not look. A consumer's run with `--har-output` leaves a HAR file
 * without their credentials that `cloud-contracts verify` accepts.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { freePort, startMock } from "../../scripts/prism.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const run = promisify(execFile);

const scratchDirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cloud-contracts-workflows-"));
  scratchDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Runs a command and returns its exit code and combined output instead of throwing. */
async function command(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

const workflows = (...args: string[]) => command(TSX, [join(ROOT, "scripts", "workflows.ts"), ...args]);

/** A scratch copy of the CVM workflows beside a copy of the bundled contract, changed by `edit`. */
async function cvmCopy(edit: (contract: Record<string, any>) => void): Promise<string> {
  const dir = await scratch();
  const contract = parseYaml(await readFile(join(ROOT, "generated", "cvm", "openapi.yaml"), "utf8")) as Record<string, any>;
  edit(contract);
  await writeFile(join(dir, "openapi.yaml"), stringifyYaml(contract));
  await copyFile(join(ROOT, "spec", "cvm", "workflows.arazzo.yaml"), join(dir, "workflows.arazzo.yaml"));
  return dir;
}

describe("npm run workflows", () => {
  // Running every workflow of every API (a minute on two cores) is .ci/run's `npm run workflows`,
  // after npm test; here, what makes the runner fail.
  it("fails, naming the step, when a step's operation is no longer in the contract", async () => {
    const dir = await cvmCopy((contract) => delete contract.paths["/api/client/vps/{id}/restart"]);
    const { code, output } = await workflows("cvm", "--workflows", join(dir, "workflows.arazzo.yaml"));
    expect(code).toBe(1);
    expect(output).toMatch(/^cvm +workflows +FAILED/m);
    expect(output).toContain("Workflow name: restartVps");
    expect(output).toContain("Unknown operationId restartVps");
  });

  it("fails when the mock answers with a schema the contract does not have", async () => {
    // The mock serves a contract whose VPS list gives host names as numbers; the workflows check
    // the answers against the real contract, which says strings.
    const dir = await scratch();
    const changed = JSON.parse(await readFile(join(ROOT, "generated", "cvm", "openapi.json"), "utf8"));
    changed.components.schemas.Vps.properties.hostname = { type: "integer", description: "Host name, as a number." };
    for (const name of ["VpsListNewer", "VpsListOlderEndpoint", "VpsListOlderOverview"]) {
      for (const vps of changed.components.examples[name].value.response.vpses) vps.hostname = 42;
    }
    await writeFile(join(dir, "openapi.json"), JSON.stringify(changed));
    const { code, output } = await workflows("cvm", "--mock-spec", join(dir, "openapi.json"));
    expect(code).toBe(1);
    expect(output).toContain("Workflow name: authenticate");
    expect(output).toContain("stepId - listWithTokens");
    expect(output).toMatch(/✗ schema check[\s\S]*hostname/);
  });

  it("fails when the mock answers a step with a schema respect does not check (a recursive one)", async () => {
    // CloudMC's organizations nest, so respect skips their schema ("circular references"); the
    // run's exchanges also go through the package's contract checker, which does not.
    const dir = await scratch();
    const changed = JSON.parse(await readFile(join(ROOT, "generated", "cloudmc", "openapi.json"), "utf8"));
    changed.components.schemas.Organization.properties.name = { type: "integer", description: "Name, as a number." };
    changed.components.examples.OrganizationDetails.value.data.name = 42;
    await writeFile(join(dir, "openapi.json"), JSON.stringify(changed));
    const { code, output } = await workflows("cloudmc", "--mock-spec", join(dir, "openapi.json"));
    expect(code).toBe(1);
    expect(output).toContain("The workflows' exchanges break the cloudmc contract");
    expect(output).toMatch(/getOrganization GET \/api\/v2\/organizations\/\S+ 200\n +\$\.data\.name: must be string/);
  });

  it("refuses --workflows without an API id", async () => {
    const { code, output } = await workflows("--workflows", "somewhere.yaml");
    expect(code).toBe(1);
    expect(output).toContain("--workflows and --mock-spec need an API id");
  });
});

describe("a consumer's run with --har-output", () => {
  it("keeps no credential in the HAR file, which cloud-contracts verify accepts", async () => {
    const dir = await scratch();
    const har = join(dir, "cvm.har");
    const mock = await startMock("cvm", { specPath: join(ROOT, "generated", "cvm", "openapi.json"), port: await freePort() });
    const secrets = { CVM_PUBLIC_TOKEN: "pub-4f1d9c2ab7e6", CVM_PRIVATE_TOKEN: "priv-93be07d5c1aa" };
    try {
      const { code, output } = await command(
        join(ROOT, "node_modules", ".bin", "redocly"),
        ["respect", "spec/cvm/workflows.arazzo.yaml", "-w", "describeVps", "-w", "authenticate", "-S", `cvm=${mock.baseUrl}`, "--har-output", har],
        { ...process.env, ...secrets, REDOCLY_TELEMETRY: "off", NO_COLOR: "1" },
      );
      expect(code, output).toBe(0);
      for (const secret of Object.values(secrets)) expect(output).not.toContain(secret);
    } finally {
      await mock.stop();
    }
    const text = await readFile(har, "utf8");
    expect(JSON.parse(text).log.entries.length).toBe(7);
    for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
    const verified = await command(TSX, [join(ROOT, "src", "cli.ts"), "verify", har, "--api", "cvm"]);
    expect(verified.output).toMatch(/^7 valid, 0 violating/m);
    expect(verified.code).toBe(0);
  });
});
