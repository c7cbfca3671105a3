/**
 * `npm run bench:mock`: how much load the five Prism mocks take. See bench/README.md.
 *
 * Starts the five mocks on free loopback ports, sends each request of every API's set once and
 * checks that it answers 2xx with a body its contract accepts, then forks bench/mock-load.ts,
 * which sends 2,000 requests to each mock with autocannon, one mock after another, and reports
 * back. Prints per API: responses, 2xx, errors, throughput, p50 and p99 latency; and the total.
 *
 * Exits 1 on any error (a non-2xx answer, a connection error, a timeout), when fewer than
 * 10,000 responses came back, or when the time limit was hit. The mocks are stopped in every case.
 */
import { fork, type ChildProcess } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { APIS, type ApiId } from "../src/apis.ts";
import { formatErrors, loadContract } from "../src/contract/index.ts";
import { digestFetch } from "../src/runtime/digest.ts";
import { MOCK_DIGEST_CREDENTIALS as MOCK_CREDENTIALS } from "../src/mock/server.ts";
import { freePort, startMock, type RunningMock } from "../scripts/prism.ts";
import type { LoadPlan, LoadReport, LoadRequest, TargetReport } from "./mock-load.ts";

const PER_API = 2_000;
const CONNECTIONS = 4;
const TIME_LIMIT_MS = 120_000;
const TIMEOUT_SECONDS = 10;

interface Call {
  operationId: string;
  method: LoadRequest["method"];
  /** Below the API's base path. */
  path: string;
  json?: unknown;
  form?: string;
}

interface LoadSet {
  /** What every request carries (the mocks check that the credentials are there). */
  headers: Record<string, string>;
  /** Cloud Manager: HTTP Digest, answered by the client. */
  digest?: boolean;
  calls: Call[];
}

// Identifiers from the parameter examples of each spec and from test/recordings/<id>/.
const STACK = "5999b763474b0eafa5fafb64bff0ba80";
const PROJECT = "5e84b94c003f2d6370004f4e";
const ORG = "5980cfdf0b6d97029d82f86e";
const ZONE = "/services/compute-on/test_area";

const SETS: Record<ApiId, LoadSet> = {
  cloud66: {
    headers: { Authorization: "Bearer x" },
    calls: [
      { operationId: "listStacks", method: "GET", path: "/stacks" },
      { operationId: "getStack", method: "GET", path: `/stacks/${STACK}` },
      { operationId: "listStackServers", method: "GET", path: `/stacks/${STACK}/servers` },
      { operationId: "getStackServer", method: "GET", path: `/stacks/${STACK}/servers/f8468fc145ea49bac474b30a8fea888d` },
      { operationId: "getStackDeployment", method: "GET", path: `/stacks/${STACK}/deployments/107` },
      { operationId: "getAccount", method: "GET", path: "/accounts/139" },
      { operationId: "createStackAction", method: "POST", path: `/stacks/${STACK}/actions`, json: { command: "clear_caches" } },
      { operationId: "createStackEnvironmentVariable", method: "POST", path: `/stacks/${STACK}/environments`, json: { key: "MY_ENVIRONMENT_VALUE", value: "SOME_VALUE" } },
    ],
  },
  cloudmanager: {
    headers: {},
    digest: true,
    calls: [
      { operationId: "listProjects", method: "GET", path: "/groups" },
      { operationId: "getProject", method: "GET", path: `/groups/${PROJECT}` },
      { operationId: "listProjectHosts", method: "GET", path: `/groups/${PROJECT}/hosts` },
      { operationId: "getHost", method: "GET", path: `/groups/${PROJECT}/hosts/680ab316473d6b28f966364b947134fc` },
      { operationId: "getCluster", method: "GET", path: `/groups/${PROJECT}/clusters/5e8ba20e87d9396ca9b96bd0` },
      { operationId: "listOrganizationInvitations", method: "GET", path: `/orgs/${ORG}/invites` },
      { operationId: "createProject", method: "POST", path: "/groups", json: { name: "Create Project API Example", orgId: "111111111aaaaaf38dc78bdf" } },
      { operationId: "createTeam", method: "POST", path: `/orgs/${ORG}/teams`, json: { name: "myNewTeam" } },
    ],
  },
  cloudmc: {
    headers: { "MC-Api-Key": "k" },
    calls: [
      { operationId: "listOrganizations", method: "GET", path: "/organizations" },
      { operationId: "getOrganization", method: "GET", path: "/organizations/03bc22bd-adc4-46b8-988d-afddc24c0cb5" },
      { operationId: "listEnvironments", method: "GET", path: "/environments" },
      { operationId: "getEnvironment", method: "GET", path: "/environments/1ee5cd43-8395-4cd5-a20f-0f1e83b7f8bd" },
      { operationId: "getQuota", method: "GET", path: "/quotas/24330f70-9845-4851-acc0-ecd5d9b13613" },
      { operationId: "getTask", method: "GET", path: "/tasks/b2f82e2a-123e-4f86-a4c7-dc9b850dd11e" },
      { operationId: "createOrganization", method: "POST", path: "/organizations", json: { name: "Umbrella Corporation", entryPoint: "umbrella" } },
    ],
  },
  cloudstack: {
    headers: { "MC-Api-Key": "k" },
    calls: [
      { operationId: "listInstances", method: "GET", path: `${ZONE}/instances` },
      { operationId: "getInstance", method: "GET", path: `${ZONE}/instances/5951c2b8-e901-4c01-8ae0-cb8d7c508d29` },
      { operationId: "listVolumes", method: "GET", path: `${ZONE}/volumes` },
      { operationId: "getVolume", method: "GET", path: `${ZONE}/volumes/1bd672f4-b274-4371-a792-b0a6c6778cc7` },
      { operationId: "getNetwork", method: "GET", path: `${ZONE}/networks/8ef7539c-c9ba-49f3-a484-a08f4ffb2234` },
      { operationId: "getTask", method: "GET", path: "/tasks/b2f82e2a-123e-4f86-a4c7-dc9b850dd11e" },
      {
        operationId: "createInstance",
        method: "POST",
        path: `${ZONE}/instances`,
        json: { name: "jarvis", computeOfferingId: "3caab5ed-b5a2-4d8a-82e4-51c46168ee6c", networkId: "55ccea7f-8286-479e-a648-dd4a45866daf", templateId: "5f968ad6-56d0-4d0d-ad7e-f8f4a5b5d986" },
      },
      { operationId: "operateInstance", method: "POST", path: `${ZONE}/instances/5951c2b8-e901-4c01-8ae0-cb8d7c508d29?operation=stop`, json: { forceStop: true } },
    ],
  },
  cvm: {
    headers: { "API-Public-Token": "public-token", "API-Private-Token": "private-token" },
    calls: [
      { operationId: "listVpses", method: "GET", path: "/api/client/vps/list" },
      { operationId: "getVpsStatus", method: "GET", path: "/api/client/vps/1" },
      { operationId: "listNodes", method: "GET", path: "/api/client/node/list" },
      { operationId: "getNode", method: "GET", path: "/api/client/node/1" },
      { operationId: "listTemplates", method: "GET", path: "/api/client/template/list" },
      { operationId: "getTemplate", method: "GET", path: "/api/client/template/3" },
      { operationId: "startVps", method: "POST", path: "/api/client/vps/1/start" },
      { operationId: "reinstallVps", method: "POST", path: "/api/client/vps/1/reinstall", form: "template=3" },
    ],
  },
};

