/**
 * `npm run reference`, which writes a contract's reference inventory from a clone of the vendor's
 * reference: run on a scratch git repository of Slate pages with a small history (an endpoint
 * added, one moved, one dropped), it lists the revision's request lines, applies the renames and
 * left-out decisions, and writes a deprecated form only with evidence from the history.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildInventory, extractRequestLines, normalizePath, parseInventory, renderInventory, type ReferenceConfig } from "../../scripts/reference.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const exec = promisify(execFile);

let repo: string;
/** Commits of the scratch reference, oldest first. */
const commits: Record<"first" | "moved" | "latest", string> = { first: "", moved: "", latest: "" };

const page = (...requestLines: string[]) => requestLines.map((line) => `### A call\n\n${line}\n\nSome prose.\n`).join("\n");

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), "cloud-contracts-reference-test-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args], { cwd: repo, encoding: "utf8" }).trim();
  const write = async (file: string, text: string) => {
    await mkdir(join(repo, "source", "admin"), { recursive: true });
    await writeFile(join(repo, "source", file), text);
  };
  git("init", "-q", "-b", "main");
  await write("admin/_settings.md", page("`GET /workspace_settings/:id`", "`PUT /workspace_settings/:id`"));
  await write("admin/_users.md", page("`GET /users`", "`GET /users/:id`"));
  git("add", ".");
  git("commit", "-q", "-m", "first");
  commits.first = git("rev-parse", "HEAD");
  await write("admin/_settings.md", page("`GET /reseller/settings/workspace/:id`", "`PUT /reseller/settings/workspace/:id`"));
  git("commit", "-qam", "move workspace settings");
  commits.moved = git("rev-parse", "HEAD");
  await write(
    "admin/_users.md",
    page(
      "`GET /users`",
      "`GET /users/:id`",
      "`GET /users?organization_id=:id`",
      '<code>POST /services/<a href="#x">:service_code</a>/:environment_name/instances/:id?operation=stop</code>',
      "`GET https://cloudmc_endpoint/api/v2/tasks/:id`",
      "`POST /content/categories/`",
      "`POST /quotas/:quota_id?service=true&trial=false`",
    ) + "\n```http\nGET /stacks/dns_providers HTTP/1.1\n```\n",
  );
  git("commit", "-qam", "more users");
  commits.latest = git("rev-parse", "HEAD");
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

const config = (extra: Partial<ReferenceConfig> = {}): ReferenceConfig => ({
  repository: "example/reference",
  commit: commits.latest,
  format: "slate",
  files: ["source/admin/*.md"],
  ...extra,
});

describe("normalizePath", () => {
  it("writes request targets as the contract writes paths", () => {
    expect(normalizePath("/users/:user_id/additional_roles/:id")).toBe("/users/{user_id}/additional_roles/{id}");
    expect(normalizePath("https://cloudmc_endpoint/api/v2/tasks/:id")).toBe("/tasks/{id}");
    expect(normalizePath("service/:serviceType/filterable_fields")).toBe("/service/{serviceType}/filterable_fields");
    expect(normalizePath("/quotas/:id1?quota_id=:id2")).toBe("/quotas/{id1}");
    expect(normalizePath("/templates/:id?operation=update&org_id=:org")).toBe("/templates/{id}?operation=update");
    expect(normalizePath("/content/categories/")).toBe("/content/categories");
    expect(normalizePath("/ failover_groups")).toBe("/failover_groups");
    expect(normalizePath("/stacks/{stack_id}/servers/#{server_id}/reboot_server")).toBe("/stacks/{stack_id}/servers/{server_id}/reboot_server");
  });
});

