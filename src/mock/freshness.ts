/**
 * Whether `generated/<id>/` was built from the spec as it is now: the build records a content hash
 * of `spec/<id>/` (every file's path and bytes, in path order) in `generated/<id>/spec.sha256`, and
 * `npm start` rebuilds only the APIs whose hash differs. File times are not used: a fresh clone
 * gives every file the same time, and an edit undone leaves a new time on an unchanged file.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";

export const SPEC_HASH_FILE = "spec.sha256";

/** sha256 over `<relative path>\0<bytes>\0` of every file under `dir`, sorted by path. */
export async function hashSpecDir(dir: string): Promise<string> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .sort();
  // Read all at once (a spec is a thousand small files: one after another took ten times as long).
  const contents = await Promise.all(files.map((file) => readFile(join(dir, file))));
  const hash = createHash("sha256");
  files.forEach((file, index) => hash.update(file).update("\0").update(contents[index]!).update("\0"));
  return hash.digest("hex");
}

/** The hash the build recorded for an API, or undefined when there is none (never built). */
export async function recordedSpecHash(generatedApiDir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(generatedApiDir, SPEC_HASH_FILE), "utf8")).trim();
  } catch {
    return undefined;
  }
}
