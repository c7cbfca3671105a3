/**
 * What `npm run bench:client` measures (see bench/README.md): one GET of a list per call, made
 * by raw fetch, by bare openapi-fetch (also with a fixed Digest answer: Cloud Manager's baseline),
 * and by each of the five clients with its default options,
 * against the loopback server of client-server.ts; and the loop that keeps a number of calls in
 * flight. Shared by client.bench.ts (throughput) and client-heap.ts (heap after many requests).
 */
import createClient from "openapi-fetch";
import type { paths as CloudManagerPaths } from "../generated/cloudmanager/schema.ts";
import type { paths as CvmPaths } from "../generated/cvm/schema.ts";

/**
 * The clients as a user runs them: compiled, from dist/ (`npm run bench:client` compiles first).
 * Not from src/ through tsx, which wraps every function expression of src/ in a helper of its own
 * (some 5 µs a call here).
 */
const compiled = <Module>(file: string): Promise<Module> => import(new URL(`../dist/clients/${file}`, import.meta.url).href);
const { createCloud66Client } = await compiled<typeof import("../src/clients/cloud66.ts")>("cloud66.js");
const { createCloudManagerClient } = await compiled<typeof import("../src/clients/cloudmanager.ts")>("cloudmanager.js");
const { createCloudMcClient } = await compiled<typeof import("../src/clients/cloudmc.ts")>("cloudmc.js");
const { createCloudStackClient } = await compiled<typeof import("../src/clients/cloudstack.ts")>("cloudstack.js");
const { createCvmClient } = await compiled<typeof import("../src/clients/cvm.ts")>("cvm.js");
const { authorizationHeader, parseDigestChallenges } = (await import(new URL("../dist/runtime/digest.js", import.meta.url).href)) as typeof import("../src/runtime/digest.ts");

export type Call = () => Promise<unknown>;

/** Calls in flight at once, for every figure. */
export const CONCURRENCY = 8;
/** Calls before the heap is read a second time (client-heap.ts). */
export const HEAP_REQUESTS = 20_000;

export interface HeapReport {
  /** `heapUsed` after the warm-up and a full collection, in bytes. */
  before: number;
  /** `heapUsed` after HEAP_REQUESTS more calls and a full collection, in bytes. */
  after: number;
}

/** The same two headers bare fetch and bare openapi-fetch send (CVM's token pair). */
const TOKENS = { "API-Public-Token": "bench-public", "API-Private-Token": "bench-private" };

/**
 * A Digest answer as long as the ones the Cloud Manager client sends (SHA-256, `qop=auth`, a UUID
 * cnonce), written once: what `openapi-fetch+digest` sends on every call. An `Authorization` header
 * of this size alone costs a loopback call 3–10% (undici checks and writes it, the server reads it;
 * bench/README.md), so Cloud Manager's client is held to a baseline that sends the same bytes.
 */
const DIGEST_ANSWER = authorizationHeader({
  challenge: parseDigestChallenges('Digest realm="bench", nonce="bench-nonce", algorithm=SHA-256, qop="auth"')[0]!,
  username: "bench-public",
  password: "bench-private",
  method: "GET",
  uri: "/api/public/v1.0/groups",
  nc: 1,
  cnonce: "3f6c1b5e-5e3f-4a9b-8d4c-6a3bb6a1d0e2",
});

export const SUBJECTS = {
  fetch: (origin: string): Call => async () => (await fetch(`${origin}/api/client/vps/list`, { headers: TOKENS })).json(),
  "openapi-fetch": (origin: string): Call => {
    const client = createClient<CvmPaths>({ baseUrl: origin, headers: TOKENS });
    return () => client.GET("/api/client/vps/list");
  },
  "openapi-fetch+digest": (origin: string): Call => {
    const client = createClient<CloudManagerPaths>({ baseUrl: `${origin}/api/public/v1.0`, headers: { Authorization: DIGEST_ANSWER } });
    return () => client.GET("/groups");
  },
  cvm: (origin: string): Call => {
    const client = createCvmClient({ baseUrl: origin, publicToken: "bench-public", privateToken: "bench-private" });
    return () => client.GET("/api/client/vps/list");
  },
  cloudmc: (origin: string): Call => {
    const client = createCloudMcClient({ baseUrl: `${origin}/api/v2`, apiKey: "bench-key" });
    return () => client.GET("/organizations");
  },
  cloudstack: (origin: string): Call => {
    const client = createCloudStackClient({ baseUrl: `${origin}/api/v2`, apiKey: "bench-key", serviceCode: "compute-qc", environmentName: "dev" });
    return () => client.GET("/instances");
  },
  cloud66: (origin: string): Call => {
    const client = createCloud66Client({ baseUrl: `${origin}/api/3`, token: "bench-token" });
    return () => client.GET("/stacks");
  },
  cloudmanager: (origin: string): Call => {
    const client = createCloudManagerClient({ baseUrl: `${origin}/api/public/v1.0`, publicKey: "bench-public", privateKey: "bench-private" });
    return () => client.GET("/groups");
  },
} satisfies Record<string, (origin: string) => Call>;

export type SubjectName = keyof typeof SUBJECTS;
export const CLIENTS: SubjectName[] = ["cvm", "cloudmc", "cloudstack", "cloud66", "cloudmanager"];

/** Keeps `concurrency` calls in flight until `count` have answered; the calls per second. */
export async function load(call: Call, count: number, concurrency: number): Promise<number> {
  let left = count;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left -= 1;
        await call();
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}
