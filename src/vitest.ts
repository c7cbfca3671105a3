/**
 * A vitest matcher that checks a response against a contract:
 *
 *   import { expect } from "vitest";
 *   import { toMatchContract } from "cloud-api-contracts/vitest";
 *   expect.extend({ toMatchContract });
 *
 *   await expect(await client.GET("/stacks")).toMatchContract("cloud66");
 *   await expect(await fetch(url)).toMatchContract("cvm", { strict: true });
 *
 * It takes an openapi-fetch result (`{ data, error, response }`), a `Response`, or a plain
 * `{ method, path, status, body }`. A `Response` does not say which method produced it: pass
 * `{ method }`, or the matcher accepts the answer if any operation on that path allows it.
 */
import type {} from "vitest";
import { HTTP_METHODS } from "./contract/document.js";
import { formatErrors, loadContract, type Contract, type ValidationResult } from "./contract/index.js";

export interface MatchContractOptions {
  /** HTTP method of the request; inferred when the input carries it. */
  method?: string;
  /** Also fail on properties the contract does not name. */
  strict?: boolean;
}

interface Exchange {
  method?: string;
  path: string;
  status: number;
  body: unknown;
}

const contracts = new Map<string, Promise<Contract>>();
const contractFor = (api: string) => {
  let contract = contracts.get(api);
  if (!contract) contracts.set(api, (contract = loadContract(api)));
  return contract;
};

async function readResponse(response: Response): Promise<unknown> {
  const text = await response.clone().text();
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function toExchange(received: unknown): Promise<Exchange> {
  if (received instanceof Response) {
    return { path: new URL(received.url).pathname, status: received.status, body: await readResponse(received) };
  }
  const value = received as { response?: unknown; data?: unknown; error?: unknown; method?: string; path?: string; status?: number; body?: unknown };
  if (value?.response instanceof Response) {
    const body = value.data ?? value.error ?? (await readResponse(value.response));
    return { path: new URL(value.response.url).pathname, status: value.response.status, body };
  }
  if (typeof value?.path === "string" && typeof value.status === "number") {
    return { ...(value.method ? { method: value.method } : {}), path: value.path, status: value.status, body: value.body };
  }
  throw new TypeError("toMatchContract expects an openapi-fetch result, a Response, or { method, path, status, body }.");
}

export async function toMatchContract(
  this: { isNot?: boolean },
  received: unknown,
  api: string,
  options: MatchContractOptions = {},
): Promise<{ pass: boolean; message: () => string }> {
  const contract = await contractFor(api);
  const exchange = await toExchange(received);
  const method = options.method ?? exchange.method;
  const methods = method ? [method] : HTTP_METHODS.filter((m) => contract.findOperation(m, exchange.path)?.method === m);
  const checks: { method: string; result: ValidationResult }[] = (methods.length > 0 ? methods : ["get"]).map((m) => ({
    method: m,
    result: contract.validateResponse({ method: m, path: exchange.path, status: exchange.status, body: exchange.body }, { strict: options.strict ?? false }),
  }));
  const passing = checks.find((check) => check.result.valid);
  const describe = (check: { method: string; result: ValidationResult }) =>
    `${check.method.toUpperCase()} ${exchange.path} ${exchange.status}${check.result.operationId ? ` (${check.result.operationId})` : ""}`;
  return {
    pass: passing !== undefined,
    message: () =>
      passing
        ? `expected the answer not to match the ${api} contract, but it matches ${describe(passing)}`
        : `expected the answer to match the ${api} contract:\n${checks.map((check) => `${describe(check)}\n${formatErrors(check.result.errors).replace(/^/gm, "  ")}`).join("\n")}`,
  };
}

interface ContractMatchers<R = unknown> {
  /** Checks the answer against the named API's contract (await it: the check is asynchronous). */
  toMatchContract(api: string, options?: MatchContractOptions): Promise<R>;
}

declare module "vitest" {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends ContractMatchers<T> {}
}
