/**
 * `npm run reference -- <id> --repo <git dir> [--check]`: writes spec/<id>/reference.tsv, the
 * inventory of every endpoint the vendor's reference documents at the revision the contract
 * follows, read from a local clone of that reference (bare or not; `fetch` one first).
 *
 * spec/<id>/reference.yaml names the repository, the commit, the files to read and the request
 * line format, and holds the few decisions a person made: a request line the contract writes
 * otherwise (`rename`), one it does not describe (`leftOut`), and forms the reference dropped that
 * the contract keeps as deprecated (`deprecated`). A deprecated form is written only with evidence
 * found here: its request line is in the file at the parent of `removedIn` and gone at `removedIn`
 * and at the revision. Every other line is `described`. test/contract/inventory.test.ts then holds
 * the inventory against the bundled contract.
 *
 * The TSV: one line per endpoint, `method path file commit status note`; paths are written as the
 * contract writes them (`{name}` parameters, no query string but `?operation=<name>`).
 */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { ROOT, StepError, runIfMain, writeFileAtomic } from "./lib.ts";

export interface ReferenceConfig {
  repository: string;
  /** Branch or tag the commit was taken from (for the reader). */
  branch?: string;
  /** The revision the contract follows; a full or abbreviated commit id. */
  commit: string;
  /** Files to read, in order; `*` matches within one path segment. */
  files: string[];
  /** How request lines are written: `slate` (CloudMC's and Cloud 66's Slate pages), `zpy` (CVM's ZippyDoc). */
  format: keyof typeof EXTRACTORS;
  /** A prefix every request line starts with that the contract's server carries instead. */
  stripPrefix?: string;
  /**
   * `to` is the contract's path, or its method and path (`PUT /vpcs/{id}`) where the verb differs
   * too; `occurrence` picks the n-th request line of that form (a page that writes one line for two
   * different calls), default 1.
   */
  rename?: { method: string; path: string; to: string; reason: string; occurrence?: number }[];
  leftOut?: { method: string; path: string; reason: string }[];
  /** Calls a page documents without a request line: `sample` is text the file must contain (its HTTP sample). */
  unlisted?: { method: string; path: string; file: string; sample: string; reason: string }[];
  deprecated?: { method: string; path: string; file: string; removedIn: string; replacement: string }[];
}

export interface RequestLine {
  method: string;
  /** As the contract writes paths: `{name}` parameters, `?operation=<name>` kept, other queries dropped. */
  path: string;
}

export interface InventoryLine {
  method: string;
  path: string;
  file: string;
  commit: string;
  status: string;
  note: string;
}

const METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS";

/**
 * Slate pages (CloudMC): a request line is a paragraph of its own, in backticks or <code>, e.g.
 * `GET /users/:id` or <code>GET /services/<a href="...">:service_code</a>/...</code>. The verb's
 * case varies (`Delete /identity_providers/:id`).
 */
function slateRequestLines(text: string): RequestLine[] {
  const found: RequestLine[] = [];
  const pattern = new RegExp(`^\\s*(?:\`|<code>)(${METHODS}) ([^\`<]*(?:<[^>]*>[^\`<]*)*?)(?:\`|</code>)`, "gim");
  for (const match of text.matchAll(pattern)) {
    const target = match[2]!.replace(/<[^>]*>/g, "");
    found.push({ method: match[1]!.toUpperCase(), path: normalizePath(target) });
  }
  return found;
}

/**
 * ZippyDoc pages (CVM's `docs/api/client.zpy`): a call is a line `^ GET /api/client/vps/\`id\``,
 * parameters in backticks (or in bold, `**id**`, in the first revision).
 */
