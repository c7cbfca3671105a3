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
 * The repository is the one the command runs in (npm runs it at the package root). Exit 0: no
 * unannounced breaking change; 1: some; 2: bad input (unknown ref, not a git repository).
 */
import { execFile } from "node:child_process";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { apiCompare, type Diff } from "api-smart-diff";
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

interface Verdict {
  ok: boolean;
  lines: string[];
}

export function judge(id: string, before: Record<string, any>, after: Record<string, any>, changelog: string): Verdict {
  // Changes under components also show up, resolved, under the operations that use them;
  // only the latter say which operation breaks.
  const breaking = apiCompare(before, after).diffs.filter((diff) => diff.type === "breaking" && diff.path[0] !== "components");
  const from = String(before.info?.version);
  const to = String(after.info?.version);
  const list = breaking.map((diff) => `    ${where(diff)}: ${diff.description ?? `${diff.action} ${diff.path.join("/")}`}`);
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
