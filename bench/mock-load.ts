/**
 * The load generator of `npm run bench:mock`: forked by mock.bench.ts, so that the requests come
 * from another process than the one that started the mocks (and runs the Cloud Manager digest
 * front). It receives a LoadPlan over IPC, runs autocannon against each mock in turn, and sends
 * back a LoadReport. It is a client like any other: for a digest-secured mock it fetches one
 * challenge and answers it on every request (nc counted up, a new cnonce each time).
 */
import { randomBytes } from "node:crypto";
import autocannon from "autocannon";
import { authorizationHeader, chooseChallenge, parseDigestChallenges, type DigestChallenge } from "../src/runtime/digest.ts";

export interface LoadRequest {
  /** The operation the request addresses, checked by mock.bench.ts before the load. */
  operationId: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path and query as sent, base path included. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadTarget {
  id: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  requests: LoadRequest[];
  /** Responses to wait for, spread over the connections (each cycles through `requests`). */
  amount: number;
  connections: number;
  /** Answer HTTP Digest challenges with these keys. */
  digest?: { username: string; password: string };
}

export interface LoadPlan {
  targets: LoadTarget[];
  /** For the whole plan; past it, the running target is stopped and the others are not started. */
  timeLimitMs: number;
  /** Per request. */
  timeoutSeconds: number;
}

export interface TargetReport {
  id: string;
  connections: number;
  /** Responses received, whatever their status. */
  responses: number;
  ok: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  socketErrors: number;
  timeouts: number;
  /** From the first request sent to the last response received. */
  durationMs: number;
  /** Every response's latency in ms (to the microsecond), in the order received. */
  latencies: number[];
  /** Non-2xx answers by operation and status, e.g. `getHost 401`, with the first body seen. */
  failures: Record<string, { count: number; body: string }>;
}

export type LoadReport = { targets: TargetReport[]; timedOut: boolean } | { error: string };

async function digestChallenge(target: LoadTarget): Promise<DigestChallenge> {
  const probe = target.requests.find((request) => request.method === "GET") ?? target.requests[0]!;
  const response = await fetch(`${target.origin}${probe.path}`);
  await response.body?.cancel();
  const challenge = chooseChallenge(parseDigestChallenges(response.headers.get("WWW-Authenticate") ?? ""));
  if (response.status !== 401 || !challenge) throw new Error(`${target.id}: expected a 401 with a Digest challenge, got ${response.status}.`);
  return challenge;
}

async function load(target: LoadTarget, deadline: number, timeoutSeconds: number): Promise<{ report: TargetReport; timedOut: boolean }> {
  const digest = target.digest;
  const challenge = digest ? await digestChallenge(target) : undefined;
  let nc = 0;
  const failures: TargetReport["failures"] = {};
  const requests: autocannon.Request[] = target.requests.map((request) => ({
    method: request.method,
    path: request.path,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    ...(digest && challenge
      ? {
          setupRequest: (sent: autocannon.Request) => {
            const authorization = authorizationHeader({
              challenge,
              username: digest.username,
              password: digest.password,
              method: sent.method ?? "GET",
              uri: sent.path ?? "/",
              nc: ++nc,
              cnonce: randomBytes(8).toString("hex"),
            });
            return { ...sent, headers: { ...sent.headers, Authorization: authorization } };
          },
        }
      : {}),
    onResponse: (status: number, body: string) => {
      if (status >= 200 && status < 300) return;
      const key = `${request.operationId} ${status}`;
      (failures[key] ??= { count: 0, body: body.slice(0, 300) }).count++;
    },
  }));

  const latencies: number[] = [];
  let lastResponseAt = 0;
  const started = performance.now();
  let timedOut = false;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.origin,
        connections: target.connections,
        amount: target.amount,
        timeout: timeoutSeconds,
        requests,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      lastResponseAt = performance.now();
    });
    const stopper = setTimeout(() => {
      timedOut = true;
      instance.stop();
    }, Math.max(0, deadline - Date.now()));
    instance.once("done", () => clearTimeout(stopper));
  });

  return {
    timedOut,
    report: {
      id: target.id,
      connections: target.connections,
      responses: latencies.length,
      ok: result["2xx"],
      non2xx: result.non2xx,
      socketErrors: result.errors,
      timeouts: result.timeouts,
      durationMs: (lastResponseAt || performance.now()) - started,
      latencies,
      failures,
    },
  };
}

process.once("message", async (plan: LoadPlan) => {
  let report: LoadReport;
  try {
    const deadline = Date.now() + plan.timeLimitMs;
    const targets: TargetReport[] = [];
    let timedOut = false;
    for (const target of plan.targets) {
      if (Date.now() >= deadline) {
        timedOut = true;
        break;
      }
      const loaded = await load(target, deadline, plan.timeoutSeconds);
      targets.push(loaded.report);
      if ((timedOut = loaded.timedOut)) break;
    }
    report = { targets, timedOut };
  } catch (error) {
    report = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  process.send!(report, () => process.disconnect());
});
