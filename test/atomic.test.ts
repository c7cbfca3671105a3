/** src/atomic.ts: files written whole, and several files written all or none. */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFilesAtomic } from "../src/atomic.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cloud-contracts-atomic-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFilesAtomic", () => {
  it("writes every file, replacing the previous ones", async () => {
    const out = join(dir, "ok");
    await mkdir(out);
    await writeFile(join(out, "a.txt"), "old a");
    await writeFilesAtomic([{ path: join(out, "a.txt"), content: "new a" }, { path: join(out, "sub", "b.txt"), content: "new b" }]);
    expect(await readFile(join(out, "a.txt"), "utf8")).toBe("new a");
    expect(await readFile(join(out, "sub", "b.txt"), "utf8")).toBe("new b");
    expect((await readdir(out)).sort()).toEqual(["a.txt", "sub"]);
  });

  it("writes none when one cannot be written: replaced files get their content back, new ones go, no temporary file stays", async () => {
    const out = join(dir, "fails");
    await mkdir(join(out, "in-the-way.txt"), { recursive: true }); // a folder where the last file goes
    await writeFile(join(out, "a.txt"), "old a");
    await expect(writeFilesAtomic([
      { path: join(out, "a.txt"), content: "new a" },
      { path: join(out, "c.txt"), content: "new c" },
      { path: join(out, "in-the-way.txt"), content: "new" },
    ])).rejects.toThrow();
    expect(await readFile(join(out, "a.txt"), "utf8")).toBe("old a");
    expect((await readdir(out)).sort()).toEqual(["a.txt", "in-the-way.txt"]);
  });
});