function zpyRequestLines(text: string): RequestLine[] {
  const pattern = new RegExp(`^\\^ (${METHODS}) (\\S+)\\s*$`, "gim");
  return [...text.matchAll(pattern)].map((match) => ({
    method: match[1]!.toUpperCase(),
    path: normalizePath(match[2]!.replace(/`([^`]+)`|\*\*([^*]+)\*\*/g, (_, code: string, bold: string) => `:${code ?? bold}`)),
  }));
}

const EXTRACTORS = { slate: slateRequestLines, zpy: zpyRequestLines } satisfies Record<string, (text: string) => RequestLine[]>;

/** The request lines of one page written in `format`. */
export const extractRequestLines = (format: ReferenceConfig["format"], text: string): RequestLine[] => EXTRACTORS[format](text);

/**
 * A request target as the contract writes its path: origin and API root dropped, `:name` → `{name}`,
 * no trailing slash, the query dropped except `operation=<name>`.
 */
export function normalizePath(target: string): string {
  let path = target.trim().replace(/\s+/g, "");
  path = path.replace(/^https?:\/\/[^/]+/, "").replace(/^\/api\/v\d+(?=\/)/, "");
  if (!path.startsWith("/")) path = `/${path}`;
  const [pathname = "", query = ""] = path.split("?", 2);
  const operation = /(?:^|&)operation=([A-Za-z]+)/.exec(query)?.[1];
  const clean =
    pathname
      .replace(/#\{([^}]+)\}/g, "{$1}") // Ruby interpolation in a request line: `/servers/#{server_id}/reboot_server`
      .replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}")
      .replace(/\/+$/, "") || "/";
  return operation ? `${clean}?operation=${operation}` : clean;
}

/** Two paths name the same endpoint when they differ only in parameter names. */
export const endpointKey = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\{[^}]*\}/g, "{}")}`;

/** `PUT /vpcs/{id}` → ["PUT", "/vpcs/{id}"]; a bare path keeps `method`. */
function splitTarget(target: string, method: string): [string, string] {
  const match = new RegExp(`^(${METHODS}) (\\S+)$`).exec(target.trim());
  return match ? [match[1]!, match[2]!] : [method, target.trim()];
}

const git = (repo: string, ...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });

/** The file's text at a commit, or undefined when it does not exist there. */
function fileAt(repo: string, commit: string, file: string): string | undefined {
  try {
    return execFileSync("git", ["-C", repo, "show", `${commit}:${file}`], { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return undefined;
  }
}

const globPattern = (glob: string) => new RegExp(`^${glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")}$`);

function linesOf(config: ReferenceConfig, text: string): RequestLine[] {
  const lines = EXTRACTORS[config.format](text);
  if (!config.stripPrefix) return lines;
  const prefix = normalizePath(config.stripPrefix);
  return lines.map(({ method, path }) => ({ method, path: path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`) ? path.slice(prefix.length) : path }));
}

/** Builds the inventory of `config`'s revision from the clone at `repo`. */
export function buildInventory(config: ReferenceConfig, repo: string, where = "reference.yaml"): InventoryLine[] {
  if (!(config.format in EXTRACTORS)) throw new StepError(`${where}: format "${config.format}" is not one of ${Object.keys(EXTRACTORS).join(", ")}.`);
  let commit: string;
  try {
    commit = git(repo, "rev-parse", "--verify", "--quiet", `${config.commit}^{commit}`).trim();
  } catch {
    throw new StepError(`${where}: commit ${config.commit} is not in ${repo} (is it a clone of ${config.repository}?).`);
  }
  const short = commit.slice(0, 8);
  const tree = git(repo, "ls-tree", "-r", "--name-only", commit).split("\n").filter(Boolean);
  const files = config.files.flatMap((glob) => {
    const matching = tree.filter((file) => globPattern(glob).test(file));
    if (matching.length === 0) throw new StepError(`${where}: files: "${glob}" matches nothing at ${short}.`);
    return matching;
  });

  const decisionKey = (entry: { method: string; path: string }) => endpointKey(entry.method, normalizePath(entry.path));
  const renames = new Map((config.rename ?? []).map((entry) => [`${decisionKey(entry)} #${entry.occurrence ?? 1}`, entry]));
  const leftOut = new Map((config.leftOut ?? []).map((entry) => [decisionKey(entry), entry]));
  const used = new Set<string>();
  /** Request lines of the revision, as written; and endpoints listed, as the contract writes them. */
  const seen = new Set<string>();
  const listed = new Set<string>();
  const inventory: InventoryLine[] = [];
  const occurrences = new Map<string, number>();
  for (const file of [...new Set(files)]) {
    for (const line of linesOf(config, fileAt(repo, commit, file)!)) {
      const key = endpointKey(line.method, line.path);
      const occurrence = (occurrences.get(key) ?? 0) + 1;
      occurrences.set(key, occurrence);
      const rename = renames.get(`${key} #${occurrence}`);
      const [method, path] = rename ? splitTarget(rename.to, line.method) : [line.method, line.path];
      const omitted = leftOut.get(key);
      if (rename) used.add(`rename ${key} #${occurrence}`);
      if (omitted) used.add(`leftOut ${key}`);
      seen.add(key);
      // The same call written twice (two examples of one request) is listed once.
      const target = endpointKey(method, path);
      if (listed.has(target)) continue;
      listed.add(target);
      inventory.push({
        method,
        path,
        file,
        commit: short,
        status: omitted ? `left out: ${omitted.reason}` : "described",
        note: rename ? `request line: ${line.method} ${line.path}; ${rename.reason}` : "",
      });
    }
  }
  for (const entry of config.unlisted ?? []) {
    const key = decisionKey(entry);
    const name = `${where}: unlisted: ${entry.method} ${entry.path}`;
    if (seen.has(key)) throw new StepError(`${name} has a request line at ${short}: it needs no unlisted entry.`);
    if (!files.includes(entry.file)) throw new StepError(`${name}: ${entry.file} is not one of the files read.`);
    if (!fileAt(repo, commit, entry.file)!.includes(entry.sample)) throw new StepError(`${name}: ${entry.file} does not contain "${entry.sample}" at ${short}.`);
    seen.add(key);
    listed.add(key);
    inventory.push({ method: entry.method, path: normalizePath(entry.path), file: entry.file, commit: short, status: "described", note: entry.reason });
  }
  for (const [kind, entries] of [["rename", config.rename ?? []], ["leftOut", config.leftOut ?? []]] as const) {
    for (const entry of entries) {
      const occurrence = kind === "rename" ? ` #${(entry as { occurrence?: number }).occurrence ?? 1}` : "";
      if (!used.has(`${kind} ${decisionKey(entry)}${occurrence}`)) {
        throw new StepError(`${where}: ${kind}: ${entry.method} ${entry.path} is no request line of the reference at ${short}.`);
      }
    }
  }

  for (const entry of config.deprecated ?? []) {
    const key = decisionKey(entry);
    const name = `${where}: deprecated: ${entry.method} ${entry.path}`;
    if (seen.has(key)) throw new StepError(`${name} is still a request line at ${short}: it is current, not deprecated.`);
    let removedIn: string;
    let date: string;
    try {
      [removedIn = "", date = ""] = git(repo, "log", "-1", "--format=%H %as", `${entry.removedIn}^{commit}`).trim().split(" ");
    } catch {
      throw new StepError(`${name}: removedIn ${entry.removedIn} is not a commit of ${repo}.`);
    }
    const has = (at: string) => {
      const text = fileAt(repo, at, entry.file);
      return text !== undefined && linesOf(config, text).some((line) => endpointKey(line.method, line.path) === key);
    };
    if (!has(`${removedIn}^`)) throw new StepError(`${name}: ${entry.file} has no such request line before ${removedIn.slice(0, 8)}.`);
    if (has(removedIn)) throw new StepError(`${name}: ${entry.file} still has it at ${removedIn.slice(0, 8)}.`);
    inventory.push({
      method: entry.method,
      path: normalizePath(entry.path),
      file: entry.file,
      commit: removedIn.slice(0, 8),
      status: "deprecated",
      note: `dropped ${date}; ${entry.replacement === "none" ? "no replacement" : `replaced by ${entry.replacement}`}`,
    });
  }
  return inventory;
}

export const INVENTORY_HEADER = "method\tpath\tfile\tcommit\tstatus\tnote";

export function renderInventory(lines: InventoryLine[]): string {
  const clean = (value: string) => value.replace(/[\t\r\n]+/g, " ");
  return `${[INVENTORY_HEADER, ...lines.map((line) => [line.method, line.path, line.file, line.commit, line.status, line.note].map(clean).join("\t"))].join("\n")}\n`;
}

/** Reads spec/<id>/reference.tsv back (what the inventory test checks). */
export function parseInventory(text: string, where: string): InventoryLine[] {
  const [header, ...rows] = text.split("\n").filter((line) => line !== "");
  if (header !== INVENTORY_HEADER) throw new Error(`${where}: the first line must be "${INVENTORY_HEADER.replace(/\t/g, "\\t")}".`);
  return rows.map((row, index) => {
    const [method, path, file, commit, status, note = ""] = row.split("\t");
    if (!method || !path || !file || !commit || !status) throw new Error(`${where}:${index + 2}: expected 5 or 6 tab-separated fields.`);
    return { method, path, file, commit, status, note };
  });
}

export async function readReferenceConfig(id: string, root = ROOT): Promise<ReferenceConfig> {
  const path = join(root, "spec", id, "reference.yaml");
  let config: ReferenceConfig;
  try {
    config = parseYaml(await readFile(path, "utf8")) as ReferenceConfig;
  } catch (error) {
    throw new StepError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  for (const field of ["repository", "commit", "files", "format"] as const) {
    if (!config?.[field]) throw new StepError(`${path}: "${field}" is missing.`);
  }
  return config;
}

runIfMain(import.meta.url, async (argv) => {
  const usage = "Usage: npm run reference -- <api-id> --repo <clone of the reference> [--check]";
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { repo: { type: "string" }, check: { type: "boolean" } } });
  } catch (error) {
    throw new StepError(`${(error as Error).message}\n${usage}`);
  }
  const [id, ...rest] = parsed.positionals;
  if (!id || rest.length > 0) throw new StepError(`Expected one API id.\n${usage}`);
  if (!parsed.values.repo) throw new StepError(`--repo is required: a local clone of the API's reference.\n${usage}`);
  const config = await readReferenceConfig(id);
  const text = renderInventory(buildInventory(config, parsed.values.repo, `spec/${id}/reference.yaml`));
  const target = join(ROOT, "spec", id, "reference.tsv");
  if (parsed.values.check) {
    const current = await readFile(target, "utf8").catch(() => "");
    if (current !== text) throw new StepError(`spec/${id}/reference.tsv is not what the reference gives: run npm run reference -- ${id} --repo <clone>.`);
    console.log(`spec/${id}/reference.tsv matches ${config.repository}@${config.commit}.`);
    return;
  }
  await writeFileAtomic(target, text);
  const counts = new Map<string, number>();
  for (const line of text.split("\n").slice(1, -1)) {
    const status = line.split("\t")[4]!.replace(/:.*/, "");
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  console.log(`spec/${id}/reference.tsv: ${[...counts].map(([status, count]) => `${count} ${status}`).join(", ")}.`);
});