describe("extractRequestLines", () => {
  it("reads Slate request lines in backticks or <code>, whatever the verb's case", () => {
    const page = "### Delete\n\n`Delete /identity_providers/:id`\n\n<code>GET /x/<a href=\"#y\">:id</a></code>\n\n    GET /not/a/request/line\n";
    expect(extractRequestLines("slate", page)).toEqual([
      { method: "DELETE", path: "/identity_providers/{id}" },
      { method: "GET", path: "/x/{id}" },
    ]);
  });

  it("reads ZippyDoc calls, with parameters in backticks or bold", () => {
    const page = "^ GET /api/client/vps/list\n\n\tText.\n\n^ POST /api/client/vps/`id`/start\n^ GET /api/client/vps/**id**/status\n";
    expect(extractRequestLines("zpy", page)).toEqual([
      { method: "GET", path: "/api/client/vps/list" },
      { method: "POST", path: "/api/client/vps/{id}/start" },
      { method: "GET", path: "/api/client/vps/{id}/status" },
    ]);
  });
});

describe("buildInventory", () => {
  it("lists every request line of the revision once, in file order, as described", () => {
    const lines = buildInventory(config(), repo);
    expect(lines.map(({ method, path, status }) => `${status} ${method} ${path}`)).toEqual([
      "described GET /reseller/settings/workspace/{id}",
      "described PUT /reseller/settings/workspace/{id}",
      "described GET /users",
      "described GET /users/{id}",
      "described POST /services/{service_code}/{environment_name}/instances/{id}?operation=stop",
      "described GET /tasks/{id}",
      "described POST /content/categories",
      "described POST /quotas/{quota_id}",
    ]);
    expect(new Set(lines.map(({ commit }) => commit))).toEqual(new Set([commits.latest.slice(0, 8)]));
    expect(lines[0]!.file).toBe("source/admin/_settings.md");
  });

  it("reads the revision named by the config, not the newest one", () => {
    const lines = buildInventory(config({ commit: commits.first }), repo);
    expect(lines.map(({ method, path }) => `${method} ${path}`)).toEqual(["GET /workspace_settings/{id}", "PUT /workspace_settings/{id}", "GET /users", "GET /users/{id}"]);
  });

  it("strips the prefix the contract's server carries", () => {
    const lines = buildInventory(config({ stripPrefix: "/services/:service_code/:environment_name" }), repo);
    expect(lines.map(({ path }) => path)).toContain("/instances/{id}?operation=stop");
  });

  it("applies renames (with the request line in the note) and left-out decisions", () => {
    const lines = buildInventory(
      config({
        rename: [
          { method: "POST", path: "/quotas/{id}", to: "/quotas/{id}/default", reason: "the curl example calls /default" },
          { method: "PUT", path: "/reseller/settings/workspace/{id}", to: "POST /reseller/settings/workspace/{id}", reason: "the curl example posts" },
        ],
        leftOut: [{ method: "GET", path: "/tasks/{task}", reason: "described in the CloudStack contract" }],
      }),
      repo,
    );
    expect(lines.find(({ path }) => path.startsWith("/quotas"))).toMatchObject({
      path: "/quotas/{id}/default",
      status: "described",
      note: "request line: POST /quotas/{quota_id}; the curl example calls /default",
    });
    expect(lines[1]).toMatchObject({ method: "POST", path: "/reseller/settings/workspace/{id}", note: "request line: PUT /reseller/settings/workspace/{id}; the curl example posts" });
    expect(lines.find(({ path }) => path === "/tasks/{id}")?.status).toBe("left out: described in the CloudStack contract");
  });

  it("renames the n-th of several identical request lines, when a page writes two calls alike", () => {
    const rename = (occurrence: number) => buildInventory(config({ rename: [{ method: "GET", path: "/users", occurrence, to: "/users/search", reason: "r" }] }), repo, "ref.yaml");
    expect(rename(2).map(({ path }) => path).filter((path) => path.startsWith("/users"))).toEqual(["/users", "/users/{id}", "/users/search"]);
    expect(() => rename(3)).toThrow("ref.yaml: rename: GET /users is no request line of the reference");
  });

  it("lists a call the page shows only in a sample, when the sample is there", () => {
    const unlisted = (sample: string) =>
      buildInventory(config({ unlisted: [{ method: "GET", path: "/stacks/dns_providers", file: "source/admin/_users.md", sample, reason: "no request line" }] }), repo, "ref.yaml");
    expect(unlisted("GET /stacks/dns_providers HTTP/1.1").at(-1)).toMatchObject({ method: "GET", path: "/stacks/dns_providers", status: "described", note: "no request line" });
    expect(() => unlisted("GET /dns_providers HTTP/1.1")).toThrow('does not contain "GET /dns_providers HTTP/1.1"');
  });

  it("refuses a decision about a request line the revision does not have", () => {
    expect(() => buildInventory(config({ leftOut: [{ method: "GET", path: "/nothing", reason: "x" }] }), repo, "ref.yaml")).toThrow(
      "ref.yaml: leftOut: GET /nothing is no request line of the reference",
    );
  });

  it("writes a dropped form as deprecated with the commit and date that removed it", () => {
    const [line] = buildInventory(
      config({
        files: ["source/admin/_settings.md"],
        deprecated: [
          { method: "GET", path: "/workspace_settings/{id}", file: "source/admin/_settings.md", removedIn: commits.moved.slice(0, 10), replacement: "GET /reseller/settings/workspace/{id}" },
        ],
      }),
      repo,
    ).filter(({ status }) => status === "deprecated");
    expect(line).toMatchObject({ method: "GET", path: "/workspace_settings/{id}", commit: commits.moved.slice(0, 8), status: "deprecated" });
    expect(line!.note).toMatch(/^dropped \d{4}-\d\d-\d\d; replaced by GET \/reseller\/settings\/workspace\/\{id\}$/);
  });

  it("refuses a deprecated form without evidence: wrong commit, still current, or never there", () => {
    const deprecated = (entry: Partial<NonNullable<ReferenceConfig["deprecated"]>[number]>) =>
      () => buildInventory(config({ deprecated: [{ method: "GET", path: "/workspace_settings/{id}", file: "source/admin/_settings.md", removedIn: commits.moved, replacement: "none", ...entry }] }), repo, "ref.yaml");
    expect(deprecated({ removedIn: commits.latest })).toThrow(/has no such request line before/);
    expect(deprecated({ path: "/users/{id}" })).toThrow(/still a request line .*: it is current, not deprecated/);
    expect(deprecated({ removedIn: "0123456789abcdef" })).toThrow(/removedIn 0123456789abcdef is not a commit/);
  });

  it("refuses a commit the clone does not have, and a glob that matches nothing", () => {
    expect(() => buildInventory(config({ commit: "feedface" }), repo, "ref.yaml")).toThrow("ref.yaml: commit feedface is not in");
    expect(() => buildInventory(config({ files: ["docs/*.md"] }), repo, "ref.yaml")).toThrow('ref.yaml: files: "docs/*.md" matches nothing');
  });

  it("round-trips through the TSV", () => {
    const lines = buildInventory(config(), repo);
    expect(parseInventory(renderInventory(lines), "x.tsv")).toEqual(lines);
  });
});

describe("npm run reference", () => {
  const run = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await exec(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "scripts", "reference.ts"), ...args], { cwd: ROOT });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, output: failed.stdout + failed.stderr };
    }
  };

  it("needs --repo or --dir, and an API that has a reference.yaml", async () => {
    expect(await run("cloudmc")).toMatchObject({ code: 1, output: expect.stringContaining("Give one of --repo") });
    expect(await run("nope", "--repo", repo)).toMatchObject({ code: 1, output: expect.stringContaining("spec/nope/reference.yaml") });
  });

  it("names the config and the commit when the clone is not the API's reference", async () => {
    const result = await run("cloudmc", "--repo", repo, "--check");
    expect(result.code).toBe(1);
    expect(result.output).toContain("spec/cloudmc/reference.yaml: commit eb7d50d1 is not in");
  });
});