const IDS = APIS.map((api) => api.id);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const load = () => loadavg().map((value) => value.toFixed(2)).join(" ");
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

const parseBody = (text: string): unknown => {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
};

/** The request as the load generator sends it: base path, credentials, body and its type. */
function toRequest(mock: RunningMock, set: LoadSet, call: Call): LoadRequest {
  const basePath = new URL(mock.baseUrl).pathname.replace(/\/$/, "");
  const headers = { ...set.headers };
  let body: string | undefined;
  if (call.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(call.json);
  } else if (call.form !== undefined) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = call.form;
  }
  return { operationId: call.operationId, method: call.method, path: `${basePath}${call.path}`, headers, ...(body === undefined ? {} : { body }) };
}

// --- Start the mocks; stop them whatever happens. -------------------------------------------
const mocks = new Map<ApiId, RunningMock>();
let loader: ChildProcess | undefined;
let stopping: Promise<void> | undefined;
let interrupted = false;
const stopAll = () =>
  (stopping ??= (async () => {
    if (loader && loader.exitCode === null) loader.kill("SIGKILL");
    await Promise.allSettled([...mocks.values()].map((mock) => mock.stop()));
  })());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the mocks.`);
    void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}

try {
  console.log(
    `\n${PER_API * IDS.length} requests to ${IDS.length} Prism mocks; Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ` +
      `${new Date().toISOString().slice(0, 10)}; load average ${load()}\n`,
  );
  const started = performance.now();
  await Promise.all(
    IDS.map(async (id) => {
      const mock = await startMock(id, { specPath: `${ROOT}generated/${id}/openapi.json`, port: await freePort() });
      mocks.set(id, mock);
    }),
  );
  console.log(`five mocks listening after ${fmt(performance.now() - started)} ms`);

  // --- Every request of every set once: 2xx, and a body the contract accepts. ----------------
  const plan: LoadPlan = { targets: [], timeLimitMs: TIME_LIMIT_MS, timeoutSeconds: TIMEOUT_SECONDS };
  const refused: string[] = [];
  for (const id of IDS) {
    const mock = mocks.get(id)!;
    const set = SETS[id];
    const contract = await loadContract(id);
    const send = set.digest ? digestFetch({ username: MOCK_CREDENTIALS.username, password: MOCK_CREDENTIALS.password }) : (request: Request) => fetch(request);
    const requests = set.calls.map((call) => toRequest(mock, set, call));
    const origin = new URL(mock.baseUrl).origin;
    const before = refused.length;
    for (const request of requests) {
      const init: RequestInit = { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) };
      const response = await send(new Request(`${origin}${request.path}`, init));
      const text = await response.text();
      const check = contract.validateResponse({ method: request.method, path: request.path, status: response.status, body: parseBody(text) });
      const what = `${id} ${request.operationId} (${request.method} ${request.path})`;
      if (response.status < 200 || response.status >= 300) refused.push(`${what}: ${response.status} ${text.slice(0, 200)}`);
      else if (check.operationId !== request.operationId) refused.push(`${what}: the contract matches ${check.operationId ?? "no operation"}`);
      else if (!check.valid) refused.push(`${what}: ${formatErrors(check.errors)}`);
    }
    const answered = refused.length === before ? "answer 2xx as their contract says" : `sent, ${refused.length - before} not answered as they should be`;
    console.log(`${id.padEnd(13)} ${requests.length} operations ${answered}: ${set.calls.map((call) => call.operationId).join(", ")}`);
    plan.targets.push({
      id,
      origin,
      requests,
      amount: PER_API,
      connections: CONNECTIONS,
      ...(set.digest ? { digest: { username: MOCK_CREDENTIALS.username, password: MOCK_CREDENTIALS.password } } : {}),
    });
  }
  if (refused.length > 0) throw new Error(`Not every request of the sets is answered as it should be:\n  ${refused.join("\n  ")}`);

  // --- The load, from a second process. -----------------------------------------------------
  console.log(`\nload: ${fmt(PER_API)} requests per mock, ${CONNECTIONS} connections, one mock after another; load average ${load()}`);
  const loadStarted = performance.now();
  const report = await new Promise<LoadReport>((resolve, reject) => {
    // Inherits this process's execArgv: tsx's loader, so the child runs TypeScript too.
    const child = (loader = fork(fileURLToPath(new URL("./mock-load.ts", import.meta.url)), { stdio: "inherit" }));
    const hardStop = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The load generator did not report within ${TIME_LIMIT_MS / 1000 + 30} s.`));
    }, TIME_LIMIT_MS + 30_000);
    child.once("message", (message) => {
      clearTimeout(hardStop);
      resolve(message as LoadReport);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(hardStop);
      reject(new Error(`The load generator exited (${signal ?? code}) without a report.`));
    });
    child.send(plan);
  });
  if ("error" in report) throw new Error(`The load generator failed: ${report.error}`);
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  // --- Report. ------------------------------------------------------------------------------
  const errorsOf = (row: TargetReport) => row.non2xx + row.socketErrors;
  const line = (name: string, rows: TargetReport[]) => {
    const latencies = rows.flatMap((row) => row.latencies).sort((a, b) => a - b);
    const responses = rows.reduce((sum, row) => sum + row.responses, 0);
    const ms = rows.reduce((sum, row) => sum + row.durationMs, 0);
    const cells = [
      fmt(responses),
      fmt(rows.reduce((sum, row) => sum + row.ok, 0)),
      fmt(rows.reduce((sum, row) => sum + errorsOf(row), 0)),
      fmt((responses / ms) * 1000),
      percentile(latencies, 50).toFixed(1),
      percentile(latencies, 99).toFixed(1),
    ];
    console.log(`${name.padEnd(13)} ${cells.map((cell, index) => cell.padStart([9, 7, 7, 8, 7, 7][index]!)).join(" ")}`);
  };
  console.log(`\n${"API".padEnd(13)} ${"responses".padStart(9)} ${"2xx".padStart(7)} ${"errors".padStart(7)} ${"req/s".padStart(8)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)}`);
  for (const row of report.targets) line(row.id, [row]);
  line("total", report.targets);
  console.log(`(total req/s: all responses over the sum of the five runs' durations; the load took ${loadSeconds.toFixed(1)} s with the second process's start; load average ${load()})`);

  const problems: string[] = [];
  if (report.timedOut) problems.push(`the time limit of ${TIME_LIMIT_MS / 1000} s was hit`);
  for (const row of report.targets) {
    if (row.socketErrors > 0) problems.push(`${row.id}: ${row.socketErrors} connection errors (${row.timeouts} of them timeouts)`);
    for (const [key, { count, body }] of Object.entries(row.failures)) problems.push(`${row.id}: ${count} × ${key}: ${body}`);
    if (row.non2xx > 0 && Object.keys(row.failures).length === 0) problems.push(`${row.id}: ${row.non2xx} non-2xx answers`);
  }
  const total = report.targets.reduce((sum, row) => sum + row.responses, 0);
  if (total < PER_API * IDS.length) problems.push(`${fmt(total)} responses of ${fmt(PER_API * IDS.length)}`);
  if (problems.length > 0) {
    console.log(`\nFAIL\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  } else console.log(`\nok: ${fmt(total)} requests, all answered 2xx`);
} catch (error) {
  if (!interrupted) console.error(`\n${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
