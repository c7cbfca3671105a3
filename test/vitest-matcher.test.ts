/** `toMatchContract`, used the way a consumer's test suite uses it, on real HTTP answers. */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCvmClient } from "../src/clients/cvm.ts";
import { toMatchContract } from "../src/vitest.ts";
import { readRecording } from "./support/recordings.ts";

expect.extend({ toMatchContract });

const list = readRecording("cvm", "list-valid-newer.json").response.body as { response: { vpses: Record<string, unknown>[] } };
let server: Server;
let base: string;

beforeAll(async () => {
  // Serves the recorded VPS list; /drifted adds a field, /broken sends an id as a number.
  server = createServer((request, response) => {
    const body = structuredClone(list);
    if (request.url!.startsWith("/drifted")) body.response.vpses[0]!.ipv6 = "2001:db8::1";
    if (request.url!.startsWith("/broken")) body.response.vpses[0]!.id = 1;
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("toMatchContract", () => {
  it("passes an openapi-fetch result that matches the contract", async () => {
    const cvm = createCvmClient({ baseUrl: base, publicToken: "a", privateToken: "b" });
    await expect(await cvm.GET("/api/client/vps/list")).toMatchContract("cvm");
  });

  it("passes a fetch Response, and a plain exchange", async () => {
    await expect(await fetch(`${base}/api/client/vps/list`)).toMatchContract("cvm", { method: "GET" });
    await expect({ method: "GET", path: "/api/client/vps/list", status: 200, body: list }).toMatchContract("cvm");
  });

  it("fails a broken answer with the operation and the JSON path", async () => {
    const response = await fetch(`${base}/broken`);
    const broken = { method: "GET", path: "/api/client/vps/list", status: 200, body: await response.json() };
    await expect(expect(broken).toMatchContract("cvm")).rejects.toThrow(/GET \/api\/client\/vps\/list 200 \(listVpses\)\n {2}\$\.response\.vpses\[0\]\.id: must be string/);
  });

  it("fails an undocumented field only when strict", async () => {
    const body = await (await fetch(`${base}/drifted`)).json();
    const drifted = { method: "GET", path: "/api/client/vps/list", status: 200, body };
    await expect(drifted).toMatchContract("cvm");
    await expect(expect(drifted).toMatchContract("cvm", { strict: true })).rejects.toThrow("$.response.vpses[0].ipv6: property is not described by the contract");
  });

  it("supports .not", async () => {
    await expect({ method: "GET", path: "/api/client/vps/list", status: 418, body: {} }).not.toMatchContract("cvm");
  });
});
