/**
 * The docs site in a real headless Chromium (driven by playwright-core): the index lists every API,
 * links reach each rendered reference, each reference lists its operations, and no page logs a
 * console error. Served the way `npm start` serves it (sirv on a free loopback port).
 *
 * The browser comes from the npm registry (@sparticuz/chromium, a Linux x64 headless shell that
 * `npm ci` installs and that unpacks itself into the temp folder on first use), so `npm test`
 * needs no system package; `CHROMIUM_PATH` names another Chromium instead (chromium.ts).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/prism.ts";
import { serveDocs } from "../../scripts/start.ts";
import { APIS } from "../../src/apis.ts";
import { launchChromium } from "./chromium.ts";

const DOCS = fileURLToPath(new URL("../../docs-site", import.meta.url));

let server: Server | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let base: string;
let shots: string | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  // One context for every page: @sparticuz/chromium runs `--single-process`, where closing a
  // page's own context (what browser.newPage() makes) takes the whole browser down.
  context = await browser.newContext();
  const port = await freePort();
  server = await serveDocs(DOCS, port, "127.0.0.1");
  base = `http://127.0.0.1:${port}`;
  shots = await mkdtemp(join(tmpdir(), "cloud-contracts-docs-"));
});

// Each step only undoes what beforeAll got to, so a failed beforeAll stays the one error reported.
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (shots) await rm(shots, { recursive: true, force: true });
});

// The one thing a page loads from outside: Redoc's "powered by" logo, which this machine (like any
// offline reader) cannot reach; Redoc hides it when it fails. Anything else failing is an error.
const EXTERNAL_ALLOWED = ["https://cdn.redoc.ly/redoc/logo-mini-full.svg", "https://cdn.redoc.ly/redoc/logo-mini.svg"];

/** Opens a page, collecting console errors, uncaught exceptions and failed requests. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context!.newPage();
  const errors: string[] = [];
  const failedExternal: string[] = [];
  page.on("requestfailed", (request) => {
    if (EXTERNAL_ALLOWED.includes(request.url())) failedExternal.push(request.url());
    else errors.push(`request failed: ${request.url()}`);
  });
  page.on("console", (message) => {
    const text = message.text();
    const blockedLogo = text.startsWith("Failed to load resource: net::ERR_NAME_NOT_RESOLVED") && failedExternal.length > 0;
    if (message.type() === "error" && !blockedLogo) errors.push(text);
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url, { waitUntil: "load" });
  return { page, errors };
}

/** Expands every tag of a Redoc side menu and collects the links of its operations. */
async function operationLinks(page: Page): Promise<string[]> {
  await page.waitForSelector('[data-component-name="Menu/MenuItem"].menu-item-type-group', { timeout: 60_000 });
  return page.evaluate(async () => {
    const seen = new Set<string>();
    const labels = [...document.querySelectorAll('[data-component-name="Menu/MenuItem"].menu-item-type-group [data-testid="menu-item-label"]')];
    for (const label of labels) {
      (label as HTMLElement).click();
      await new Promise((resolve) => setTimeout(resolve, 30));
      for (const link of document.querySelectorAll('[data-component-name="Menu/MenuItem"].menu-item-type-operation a[href]')) seen.add(link.getAttribute("href")!);
    }
    return [...seen];
  });
}

describe("docs site", () => {
  it("lists every API on the index, with coverage, and saves a screenshot", async () => {
    const { page, errors } = await open(`${base}/`);
    const cards = await page.locator("li.card").evaluateAll((items) => items.map((item) => item.getAttribute("data-api")));
    expect(cards.sort()).toEqual(APIS.map((api) => api.id).sort());
    expect(await page.locator("table.coverage tbody tr").count()).toBe(APIS.length);
    const shot = join(shots!, "index.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it.each(APIS.map((api) => api.id))("reaches the %s reference from the index, which renders its operations", async (id) => {
    const { page, errors } = await open(`${base}/`);
    await page.locator(`li.card[data-api="${id}"] h2 a`).click();
    await page.waitForURL(`${base}/${id}.html`);
    const expected = Number(await (await fetch(`${base}/`)).text().then((html) => new RegExp(`data-api="${id}"[\\s\\S]*?class="operations">(\\d+)<`).exec(html)?.[1]));
    // Redoc lists every operation in its side menu under each of its tags (#/<tag>/<operationid>).
    const operations = new Set((await operationLinks(page)).map((href) => href.split("/").at(-1)));
    expect(operations.size).toBe(expected);
    expect(await page.locator("#back-to-index").getAttribute("href")).toBe("index.html");
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("links each card to the bundled contract, as YAML and JSON", async () => {
    for (const api of APIS) {
      const response = await fetch(`${base}/${api.id}.openapi.json`);
      expect(response.status).toBe(200);
      expect((await response.json()).openapi).toBe("3.1.0");
      expect((await fetch(`${base}/${api.id}.openapi.yaml`)).status).toBe(200);
    }
  });
});
