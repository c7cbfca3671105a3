/**
 * `cloud-contracts verify`: checks recorded exchanges (this package's recordings, and HAR files)
 * against the bundled contracts and measures which documented (operation, status) pairs they
 * cover.
 *
 * Built to read what it is given without trusting it: each file is checked on its own, and
 * whatever goes wrong with one (unreadable, not JSON, nested too deep to walk, a FIFO) is
 * reported against that file while the run goes on; errors are capped per recording (the first
 * 100, and a count of the rest), so the time taken stays linear in the input.
 */
import { basename, dirname, extname } from "node:path";
import { APIS } from "../apis.js";
import { loadContract, type Contract, type ContractError } from "../contract/index.js";
import { MAX_JSON_DEPTH, nestingDepth, stripJsonPrefix } from "../json-text.js";
import { collectFiles, readRegularFile } from "./files.js";
import { apiScope, fixedHosts, inScope, isHar, readHarEntries, type HarExchange } from "./har.js";

export interface VerifyOptions {
  /** Check every recording (and every HAR entry of a host `hosts` does not name) against this API. */
  api?: string;
  /** HAR entries of these hosts (`host` or `host:port`) belong to these APIs: `{ "panel.example.net": "cvm" }`. */
  hosts?: Readonly<Record<string, string>>;
  /** Also report properties the contract does not name. */
  strict?: boolean;
  /** Exit 0 rather than 2 when there is no recording to check. */
  allowEmpty?: boolean;
}

/** Why a file (or HAR entry) could not be checked at all (bad input, exit code 2). */
export type InputProblem =
  | "unreadable" | "not-a-file" | "not-json" | "too-deep" | "not-a-recording" | "no-api" | "no-operation" | "failed";

export interface FileResult {
  file: string;
  /** For a HAR file: the index of the entry in `log.entries`, from 0. */
  entry?: number;
  api?: string;
  method?: string;
  path?: string;
  status?: number;
  operationId?: string;
  valid: boolean;
  /** At most 100 errors (then `moreErrors`). */
  errors: ContractError[];
  /** How many errors were left out of `errors`. */
  moreErrors?: number;
  problem?: InputProblem;
  /** One-line explanation of the problem. */
  message?: string;
}

/** A HAR entry that was not checked, and why: another host, outside the API, no answer. */
export interface SkippedEntry {
  file: string;
  entry: number;
  method?: string;
  url?: string;
  /** `host[:port]` of the URL, when it has one. */
  host?: string;
  reason: string;
}

export interface StatusCoverage {
  status: string;
  recordings: number;
}

export interface OperationCoverage {
  operationId: string;
  method: string;
  pathTemplate: string;
  statuses: StatusCoverage[];
}

export interface ApiCoverage {
  api: string;
  operations: OperationCoverage[];
  /** Documented (operation, status) pairs with at least one recording. */
  covered: number;
  total: number;
  percent: number;
}

export interface VerifyReport {
  results: FileResult[];
  skipped: SkippedEntry[];
  coverage: ApiCoverage[];
  /** Set when nothing was checked: says what was found instead. */
  empty?: string;
  /** 0 all valid, 1 contract violations, 2 bad input (or nothing to check without `allowEmpty`). */
  exitCode: 0 | 1 | 2;
}

interface Recording {
  request: { method: string; path: string };
  response: { status: number; body?: unknown };
}

const isRecording = (value: unknown): value is Recording => {
  const r = value as Recording | null;
  return (
    typeof r === "object" && r !== null &&
    typeof r.request?.method === "string" && typeof r.request?.path === "string" &&
    Number.isInteger(r.response?.status)
  );
};

/** One exchange to check, from a recording file or a HAR entry. */
interface Exchange {
  file: string;
  entry?: number;
  method: string;
  path: string;
  status: number;
  body: unknown;
}

const tooDeep = (depth: number) =>
  `body nests ${depth.toLocaleString("en-US")} levels deep; verify checks bodies up to ${MAX_JSON_DEPTH.toLocaleString("en-US")} levels (no API answer comes near)`;

