/**
 * `npm run diff [-- <api-id>] [--base <git ref>]`: the breaking-change gate.
 *
 * Bundles each API's spec as it is in the working tree and as it was at a git ref (default: the
 * merge base with main, or the previous commit when HEAD is on main), compares the two with
 * api-smart-diff, and fails when a change is breaking for consumers (a removed operation, a newly
 * required request field, a narrowed type...) while the API's `info.version` stayed the same. A
 * bumped version lets breaking changes through, provided CHANGELOG.md has a `## <id> <version>`
 * entry for it.
 *
 * Two corrections to api-smart-diff's verdicts, which miss OpenAPI 3.1 cases:
 * - A response type or enum that widens (`string` → `["string", "null"]`, a type or an enum value
 *   added, the enum dropped) is breaking: a consumer's code meets a value it was promised it would
 *   not. One that narrows (or only reorders) is not. The library calls a replaced `type`
 *   non-breaking and a new enum breaking, so for a response's `type` and `enum` the gate compares
 *   the values before and after itself.
 * - A change it leaves unclassified (inside `prefixItems`, `if`/`then`, `dependentRequired`...)
 *   counts as breaking, unless it only touches documentation (descriptions, examples, tags).
 *
 * The repository is the one the command runs in (npm runs it at the package root). Exit 0: no
 * unannounced breaking change; 1: some; 2: bad input (unknown ref, not a git repository).
 */
import { execFile } from "node:child_process";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { apiCompare, DIFF_META_KEY, type Diff } from "api-smart-diff";
import { parseStepArgs, runIfMain, runTool, StepError, type PipelineApi } from "./lib.ts";

const exec = promisify(execFile);

/** A failure of the input rather than of the contracts: exit 2. */
class InputError extends StepError {}

