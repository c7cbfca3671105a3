/** Writing files so that a failed or interrupted run never leaves a half-written file behind. */
import { randomBytes } from "node:crypto";
import { link, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const temporaryBeside = (path: string, kind: string) => join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.${kind}`);

/** Writes `content` to a temporary file beside `path`, then renames it over `path`. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryBeside(path, "tmp");
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes several files all or none: every content goes to a temporary file first (where a full
 * disk, a missing permission or a folder in the way shows up), and only when all are written are
 * they renamed into place, each previous file kept aside (a hard link) until every rename has
 * succeeded. When one step fails, the files already replaced get their previous content back,
 * files that did not exist are removed again, and the error is thrown. (Several renames are not
 * one atomic step: a crash between two of them leaves some new files beside some old ones, but
 * never a half-written file.)
 */
export async function writeFilesAtomic(files: readonly { path: string; content: string | Uint8Array }[]): Promise<void> {
  const staged: { path: string; temporary: string; backup?: string; placed: boolean }[] = [];
  try {
    for (const { path, content } of files) {
      await mkdir(dirname(path), { recursive: true });
      const entry = { path, temporary: temporaryBeside(path, "tmp"), placed: false };
      staged.push(entry);
      await writeFile(entry.temporary, content);
    }
    for (const entry of staged) {
      const backup = temporaryBeside(entry.path, "previous");
      // No previous file: nothing to keep.
      if (await link(entry.path, backup).then(() => true, (error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? false : Promise.reject(error)))) {
        entry.backup = backup;
      }
      await rename(entry.temporary, entry.path);
      entry.placed = true;
    }
  } catch (error) {
    for (const entry of staged.reverse()) {
      await rm(entry.temporary, { force: true });
      if (entry.placed) {
        if (entry.backup) await rename(entry.backup, entry.path);
        else await rm(entry.path, { force: true });
      } else if (entry.backup) await rm(entry.backup, { force: true });
    }
    throw error;
  }
  for (const entry of staged) if (entry.backup) await rm(entry.backup, { force: true });
}
