/**
 * The README's client examples, unchanged, against the mocks: each ```ts block under "Using a
 * client" that imports one of the five clients is written to a file inside the package (so
 * `cloud-api-contracts/<id>` resolves to the built dist/ as it does for a consumer), type-checked
 * with tsc, and run in a child process whose `fetch` sends each vendor host to its mock (CloudMC's
 * and CloudStack's shared example portal by path). Credentials come from the environment variables
 * the examples read.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APIS } from "../src/apis.ts";
import { MOCK_DIGEST_CREDENTIALS } from "../src/mock/server.ts";
import { useMock } from "./support/mock.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const exec = promisify(execFile);

interface Example {
  name: string;
  code: string;
}

/** The client examples: ```ts blocks of "## Using a client" that import a client by its export. */
function clientExamples(readme: string): Example[] {
  const section = readme.slice(readme.indexOf("## Using a client"), readme.indexOf("\n## ", readme.indexOf("## Using a client") + 1));
  const ids = APIS.map(({ id }) => id);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].flatMap((match) => {
    const id = /from "cloud-api-contracts\/([a-z0-9]+)"/.exec(match[1]!)?.[1];
    return id && ids.includes(id as never) ? [{ name: id, code: match[1]! }] : [];
  });
}

// The vendor origins the examples name, and the mock each goes to.
const mocks = Object.fromEntries(APIS.map(({ id }) => [id, useMock(id)]));
let dir: string;
let examples: Example[];

/** Preloaded into each example: `fetch` sends the vendors' origins to the mocks. */
const PRELOAD = `
const routes = JSON.parse(process.env.README_MOCK_ROUTES);
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const request = new Request(input, init);
  const url = new URL(request.url);
  const route = routes.find((r) => url.origin === r.origin && url.pathname.startsWith(r.prefix));
  if (!route) return realFetch(request);
  const target = new URL(url.pathname + url.search, route.mock);
  return realFetch(new Request(target, request));
};
`;

beforeAll(async () => {
  examples = clientExamples(await readFile(join(ROOT, "README.md"), "utf8"));
  // Inside the package (not under node_modules), so the examples import it by name.
  dir = await mkdtemp(join(ROOT, ".tmp-readme-"));
  await writeFile(join(dir, "preload.mjs"), PRELOAD);
  for (const example of examples) await writeFile(join(dir, `${example.name}.ts`), example.code);
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({ extends: "../tsconfig.json", compilerOptions: { noEmit: true, allowImportingTsExtensions: false }, include: ["*.ts"] }),
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the README's client examples", () => {
  it("are found, one per client", () => {
    expect(examples.map(({ name }) => name).sort()).toEqual(APIS.map(({ id }) => id).sort());
  });

  it("type-check against the built package", async () => {
    const tsc = join(ROOT, "node_modules", ".bin", "tsc");
    await expect(exec(tsc, ["-p", join(dir, "tsconfig.json")], { cwd: ROOT }).then(() => "compiled", (error: { stdout: string }) => error.stdout)).resolves.toBe("compiled");
  });

  it.each(APIS.map(({ id }) => id))("run unchanged against the %s mock", async (id) => {
    const origin = (api: string) => new URL(mocks[api]!.current.baseUrl).origin;
    const routes = [
      { origin: "https://cloud.mongodb.com", prefix: "/", mock: origin("cloudmanager") },
      { origin: "https://app.cloud66.com", prefix: "/", mock: origin("cloud66") },
      { origin: "https://portal.example.net", prefix: "/api/v2/services/", mock: origin("cloudstack") },
      { origin: "https://portal.example.net", prefix: "/", mock: origin("cloudmc") },
      { origin: "https://panel.example.net", prefix: "/", mock: origin("cvm") },
    ];
    const env = {
      ...process.env,
      README_MOCK_ROUTES: JSON.stringify(routes),
      CM_PUBLIC_KEY: MOCK_DIGEST_CREDENTIALS.username,
      CM_PRIVATE_KEY: MOCK_DIGEST_CREDENTIALS.password,
      CLOUD66_TOKEN: "readme-token",
      CLOUDMC_API_KEY: "readme-key",
      CVM_PUBLIC_TOKEN: "readme-public",
      CVM_PRIVATE_TOKEN: "readme-private",
    };
    const tsx = join(ROOT, "node_modules", ".bin", "tsx");
    // A failed call (a refused request, an answer outside the contract's types) throws: exit 1.
    const run = exec(tsx, ["--import", join(dir, "preload.mjs"), join(dir, `${id}.ts`)], { cwd: ROOT, env, timeout: 60_000 });
    await expect(run.then(() => "ok", (error: { stderr: string }) => error.stderr)).resolves.toBe("ok");
  });
});
