/**
 * `npm run workflows [-- <id>] [--workflows <file>] [--mock-spec <file>]`: runs every workflow of
 * each API's spec/<id>/workflows.arazzo.yaml with `redocly respect` against that API's mock, and
 * fails when a step fails: a status or schema the contract does not document, an unmet success
 * criterion, an operation the contract no longer has.
 *
 * For each API it starts the mock in this process on a free port (serving
 * generated/<id>/openapi.json, or `--mock-spec`), points each source description of the workflows
 * at it with `-S <name>=<url>` (the base path of the operations that source's steps call, so a
 * source for `/api/v2/tasks` and one for `/api/v2/services/…` each get theirs), and gives respect
 * the credentials the workflows read from the environment: values the mock accepts, in respect's
 * environment only, never on its command line or on disk. Workflows that need a caller
 * (`waitForTask`) run through the workflows that call them. The APIs run side by side.
 *
 * Respect skips its schema check on a response whose schema is recursive (CloudMC's organizations
 * nest), saying only "schema have circular references"; so every exchange of the run, kept in a
 * scratch HAR file, is also checked by the package's own contract checker (`cloud-contracts
 * verify`), which has no such gap; the run fails when one was not checked.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { OpenApiDocument } from "../src/contract/document.ts";
import { MOCK_DIGEST_CREDENTIALS, MOCK_SERVICE_ACCOUNT } from "../src/mock/server.ts";
import { formatReport } from "../src/verify/format.ts";
import { verify } from "../src/verify/index.ts";
import { calledWorkflows, environmentNames, hasWorkflows, readArazzo, stepOperation, workflowsSource, type ArazzoDocument } from "./arazzo.ts";
import { generatedDir, parseStepArgs, ROOT, runIfMain, step, StepError } from "./lib.ts";
import { freePort, startMock } from "./prism.ts";

const USAGE = "[<api-id>] [--out <dir>] [--workflows <file>] [--mock-spec <file>]";

/** Longest a whole respect run may take (its own default is an hour). */
const EXECUTION_TIMEOUT_MS = 300_000;

/**
 * What the mocks accept for the credentials a workflow reads from the environment. The mocks of
 * API-key and bearer APIs only check that the header is there, so any other variable gets a
 * placeholder; Cloud Manager's mock checks its digest keys and service account for real.
 */
const MOCK_ENVIRONMENT: Record<string, string> = {
  CM_PUBLIC_KEY: MOCK_DIGEST_CREDENTIALS.username,
  CM_PRIVATE_KEY: MOCK_DIGEST_CREDENTIALS.password,
  CM_CLIENT_ID: MOCK_SERVICE_ACCOUNT.clientId,
  CM_CLIENT_SECRET: MOCK_SERVICE_ACCOUNT.clientSecret,
};

interface WorkflowRun {
  id: string;
  /** The Arazzo file to run (default spec/<id>/workflows.arazzo.yaml). */
  workflowsPath: string;
  /** The bundled contract the mock serves (default generated/<id>/openapi.json). */
  mockSpecPath: string;
}

/** Runs one API's workflows against its mock; resolves when every workflow passed. */
async function runWorkflows({ id, workflowsPath, mockSpecPath }: WorkflowRun): Promise<void> {
  const workflows = await readArazzo(workflowsPath);
  const contract = JSON.parse(await readFile(mockSpecPath, "utf8")) as OpenApiDocument;
  const mock = await startMock(id, { specPath: mockSpecPath, port: await freePort() });
  const scratch = await mkdtemp(join(tmpdir(), `cloud-contracts-workflows-${id}-`));
  try {
    const origin = new URL(mock.baseUrl).origin;
    const har = join(scratch, `${id}.har`);
    const args = [workflowsPath, "--execution-timeout", String(EXECUTION_TIMEOUT_MS), "--har-output", har];
    for (const [source, basePath] of sourceBasePaths(workflows, contract)) args.push("-S", `${source}=${origin}${basePath}`);
    for (const workflowId of calledWorkflows(workflows)) args.push("--skip", workflowId);
    const environment = Object.fromEntries(environmentNames(workflows).map((name) => [name, MOCK_ENVIRONMENT[name] ?? `mock-${name.toLowerCase()}`]));
    await respect(args, environment);
    const report = await verify([har], { api: id });
    // Without the coverage tables: the failing exchanges and the count are what matter here.
    if (report.exitCode !== 0) throw new StepError(`The workflows' exchanges break the ${id} contract:\n${formatReport({ ...report, coverage: [] }, "text").trim()}`);
    // Every exchange was with the mock of this contract: one left unchecked means the HAR no
    // longer says what was sent (respect masks secret values wherever they appear, URLs too).
    if (report.skipped.length > 0) throw new StepError(`The workflows' exchanges were not all checked against the ${id} contract:\n${formatReport({ ...report, coverage: [] }, "text").trim()}`);
  } finally {
    await Promise.all([mock.stop(), rm(scratch, { recursive: true, force: true })]);
  }
}

