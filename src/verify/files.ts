/**
 * Finding and reading the files `verify` is given: recordings (`*.json`) and HAR files (`*.har`)
 * in folders, followed through symbolic links (to files and to folders, each folder once, so a
 * link loop ends), and nothing but regular files read: a FIFO, socket or device given as input,
 * or met in a folder under a recording's name, is reported instead of read (reading a FIFO waits
 * for a writer that never comes).
 */
import { constants } from "node:fs";
import { open, readdir, realpath, stat } from "node:fs/promises";
import { extname, join } from "node:path";

/** The kinds of file a folder is searched for. A file named on the command line is read whatever its name. */
export const RECORDING_EXTENSIONS = [".json", ".har"];

export interface FoundFile {
  path: string;
}

/** A path that could not be read as a file, and why (one line). */
export interface UnreadablePath {
  path: string;
  reason: string;
}

export interface CollectedFiles {
  files: FoundFile[];
  unreadable: UnreadablePath[];
  /** Files in the folders that are neither `*.json` nor `*.har`, left alone. */
  ignored: number;
}

/** What a file that is not a regular file is, for messages. */
function kindOf(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  return info.isDirectory() ? "a folder" : "not a regular file";
}

const notAFile = (kind: string) => `${kind}, not a regular file: refused (verify reads recordings and HAR files only)`;

/** Every recording and HAR file under the given files and folders, in a stable order. */
export async function collectFiles(inputs: readonly string[]): Promise<CollectedFiles> {
  const collected: CollectedFiles = { files: [], unreadable: [], ignored: 0 };
  const visited = new Set<string>(); // real paths of folders already searched
  const found: FoundFile[] = [];

  async function visitFolder(path: string): Promise<void> {
    const real = await realpath(path);
    if (visited.has(real)) return; // a link back to a folder already searched
    visited.add(real);
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        await visitFolder(child);
        continue;
      }
      const wanted = RECORDING_EXTENSIONS.includes(extname(entry.name).toLowerCase());
      if (entry.isSymbolicLink()) {
        const target = await stat(child).catch(() => undefined);
        if (!target) {
          if (wanted) collected.unreadable.push({ path: child, reason: "broken symbolic link (its target does not exist)" });
          continue;
        }
        if (target.isDirectory()) await visitFolder(child);
        else if (!wanted) collected.ignored++;
        else if (target.isFile()) found.push({ path: child });
        else collected.unreadable.push({ path: child, reason: notAFile(kindOf(target)) });
      } else if (!wanted) collected.ignored++;
      else if (entry.isFile()) found.push({ path: child });
      else collected.unreadable.push({ path: child, reason: notAFile(kindOf(entry)) });
    }
  }

  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) collected.unreadable.push({ path: input, reason: "no such file or folder" });
    else if (info.isDirectory()) {
      found.length = 0;
      await visitFolder(input);
      collected.files.push(...found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
    } else if (info.isFile()) collected.files.push({ path: input });
    else collected.unreadable.push({ path: input, reason: notAFile(kindOf(info)) });
  }
  return collected;
}

/**
 * Reads a file as UTF-8, refusing anything but a regular file at the moment it is opened: the
 * file is opened without blocking (a FIFO would otherwise wait for a writer), then checked.
 */
export async function readRegularFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(notAFile(kindOf(info)));
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
