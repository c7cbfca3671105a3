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
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { ROOT, StepError, runIfMain, writeFileAtomic } from "./lib.ts";

export interface ReferenceConfig {
  repository: string;
  /** Branch or tag the commit was taken from (for the reader). */
  branch?: string;
  /** The revision the contract follows; a full or abbreviated commit id (unless `pages` names one per page). */
  commit?: string;
  /** Files to read, in order; `*` matches within one path segment. */
  files?: string[];
  /**
   * Instead of `commit` and `files`: a TSV beside reference.yaml listing each page read (`path`,
   * `commit`), for a reference whose pages are read at the commit of their newest version (a
   * repository too large to read at one revision here, such as mongodb/docs).
   */
  pages?: string;
  /** How request lines are written: `slate` (CloudMC's and Cloud 66's Slate pages), `zpy` (CVM's ZippyDoc), `rst` (MongoDB's docs). */
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
  /**
   * A form the reference dropped (`removedIn`: the commit that removed its request line from
   * `file`), or one it still documents but marks deprecated (`marker`: text of `file` that says so).
   */
  deprecated?: { method: string; path: string; file: string; removedIn?: string; marker?: string; replacement: string }[];
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

/**
 * reStructuredText pages (MongoDB's docs): a request line is an indented `GET /groups/{PROJECT-ID}`
 * alone in a `.. code-block::` (`http`, `none` or `sh`) under a page's "Resource" or "Syntax"
 * heading. Some pages write a placeholder without braces (`/clusters/CLUSTER-ID/checkpoints`) or
 * the path without its leading slash: both are read as the others.
 */
function rstRequestLines(text: string): RequestLine[] {
  const found: RequestLine[] = [];
  const lines = text.split("\n");
  const requestLine = new RegExp(`^\\s+(${METHODS}) (/\\S*|[\\w{]\\S*)\\s*$`, "i");
  const placeholder = (segment: string) => (/^[A-Z][A-Z0-9-]*ID$/.test(segment) ? `{${segment}}` : segment);
  for (let index = 0; index < lines.length; index++) {
    if (!/^\s*\.\. code-block:: (http|none|sh)\s*$/.test(lines[index]!)) continue;
    let next = index + 1;
    while (next < lines.length && (lines[next]!.trim() === "" || /^\s+:\w[\w-]*:/.test(lines[next]!))) next++;
    for (let match; next < lines.length && (match = requestLine.exec(lines[next]!)); next++) {
      found.push({ method: match[1]!.toUpperCase(), path: normalizePath(match[2]!.split("/").map(placeholder).join("/")) });
    }
  }
  return found;
}

const EXTRACTORS = { slate: slateRequestLines, zpy: zpyRequestLines, rst: rstRequestLines } satisfies Record<string, (text: string) => RequestLine[]>;

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
      .replace(/(^|\/):([A-Za-z_][A-Za-z0-9_]*)/g, "$1{$2}")
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

/** Where the reference's pages are read: a clone (any commit, with history) or an export of pages. */
export type ReferenceSource = { repo: string } | { dir: string };

interface Page {
  file: string;
  /** The commit the page is read at, as written in the inventory (8 characters). */
  commit: string;
  text: string;
}

/** The pages `config` names, read from `source`. */
function readPages(config: ReferenceConfig, source: ReferenceSource, manifest: string | undefined, where: string): Page[] {
  if (manifest !== undefined) {
    return manifest.split("\n").filter((line) => line.trim() && !line.startsWith("#")).map((line, index) => {
      const [file = "", commit = ""] = line.split("\t");
      if (!file || !/^[0-9a-f]{7,40}$/.test(commit)) throw new StepError(`${where}: pages line ${index + 1}: expected <path><TAB><commit>, got "${line}".`);
      const text = "repo" in source ? fileAt(source.repo, commit, file) : readIfExists(join(source.dir, file));
      if (text === undefined) throw new StepError(`${where}: ${file} at ${commit.slice(0, 8)} is not in ${"repo" in source ? source.repo : source.dir}.`);
      return { file, commit: commit.slice(0, 8), text };
    });
  }
  if (!("repo" in source)) throw new StepError(`${where}: reading an export of pages (--dir) needs a "pages" list; this config reads a clone (--repo).`);
  if (!config.commit || !config.files) throw new StepError(`${where}: "commit" and "files" are required without "pages".`);
  let commit: string;
  try {
    commit = git(source.repo, "rev-parse", "--verify", "--quiet", `${config.commit}^{commit}`).trim();
  } catch {
    throw new StepError(`${where}: commit ${config.commit} is not in ${source.repo} (is it a clone of ${config.repository}?).`);
  }
  const tree = git(source.repo, "ls-tree", "-r", "--name-only", commit).split("\n").filter(Boolean);
  const files = config.files.flatMap((glob) => {
    const matching = tree.filter((file) => globPattern(glob).test(file));
    if (matching.length === 0) throw new StepError(`${where}: files: "${glob}" matches nothing at ${commit.slice(0, 8)}.`);
    return matching;
  });
  return [...new Set(files)].map((file) => ({ file, commit: commit.slice(0, 8), text: fileAt(source.repo, commit, file)! }));
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Builds the inventory of `config`'s revision from `source` (a clone; or, with a `pages` list, an
 * export of those pages); `manifest` is the text of that list.
 */
export function buildInventory(config: ReferenceConfig, source: ReferenceSource | string, where = "reference.yaml", manifest?: string): InventoryLine[] {
  if (!(config.format in EXTRACTORS)) throw new StepError(`${where}: format "${config.format}" is not one of ${Object.keys(EXTRACTORS).join(", ")}.`);
  const from: ReferenceSource = typeof source === "string" ? { repo: source } : source;
  const pages = readPages(config, from, manifest, where);
  const pageOf = new Map(pages.map((page) => [page.file, page]));
  const revision = pages[0]?.commit ?? "";

  const decisionKey = (entry: { method: string; path: string }) => endpointKey(entry.method, normalizePath(entry.path));
  const renames = new Map((config.rename ?? []).map((entry) => [`${decisionKey(entry)} #${entry.occurrence ?? 1}`, entry]));
  const leftOut = new Map((config.leftOut ?? []).map((entry) => [decisionKey(entry), entry]));
  const used = new Set<string>();
  /** Request lines of the revision, as written; and endpoints listed, as the contract writes them. */
  const seen = new Set<string>();
  const listed = new Set<string>();
  const inventory: InventoryLine[] = [];
  const occurrences = new Map<string, number>();
  for (const page of pages) {
    for (const line of linesOf(config, page.text)) {
      const key = endpointKey(line.method, line.path);
      const occurrence = (occurrences.get(key) ?? 0) + 1;
      occurrences.set(key, occurrence);
      const rename = renames.get(`${key} #${occurrence}`);
      const [method, path] = rename ? splitTarget(rename.to, line.method) : [line.method, line.path];
      const omitted = leftOut.get(key);
      if (rename) used.add(`rename ${key} #${occurrence}`);
      if (omitted) used.add(`leftOut ${key}`);
      seen.add(key);
      // The same call written twice (two examples of one request, two pages of one call) is listed once.
      const target = endpointKey(method, path);
      if (listed.has(target)) continue;
      listed.add(target);
      inventory.push({
        method,
        path,
        file: page.file,
        commit: page.commit,
        status: omitted ? `left out: ${omitted.reason}` : "described",
        note: rename ? `request line: ${line.method} ${line.path}; ${rename.reason}` : "",
      });
    }
  }
  for (const entry of config.unlisted ?? []) {
    const key = decisionKey(entry);
    const name = `${where}: unlisted: ${entry.method} ${entry.path}`;
    const page = pageOf.get(entry.file);
    if (seen.has(key)) throw new StepError(`${name} has a request line at ${revision}: it needs no unlisted entry.`);
    if (!page) throw new StepError(`${name}: ${entry.file} is not one of the files read.`);
    if (!page.text.includes(entry.sample)) throw new StepError(`${name}: ${entry.file} does not contain "${entry.sample}" at ${page.commit}.`);
    seen.add(key);
    listed.add(key);
    inventory.push({ method: entry.method, path: normalizePath(entry.path), file: entry.file, commit: page.commit, status: "described", note: entry.reason });
  }
  for (const [kind, entries] of [["rename", config.rename ?? []], ["leftOut", config.leftOut ?? []]] as const) {
    for (const entry of entries) {
      const occurrence = kind === "rename" ? ` #${(entry as { occurrence?: number }).occurrence ?? 1}` : "";
      if (!used.has(`${kind} ${decisionKey(entry)}${occurrence}`)) {
        throw new StepError(`${where}: ${kind}: ${entry.method} ${entry.path} is no request line of the reference at ${revision}.`);
      }
    }
  }

  for (const entry of config.deprecated ?? []) {
    const key = decisionKey(entry);
    const name = `${where}: deprecated: ${entry.method} ${entry.path}`;
    if (entry.marker !== undefined) {
      // Still documented, and marked deprecated by the vendor on the page itself.
      const page = pageOf.get(entry.file);
      if (!page) throw new StepError(`${name}: ${entry.file} is not one of the files read.`);
      if (!page.text.includes(entry.marker)) throw new StepError(`${name}: ${entry.file} does not say "${entry.marker}" at ${page.commit}.`);
      const described = inventory.findIndex((line) => endpointKey(line.method, line.path) === key);
      if (described !== -1) inventory.splice(described, 1);
      inventory.push({ method: entry.method, path: normalizePath(entry.path), file: entry.file, commit: page.commit, status: "deprecated", note: `the reference marks it deprecated; ${entry.replacement === "none" ? "no replacement" : `use ${entry.replacement}`}` });
      continue;
    }
    if (!("repo" in from)) throw new StepError(`${name}: removedIn needs the reference's history (--repo), or give a marker.`);
    if (seen.has(key)) throw new StepError(`${name} is still a request line at ${revision}: it is current, not deprecated.`);
    let removedIn: string;
    let date: string;
    try {
      [removedIn = "", date = ""] = git(from.repo, "log", "-1", "--format=%H %as", `${entry.removedIn}^{commit}`).trim().split(" ");
    } catch {
      throw new StepError(`${name}: removedIn ${entry.removedIn} is not a commit of ${from.repo}.`);
    }
    const has = (at: string) => {
      const text = fileAt(from.repo, at, entry.file);
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
  for (const field of ["repository", "format"] as const) {
    if (!config?.[field]) throw new StepError(`${path}: "${field}" is missing.`);
  }
  if (!config.pages && (!config.commit || !config.files)) throw new StepError(`${path}: give "commit" and "files", or "pages".`);
  return config;
}

runIfMain(import.meta.url, async (argv) => {
  const usage = "Usage: npm run reference -- <api-id> (--repo <clone of the reference> | --dir <export of its pages>) [--check]";
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { repo: { type: "string" }, dir: { type: "string" }, check: { type: "boolean" } } });
  } catch (error) {
    throw new StepError(`${(error as Error).message}\n${usage}`);
  }
  const [id, ...rest] = parsed.positionals;
  if (!id || rest.length > 0) throw new StepError(`Expected one API id.\n${usage}`);
  const { repo, dir } = parsed.values;
  if (!repo === !dir) throw new StepError(`Give one of --repo (a local clone of the API's reference) or --dir (an export of the pages its "pages" list names).\n${usage}`);
  const config = await readReferenceConfig(id);
  const where = `spec/${id}/reference.yaml`;
  const manifest = config.pages === undefined ? undefined : await readFile(join(ROOT, "spec", id, config.pages), "utf8").catch((error: Error) => {
    throw new StepError(`${where}: cannot read pages list ${config.pages}: ${error.message}`);
  });
  const text = renderInventory(buildInventory(config, repo ? { repo } : { dir: dir! }, where, manifest));
  const target = join(ROOT, "spec", id, "reference.tsv");
  if (parsed.values.check) {
    const current = await readFile(target, "utf8").catch(() => "");
    if (current !== text) throw new StepError(`spec/${id}/reference.tsv is not what the reference gives: run npm run reference -- ${id} --repo <clone>.`);
    console.log(`spec/${id}/reference.tsv matches ${config.repository}${config.commit ? `@${config.commit}` : ` (${config.pages})`}.`);
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