async function git(repo: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec("git", args, { cwd: repo, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

const tryGit = (repo: string, ...args: string[]) => git(repo, ...args).catch(() => undefined);

/** The ref to compare with, and why that one. */
export async function defaultBase(repo: string): Promise<{ ref: string; why: string } | undefined> {
  const head = await git(repo, "rev-parse", "HEAD");
  for (const main of ["origin/main", "main"]) {
    const mergeBase = await tryGit(repo, "merge-base", "HEAD", main);
    if (mergeBase === undefined) continue;
    if (mergeBase !== head) return { ref: mergeBase, why: `merge base with ${main}` };
    break;
  }
  const previous = await tryGit(repo, "rev-parse", "--verify", "--quiet", "HEAD~1");
  return previous ? { ref: previous, why: "previous commit" } : undefined;
}

/** Bundles one OpenAPI root file into a single JSON document. */
async function bundleFile(rootFile: string, scratch: string, name: string): Promise<Record<string, any>> {
  const output = join(scratch, `${name}.json`);
  await runTool("redocly", ["bundle", rootFile, "--output", output]);
  return JSON.parse(await readFile(output, "utf8")) as Record<string, any>;
}

/** `paths//vps/{id}/get/requestBody/…` → `GET /vps/{id}`; anything else as a JSON path. */
function where(diff: Diff): string {
  const [section, path, method] = diff.path.map(String);
  if (section === "paths" && path !== undefined) return method ? `${method.toUpperCase()} ${path}` : path;
  return diff.path.join("/");
}

type JsonPath = Diff["path"];

/** Keywords whose value documents rather than constrains: a change under one breaks no consumer. */
const DOCUMENTATION = new Set(["description", "summary", "title", "example", "examples", "externalDocs", "$comment", "tags", "info"]);
/** Keywords whose children are names (paths, status codes, media types, properties), not keywords. */
const NAMED_CHILDREN = new Set(["paths", "responses", "content", "headers", "encoding", "callbacks", "links", "variables", "properties", "patternProperties", "$defs", "dependentSchemas", "dependentRequired"]);

/** Each segment of a path that is a keyword, or undefined where it is a name or an array index. */
function keywords(path: JsonPath): (string | undefined)[] {
  let named = false;
  return path.map((segment) => {
    const keyword = named || typeof segment === "number" || /^\d+$/.test(segment) ? undefined : segment;
    named = keyword !== undefined && NAMED_CHILDREN.has(keyword);
    return keyword;
  });
}

const isDocumentation = (diff: Diff) => keywords(diff.path).some((keyword) => keyword !== undefined && DOCUMENTATION.has(keyword));

/** A keyword's value before and after the change, read back from api-smart-diff's merged document. */
function sides(node: Record<string, any>, key: "type" | "enum"): [unknown, unknown] {
  const value = node[key];
  const meta = node[DIFF_META_KEY]?.[key];
  if (!meta) return [value, value];
  if (meta.array) {
    const items = value as unknown[];
    const item = (index: number) => meta.array[index] as { action: string; replaced?: unknown } | undefined;
    return [
      items.flatMap((value, index) => (item(index)?.action === "add" ? [] : [item(index)?.action === "replace" ? item(index)!.replaced : value])),
      items.filter((_, index) => item(index)?.action !== "remove"),
    ];
  }
  if (meta.action === "add") return [undefined, value];
  if (meta.action === "remove") return [value, undefined];
  return [meta.replaced, value];
}

/** What a response schema's `type` or `enum` allows after the change that it did not before, if anything. */
function wider(node: Record<string, any>, key: "type" | "enum"): string | undefined {
  const [before, after] = sides(node, key);
  // An enum all of whose values were added or removed shows in the merged document as an empty list.
  const absent = (value: unknown) => value === undefined || (key === "enum" && Array.isArray(value) && value.length === 0);
  if (absent(before)) return undefined;
  // api-smart-diff moves a keyword beside anyOf/oneOf/allOf into each branch, whose own diffs judge it.
  const combined = ["anyOf", "oneOf", "allOf"].some((combiner) => Array.isArray(node[combiner]));
  if (absent(after)) return combined ? undefined : key === "type" ? "of any type" : "any value (no enum)";
  const list = (value: unknown) => (Array.isArray(value) ? value : [value]).map((item) => JSON.stringify(item));
  const was = new Set(list(before));
  if (key === "type" && was.has('"number"')) was.add('"integer"');
  const added = list(after).filter((item) => !was.has(item));
  if (added.length === 0) return undefined;
  return key === "type" ? added.map((type) => JSON.parse(type)).join(" or ") : added.join(" or ");
}

/** `properties/response/properties/nodes/items/properties/name` → `response.nodes[].name`. */
function schemaLocation(path: JsonPath): string {
  let location = "";
  for (let index = 0; index < path.length; index++) {
    const segment = path[index];
    if (segment === "properties") location += `${location ? "." : ""}${path[++index]}`;
    else if (segment === "items") location += "[]";
    else if (segment === "prefixItems") location += `[${path[++index]}]`;
  }
  return location || "the body";
}

/** api-smart-diff's description, or the action and path where it gives none (it often does not). */
function describe(diff: Diff): string {
  const text = diff.description?.trim() ?? "";
  return text.startsWith("[") ? text : `[${diff.action}] ${diff.path.slice(3).join("/")}`;
}

interface Change {
  diff: Diff;
  description: string;
}

/**
 * For a diff of a response schema's `type` or `enum` (or one of their items): the schema node it
 * changes and, when the response may now carry more than before, that change described.
 * Undefined for any other diff.
 */
function responseConstraint(diff: Diff, merged: Record<string, any>): { node: string; widened?: Change } | undefined {
  const path = diff.path;
  if (path[0] !== "paths" || path[3] !== "responses" || (path[5] !== "content" && path[5] !== "headers") || path[7] !== "schema") return undefined;
  const marks = keywords(path);
  let end = path.length - 1;
  if (marks[end] === undefined && (marks[end - 1] === "type" || marks[end - 1] === "enum")) end -= 1;
  const key = marks[end];
  if (key !== "type" && key !== "enum") return undefined;
  const nodePath = path.slice(0, end);
  const node = nodePath.reduce<any>((value, segment) => value?.[segment], merged);
  if (!node || typeof node !== "object") return undefined;
  const nodeKey = `${nodePath.join("/")}#${key}`;
  const added = wider(node, key);
  if (!added) return { node: nodeKey };
  const target = path[5] === "content" ? `Response ${String(path[4])} content (${String(path[6])})` : `Response ${String(path[4])} header ${String(path[6])}`;
  return { node: nodeKey, widened: { diff, description: `[Widened] \`${schemaLocation(nodePath.slice(8))}\` in ${target} may now be ${added}` } };
}

/** The changes that break a consumer: api-smart-diff's breaking ones, corrected as the header says. */
export function breakingChanges(before: Record<string, any>, after: Record<string, any>): Change[] {
  const { diffs, merged } = apiCompare(before, after);
  const judgedNodes = new Set<string>();
  const changes: Change[] = [];
  for (const diff of diffs) {
    // Changes under components also show up, resolved, under the operations that use them;
    // only the latter say which operation breaks.
    if (diff.path[0] === "components") continue;
    const constraint = responseConstraint(diff, merged);
    if (constraint) {
      if (constraint.widened && !judgedNodes.has(constraint.node)) changes.push(constraint.widened);
      judgedNodes.add(constraint.node);
      continue;
    }
    const description = describe(diff);
    if (diff.type === "breaking") changes.push({ diff, description });
    else if (diff.type === "unclassified" && !isDocumentation(diff)) {
      changes.push({ diff, description: `${description} (unclassified by api-smart-diff, so counted as breaking)` });
    }
  }
  return changes;
}

interface Verdict {
  ok: boolean;
  lines: string[];
}

export function judge(id: string, before: Record<string, any>, after: Record<string, any>, changelog: string): Verdict {
  const from = String(before.info?.version);
  const to = String(after.info?.version);
  const breaking = breakingChanges(before, after);
  const list = breaking.map(({ diff, description }) => `    ${where(diff)}: ${description}`);
  if (breaking.length === 0) return { ok: true, lines: [`${id}: no breaking change (info.version ${to})`] };
  if (from === to) {
    return {
      ok: false,
      lines: [`${id}: ${breaking.length} breaking change(s), but info.version is still ${to}: bump it and add "## ${id} <version>" to CHANGELOG.md`, ...list],
    };
  }
  const heading = new RegExp(`^## ${id} ${to.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "m");
  if (!heading.test(changelog)) {
    return { ok: false, lines: [`${id}: ${breaking.length} breaking change(s) with info.version ${from} → ${to}, but CHANGELOG.md has no "## ${id} ${to}" entry`, ...list] };
  }
  return { ok: true, lines: [`${id}: ${breaking.length} breaking change(s), announced as info.version ${from} → ${to}`, ...list] };
}

async function main(argv: string[]): Promise<void> {
  const { apis, values } = await parseStepArgs(argv, { base: { type: "string" } }, "[<api-id>] [--base <git ref>]");
  const repo = await tryGit(process.cwd(), "rev-parse", "--show-toplevel");
  if (!repo) throw new InputError(`${process.cwd()} is not inside a git repository; npm run diff compares with a git ref.`);

  let base: { ref: string; why: string } | undefined;
  if (typeof values.base === "string") {
    const ref = await tryGit(repo, "rev-parse", "--verify", "--quiet", `${values.base}^{commit}`);
    if (!ref) throw new InputError(`--base: "${values.base}" is not a commit of ${repo}.`);
    base = { ref, why: `--base ${values.base}` };
  } else {
    base = await defaultBase(repo);
    if (!base) {
      console.log("diff: no earlier commit to compare with (a first commit, or a shallow clone): nothing to check.");
      return;
    }
  }
  console.log(`diff: working tree against ${base.ref.slice(0, 12)} (${base.why})`);

  const scratch = await mkdtemp(join(tmpdir(), "cloud-contracts-diff-"));
  try {
    // The specs as they were at the base, unpacked beside the bundles.
    const archive = join(scratch, "base.tar");
    await git(repo, "archive", "--format=tar", "-o", archive, base.ref, "--", "spec").catch((error: Error) => {
      throw new InputError(`Cannot read spec/ at ${base.ref}: ${error.message}`);
    });
    await exec("tar", ["-xf", archive, "-C", scratch]);
    const changelog = await readFile(join(repo, "CHANGELOG.md"), "utf8").catch(() => "");

    let failed = false;
    for (const api of apis) {
      const before = await bundleBase(api, scratch);
      if (!before) {
        console.log(`${api.id}: new at this revision, nothing to compare`);
        continue;
      }
      const after = await bundleFile(join(repo, api.root), scratch, `${api.id}-after`);
      const verdict = judge(api.id, before, after, changelog);
      for (const line of verdict.lines) console.log(line);
      failed ||= !verdict.ok;
    }
    if (failed) process.exitCode = 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The API's bundle at the base, or undefined when its spec did not exist there. */
async function bundleBase(api: PipelineApi, scratch: string): Promise<Record<string, any> | undefined> {
  const root = join(scratch, api.root);
  const existed = await access(root).then(() => true, () => false);
  return existed ? bundleFile(root, scratch, `${api.id}-before`) : undefined;
}

runIfMain(import.meta.url, async (argv) => {
  try {
    await main(argv);
  } catch (error) {
    if (error instanceof InputError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
});
