/**
 * A headless Chromium for the docs test that needs nothing outside npm: the one @sparticuz/chromium
 * ships (Linux x64), or the executable `CHROMIUM_PATH` names (macOS, arm64, a browser of your own).
 *
 * @sparticuz/chromium is built for AWS Lambda's Amazon Linux 2023: its binary links against NSS,
 * NSPR and expat, which it unpacks from its own `al2023` pack only on that system. A bare Debian
 * or Ubuntu (a CI image, a container) has none of them, so this module unpacks the same pack
 * into the temp folder and puts it on the browser's LD_LIBRARY_PATH everywhere.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { brotliDecompress } from "node:zlib";
import sparticuz from "@sparticuz/chromium";
import { chromium, type Browser, type LaunchOptions } from "playwright-core";

/** Where the al2023 libraries end up; shared by every run on the machine, like the browser itself. */
const LIBRARIES = join(tmpdir(), "cloud-contracts-chromium-al2023");

/**
 * Unpacks @sparticuz/chromium's `bin/al2023.tar.br` (4 MB of brotli, by node:zlib; the tar by the
 * system's `tar`, which every Linux image has) once, into a scratch folder renamed into place
 * whole, so that concurrent test runs never see half a library.
 */
async function bundledLibraries(): Promise<string> {
  const libraries = join(LIBRARIES, "lib");
  if (existsSync(libraries)) return libraries;
  const pack = join(dirname(createRequire(import.meta.url).resolve("@sparticuz/chromium")), "..", "..", "bin", "al2023.tar.br");
  const scratch = await mkdtemp(`${LIBRARIES}-`);
  try {
    const archive = join(scratch, "al2023.tar");
    await writeFile(archive, await promisify(brotliDecompress)(await readFile(pack)));
    await promisify(execFile)("tar", ["-xf", archive, "-C", scratch]);
    await rm(archive);
    await rename(scratch, LIBRARIES).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(libraries)) throw error; // another run unpacked it first: use theirs
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return libraries;
}

/** How to launch the browser: `CHROMIUM_PATH` when set, else @sparticuz/chromium's with its libraries. */
async function launchOptions(): Promise<LaunchOptions> {
  const own = process.env.CHROMIUM_PATH;
  if (own) {
    if (!existsSync(own)) throw new Error(`CHROMIUM_PATH=${own} does not exist: point it at a Chromium executable, or unset it to use @sparticuz/chromium.`);
    return { executablePath: own, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] };
  }
  try {
    const executablePath = await sparticuz.executablePath();
    const libraries = await bundledLibraries();
    const inherited = process.env.LD_LIBRARY_PATH;
    const env = { ...process.env, LD_LIBRARY_PATH: inherited ? `${libraries}:${inherited}` : libraries };
    return { executablePath, headless: true, args: sparticuz.args, env };
  } catch (error) {
    throw new Error(`@sparticuz/chromium could not unpack its browser (${(error as Error).message}); set CHROMIUM_PATH to a Chromium executable.`);
  }
}

/** Launches the headless browser the docs test drives. */
export async function launchChromium(): Promise<Browser> {
  const options = await launchOptions();
  try {
    return await chromium.launch(options);
  } catch (error) {
    // @sparticuz/chromium trusts any file at its path: a run stopped while unpacking leaves a broken one.
    const hint = process.env.CHROMIUM_PATH ? "" : ` If a run was stopped while unpacking it, delete ${options.executablePath} and run again.`;
    throw new Error(`Chromium at ${options.executablePath} did not start: ${(error as Error).message.split("\n")[0]}.${hint}`);
  }
}