export async function verify(inputs: readonly string[], options: VerifyOptions = {}): Promise<VerifyReport> {
  const known = (id: string, flag: string) => {
    if (!APIS.some((api) => api.id === id)) throw new Error(`${flag}: unknown API id "${id}". Known ids: ${APIS.map((a) => a.id).join(", ")}.`);
  };
  if (options.api !== undefined) known(options.api, "--api");
  for (const [host, id] of Object.entries(options.hosts ?? {})) known(id, `--host ${host}`);

  const contracts = new Map<string, Promise<Contract>>();
  const contractFor = (id: string) => {
    let contract = contracts.get(id);
    if (!contract) contracts.set(id, (contract = loadContract(id)));
    return contract;
  };
  const results: FileResult[] = [];
  const skipped: SkippedEntry[] = [];
  const seen = new Map<string, Map<string, Map<string, number>>>(); // api → operationId → status key → count

  /** Checks one exchange against one API, recording its result and its coverage. */
  async function check(exchange: Exchange, api: string): Promise<void> {
    const { file, method, path, status, body } = exchange;
    const where = { file, ...(exchange.entry !== undefined ? { entry: exchange.entry } : {}) };
    const contract = await contractFor(api);
    const result = contract.validateResponse({ method, path, status, body }, { strict: options.strict ?? false });
    if (result.errors[0]?.keyword === "operation") {
      results.push({ ...where, api, method, path, status, valid: false, errors: result.errors, problem: "no-operation", message: result.errors[0].message });
      return;
    }
    results.push({
      ...where, api, method, path, status,
      ...(result.operationId ? { operationId: result.operationId } : {}),
      valid: result.valid, errors: result.errors,
      ...(result.moreErrors ? { moreErrors: result.moreErrors } : {}),
    });
    if (result.operationId && result.errors[0]?.keyword !== "status") {
      const byOperation = seen.get(api) ?? new Map<string, Map<string, number>>();
      seen.set(api, byOperation);
      const byStatus = byOperation.get(result.operationId) ?? new Map<string, number>();
      byOperation.set(result.operationId, byStatus);
      const key = statusKey(contract, method, path, status);
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    }
  }

  async function checkRecording(file: string, recording: unknown): Promise<void> {
    if (!isRecording(recording)) {
      results.push({ file, valid: false, errors: [], problem: "not-a-recording", message: "not a recording: needs request.method, request.path and response.status (or a HAR file: log.entries)" });
      return;
    }
    const { method, path } = recording.request;
    const { status, body } = recording.response;
    const api = options.api ?? (await guessApi(file, method, path, contractFor));
    if (!api) {
      results.push({ file, method, path, status, valid: false, errors: [], problem: "no-api", message: `no contract describes ${method.toUpperCase()} ${path} (use --api)` });
      return;
    }
    await check({ file, method, path, status, body }, api);
  }

  async function checkHar(file: string, har: { log: { entries: unknown[] } }): Promise<void> {
    const hostApi = await harHostResolver(file, options, contractFor);
    for (const item of readHarEntries(har)) {
      if (item.kind === "skipped") {
        skipped.push({ file, entry: item.entry, method: item.method, url: item.url, host: hostOf(item.url), reason: item.reason });
      } else if (item.kind === "problem") {
        const message = item.problem === "too-deep" ? tooDeep(item.depth) : item.message;
        results.push({ file, entry: item.entry, method: item.method, path: item.url, valid: false, errors: [], problem: item.problem, message });
      } else {
        await checkHarExchange(file, item.exchange, hostApi(item.exchange.host));
      }
    }
  }

  async function checkHarExchange(file: string, exchange: HarExchange, api: string | undefined): Promise<void> {
    const { entry, method, url, host, path, status, body } = exchange;
    if (!api) {
      const reason = `no API for host ${host} (use --api <id> or --host ${host}=<id>)`;
      skipped.push({ file, entry, method, url, host, reason });
      return;
    }
    const contract = await contractFor(api);
    if (!contract.findOperation(method, path)) {
      // Browsers send these before cross-origin calls; proxies (mitmproxy, Charles) record them.
      if (method.toUpperCase() === "OPTIONS") {
        skipped.push({ file, entry, method, url, host, reason: "CORS preflight (OPTIONS), not an API call" });
        return;
      }
      const scope = apiScope(contract.document);
      if (!inScope(path, scope)) {
        skipped.push({ file, entry, method, url, host, reason: `outside the ${api} API (${scope || "/"})` });
        return;
      }
    }
    await check({ file, entry, method, path, status, body }, api);
  }

  const { files, unreadable, ignored } = await collectFiles(inputs);
  for (const { path, reason } of unreadable) {
    results.push({ file: path, valid: false, errors: [], problem: reason.includes("not a regular file") ? "not-a-file" : "unreadable", message: reason });
  }
  for (const { path: file } of files) {
    const text = await readRegularFile(file).catch((error: Error) => error);
    if (text instanceof Error) {
      const problem = text.message.includes("not a regular file") ? "not-a-file" : "unreadable";
      results.push({ file, valid: false, errors: [], problem, message: text.message });
      continue;
    }
    // Before anything walks it: a body nested deeper than the stack allows is this file's problem, not the run's end.
    const depth = nestingDepth(text);
    if (depth > MAX_JSON_DEPTH) {
      results.push({ file, valid: false, errors: [], problem: "too-deep", message: tooDeep(depth) });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(stripJsonPrefix(text));
    } catch (error) {
      results.push({ file, valid: false, errors: [], problem: "not-json", message: `not JSON: ${(error as Error).message}` });
      continue;
    }
    try {
      if (isHar(value)) await checkHar(file, value);
      else if (extname(file).toLowerCase() === ".har") results.push({ file, valid: false, errors: [], problem: "not-a-recording", message: "not a HAR file: needs log.entries" });
      else await checkRecording(file, value);
    } catch (error) {
      // Whatever else fails for one file (a contract that cannot load, a stack overflow in a walk) is that file's error.
      results.push({ file, valid: false, errors: [], problem: "failed", message: `could not check: ${(error as Error).message}` });
    }
  }

  const coverage: ApiCoverage[] = [];
  for (const id of [...new Set(results.flatMap((r) => (r.api ? [r.api] : [])))].sort()) {
    coverage.push(coverageOf(id, await contractFor(id), seen.get(id) ?? new Map()));
  }
  const empty = results.length === 0 ? emptyMessage(inputs, ignored, skipped.length) : undefined;
  const exitCode = results.some((r) => r.problem) || (empty && !options.allowEmpty) ? 2 : results.some((r) => !r.valid) ? 1 : 0;
  return { results, skipped, coverage, ...(empty ? { empty } : {}), exitCode };
}