/**
 * The base path each source description's steps are served under: the first server of each
 * operation they call (operation, then path item, then document), variables at their defaults.
 * Operations the contract lacks are left for respect to report.
 */
function sourceBasePaths(workflows: ArazzoDocument, contract: OpenApiDocument): Map<string, string> {
  const operationBases = new Map<string, string>();
  const documentServers = (contract as { servers?: Server[] }).servers;
  for (const item of Object.values(contract.paths ?? {})) {
    const pathItem = item as { servers?: Server[] } & Record<string, unknown>;
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method] as { operationId?: string; servers?: Server[] } | undefined;
      if (operation?.operationId) operationBases.set(operation.operationId, basePath(operation.servers ?? pathItem.servers ?? documentServers));
    }
  }
  const bases = new Map<string, Set<string>>(workflows.sourceDescriptions.map((source) => [source.name, new Set<string>()]));
  for (const workflow of workflows.workflows) {
    for (const workflowStep of workflow.steps) {
      const operation = stepOperation(workflows, workflowStep);
      const base = operation && operationBases.get(operation.operationId);
      if (operation && base !== undefined) bases.get(operation.source)?.add(base);
    }
  }
  return new Map(
    [...bases].map(([source, found]) => {
      if (found.size > 1) {
        throw new StepError(`Source description "${source}" is used for operations under different base paths (${[...found].join(", ")}): give each base its own source description.`);
      }
      return [source, [...found][0] ?? basePath(documentServers)];
    }),
  );
}

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

interface Server {
  url: string;
  variables?: Record<string, { default: string }>;
}

/** `https://{host}/api/v2/services/{code}` → `/api/v2/services/compute-qc`. */
function basePath(servers: Server[] | undefined): string {
  const server = servers?.[0];
  if (!server) return "";
  const url = server.url.replace(/\{([^}]+)\}/g, (_, name: string) => server.variables?.[name]?.default ?? name);
  return new URL(url, "http://server").pathname.replace(/\/$/, "");
}

/**
 * Runs `redocly respect` with extra environment variables. (lib.ts's runTool passes the parent's
 * environment only.) On failure, throws respect's own report of the failed steps.
 */
function respect(args: string[], environment: Record<string, string>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "redocly"), ["respect", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...environment, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", (error) => reject(new StepError(`Could not run redocly respect: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolvePromise();
      else reject(new StepError(`redocly respect ${args[0]} failed:\n${failureReport(output)}`));
    });
  });
}

/** The part of respect's output that says what failed, without colours, banners and tables. */
function failureReport(output: string): string {
  const lines = output
    .replace(/\x1b\[[0-9;]*m/g, "")
    .split("\n")
    .filter((line) => !/^\s*[╔║╚┌├│└]/.test(line))
    .map((line) => line.trimEnd());
  const start = lines.findIndex((line) => line.trim() === "Failed tests info:");
  const relevant = start === -1 ? lines : lines.slice(start);
  return relevant.filter((line, index, all) => line.trim() !== "" || (index > 0 && all[index - 1]!.trim() !== "")).join("\n").trim();
}

runIfMain(import.meta.url, async (argv) => {
  const { apis, ctx, values } = await parseStepArgs(argv, { workflows: { type: "string" }, "mock-spec": { type: "string" } }, USAGE);
  const custom = values.workflows !== undefined || values["mock-spec"] !== undefined;
  if (custom && apis.length !== 1) throw new StepError(`--workflows and --mock-spec need an API id.\nUsage: ${USAGE}`);
  const runs: WorkflowRun[] = [];
  for (const api of apis) {
    if (!custom && !(await hasWorkflows(api.id))) continue;
    runs.push({
      id: api.id,
      workflowsPath: resolve((values.workflows as string | undefined) ?? workflowsSource(api.id)),
      mockSpecPath: resolve((values["mock-spec"] as string | undefined) ?? join(generatedDir(ctx, api.id), "openapi.json")),
    });
  }
  if (runs.length === 0) throw new StepError(`No workflows to run: ${apis.map((api) => `spec/${api.id}/workflows.arazzo.yaml`).join(", ")} missing.`);
  const results = await Promise.allSettled(runs.map((run) => step(run.id, "workflows", () => runWorkflows(run))));
  const failures = results.flatMap((result, index) => (result.status === "rejected" ? [`${runs[index]!.id}: ${(result.reason as Error).message}`] : []));
  if (failures.length > 0) throw new StepError(failures.join("\n\n"));
});
