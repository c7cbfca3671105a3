/**
 * `cloud-contracts verify`: checks recorded exchanges against the bundled contracts and measures
 * which documented (operation, status) pairs the recordings cover.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { APIS } from "../apis.js";
import { loadContract, type Contract, type ContractError } from "../contract/index.js";

export interface VerifyOptions {
  /** Check every recording against this API; otherwise the folder name or the URL decides. */
  api?: string;
  /** Also report properties the contract does not name. */
  strict?: boolean;
}

/** Why a file could not be checked at all (bad input, exit code 2). */
export type InputProblem = "unreadable" | "not-json" | "not-a-recording" | "no-api" | "no-operation";

export interface FileResult {
  file: string;
  api?: string;
  method?: string;
  path?: string;
  status?: number;
  operationId?: string;
  valid: boolean;
  errors: ContractError[];
  problem?: InputProblem;
  /** One-line explanation of the problem. */
  message?: string;
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
  coverage: ApiCoverage[];
  /** 0 all valid, 1 contract violations, 2 bad input. */
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

/** Every `.json` file under the given files and folders, in a stable order. */
export async function collectFiles(inputs: readonly string[]): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) missing.push(input);
    else if (info.isDirectory()) {
      const entries = await readdir(input, { recursive: true, withFileTypes: true });
      files.push(...entries.filter((e) => e.isFile() && e.name.endsWith(".json")).map((e) => join(e.parentPath, e.name)).sort());
    } else files.push(input);
  }
  return { files, missing };
}

export async function verify(inputs: readonly string[], options: VerifyOptions = {}): Promise<VerifyReport> {
  if (options.api !== undefined && !APIS.some((api) => api.id === options.api)) {
    throw new Error(`--api: unknown API id "${options.api}". Known ids: ${APIS.map((a) => a.id).join(", ")}.`);
  }
  const contracts = new Map<string, Contract>();
  const contractFor = async (id: string) => {
    let contract = contracts.get(id);
    if (!contract) contracts.set(id, (contract = await loadContract(id)));
    return contract;
  };

  const { files, missing } = await collectFiles(inputs);
  const results: FileResult[] = missing.map((file) => ({ file, valid: false, errors: [], problem: "unreadable", message: "no such file or folder" }));
  const seen = new Map<string, Map<string, Map<string, number>>>(); // api → operationId → status key → count

  for (const file of files) {
    const text = await readFile(file, "utf8").catch((error: Error) => error);
    if (text instanceof Error) {
      results.push({ file, valid: false, errors: [], problem: "unreadable", message: text.message });
      continue;
    }
    let recording: unknown;
    try {
      recording = JSON.parse(text);
    } catch (error) {
      results.push({ file, valid: false, errors: [], problem: "not-json", message: `not JSON: ${(error as Error).message}` });
      continue;
    }
    if (!isRecording(recording)) {
      results.push({ file, valid: false, errors: [], problem: "not-a-recording", message: "not a recording: needs request.method, request.path and response.status" });
      continue;
    }
    const { method, path } = recording.request;
    const { status, body } = recording.response;
    const api = options.api ?? (await guessApi(file, method, path, contractFor));
    if (!api) {
      results.push({ file, method, path, status, valid: false, errors: [], problem: "no-api", message: `no contract describes ${method.toUpperCase()} ${path} (use --api)` });
      continue;
    }
    const contract = await contractFor(api);
    const result = contract.validateResponse({ method, path, status, body }, { strict: options.strict ?? false });
    if (result.errors[0]?.keyword === "operation") {
      results.push({ file, api, method, path, status, valid: false, errors: result.errors, problem: "no-operation", message: result.errors[0].message });
      continue;
    }
    results.push({ file, api, method, path, status, ...(result.operationId ? { operationId: result.operationId } : {}), valid: result.valid, errors: result.errors });
    if (result.operationId && result.errors[0]?.keyword !== "status") {
      const byOperation = seen.get(api) ?? new Map<string, Map<string, number>>();
      seen.set(api, byOperation);
      const byStatus = byOperation.get(result.operationId) ?? new Map<string, number>();
      byOperation.set(result.operationId, byStatus);
      const key = statusKey(contract, method, path, status);
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    }
  }

  const coverage: ApiCoverage[] = [];
  for (const id of [...new Set(results.flatMap((r) => (r.api ? [r.api] : [])))].sort()) {
    coverage.push(coverageOf(id, await contractFor(id), seen.get(id) ?? new Map()));
  }
  const exitCode = results.some((r) => r.problem) ? 2 : results.some((r) => !r.valid) ? 1 : 0;
  return { results, coverage, exitCode };
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
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const name = basename(dir);
    if (APIS.some((api) => api.id === name)) return name;
  }
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