function emptyMessage(inputs: readonly string[], ignored: number, skipped: number): string {
  const found = [
    ...(ignored > 0 ? [`${ignored} file(s) that are neither *.json nor *.har`] : []),
    ...(skipped > 0 ? [`${skipped} HAR entr${skipped === 1 ? "y" : "ies"}, all skipped`] : []),
  ];
  return `no recording to check in ${inputs.join(", ")}${found.length > 0 ? ` (found ${found.join(" and ")})` : ""}`;
}

const hostOf = (url: string | undefined) => {
  try {
    return url ? new URL(url).host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Which API the entries of each host of a HAR file belong to: `--host`, else `--api`, else a
 * contract whose server names that host, else a folder on the file's path named after an API.
 */
async function harHostResolver(
  file: string, options: VerifyOptions, contractFor: (id: string) => Promise<Contract>,
): Promise<(host: string) => string | undefined> {
  const named = new Map(Object.entries(options.hosts ?? {}).map(([host, id]) => [host.toLowerCase(), id]));
  const fixed = new Map<string, string>();
  for (const { id } of APIS) for (const host of fixedHosts((await contractFor(id)).document)) fixed.set(host, id);
  const folder = apiFolder(file);
  return (host) => {
    const hostname = host.replace(/:\d+$/, "");
    return named.get(host) ?? named.get(hostname) ?? options.api ?? fixed.get(host) ?? fixed.get(hostname) ?? folder;
  };
}

/** The name of a folder on the file's path that is an API id (test/recordings/<id>/...). */
function apiFolder(file: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const name = basename(dir);
    if (APIS.some((api) => api.id === name)) return name;
  }
  return undefined;
}

/** The documented response key a status falls under: itself, its `4XX` range, or `default`. */
function statusKey(contract: Contract, method: string, path: string, status: number): string {
  const operation = contract.findOperation(method, path)!;
  const responses = operation.operation.value.responses ?? {};
  return [String(status), `${String(status)[0]}XX`, "default"].find((key) => key in responses) ?? String(status);
}

/**
 * The API of a recording without `--api`: the name of a folder on its path that is an API id
 * (test/recordings/<id>/...), else the only contract that has an operation for its method and path.
 */
async function guessApi(file: string, method: string, path: string, contractFor: (id: string) => Promise<Contract>): Promise<string | undefined> {
  const folder = apiFolder(file);
  if (folder) return folder;
  const matches = [];
  for (const api of APIS) if ((await contractFor(api.id)).findOperation(method, path)) matches.push(api.id);
  return matches.length === 1 ? matches[0] : undefined;
}

function coverageOf(api: string, contract: Contract, seen: Map<string, Map<string, number>>): ApiCoverage {
  const operations = contract.operations.map((op) => ({
    operationId: op.operationId ?? `${op.method} ${op.pathTemplate}`,
    method: op.method,
    pathTemplate: op.pathTemplate,
    statuses: op.statuses.map((status) => ({ status, recordings: seen.get(op.operationId ?? "")?.get(status) ?? 0 })),
  }));
  const pairs = operations.flatMap((op) => op.statuses);
  const covered = pairs.filter((pair) => pair.recordings > 0).length;
  return { api, operations, covered, total: pairs.length, percent: pairs.length === 0 ? 0 : Math.round((covered / pairs.length) * 1000) / 10 };
}
