/**
 * createCloudManagerClient against a real loopback server that demands HTTP Digest (SHA-256 or
 * MD5), pages a list, and rate-limits with 429 + Retry-After.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudManagerApiError, createCloudManagerClient, paginate } from "../../src/clients/cloudmanager.ts";

const PUBLIC_KEY = "abcdefgh";
const PRIVATE_KEY = "private-key-canary-3f9e";
const GROUP = "5e2211c17a3e5a48f5497de3";

let server: Server;
let root: string;
let algorithm: "SHA-256" | "MD5" = "SHA-256";
const nonce = randomBytes(12).toString("hex");
let rateLimitNext = 0;
const log: string[] = [];

function authorized(header: string | undefined, method: string, url: string): boolean {
  if (!header?.startsWith("Digest ")) return false;
  const p = Object.fromEntries([...header.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)].map((m) => [m[1], m[2] ?? m[3]]));
  const h = (text: string) => createHash(algorithm === "MD5" ? "md5" : "sha256").update(text).digest("hex");
  const expected = h(`${h(`${PUBLIC_KEY}:${p.realm}:${PRIVATE_KEY}`)}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${h(`${method}:${url}`)}`);
  return p.username === PUBLIC_KEY && p.nonce === nonce && p.uri === url && p.response === expected;
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url!, "http://x");
    const ok = authorized(request.headers.authorization, request.method!, request.url!);
    log.push(`${request.method} ${request.url} ${ok ? "authorized" : "challenged"}`);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      response.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
    if (!ok) {
      return json(401, { detail: "You are not authorized.", error: 401, errorCode: "USER_UNAUTHORIZED", parameters: [], reason: "Unauthorized" }, {
        "WWW-Authenticate": `Digest realm="MMS Public API", domain="", nonce="${nonce}", algorithm=${algorithm}, qop="auth", stale=false`,
      });
    }
    if (rateLimitNext > 0) {
      rateLimitNext -= 1;
      return json(429, { detail: "Rate limited.", error: 429, errorCode: "RATE_LIMITED", parameters: [], reason: "Too Many Requests" }, { "Retry-After": "0" });
    }
    if (url.pathname === "/api/public/v1.0/groups") {
      const pageNum = Number(url.searchParams.get("pageNum") ?? 1);
      const itemsPerPage = Number(url.searchParams.get("itemsPerPage") ?? 100);
      const all = Array.from({ length: 5 }, (_, i) => ({ id: `5e2211c17a3e5a48f5497d${String(i).padStart(2, "0")}`, name: `project-${i}` }));
      const results = all.slice((pageNum - 1) * itemsPerPage, pageNum * itemsPerPage);
      const links = [{ rel: "self", href: `${root}/groups?pageNum=${pageNum}&itemsPerPage=${itemsPerPage}` }];
      if (pageNum * itemsPerPage < all.length) links.push({ rel: "next", href: `${root}/groups?pageNum=${pageNum + 1}&itemsPerPage=${itemsPerPage}` });
      return json(200, { totalCount: all.length, results, links });
    }
    return json(404, { detail: "Cannot find resource.", error: 404, errorCode: "RESOURCE_NOT_FOUND", parameters: [url.pathname], reason: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  root = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/public/v1.0`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const client = () => createCloudManagerClient({ baseUrl: root, publicKey: PUBLIC_KEY, privateKey: PRIVATE_KEY, retry: { baseDelayMs: 1 } });

describe("createCloudManagerClient", () => {
  it.each(["SHA-256", "MD5"] as const)("authenticates with %s digest and keeps the challenge for later calls", async (chosen) => {
    algorithm = chosen;
    log.length = 0;
    const cm = client();
    const first = await cm.GET("/groups", { params: { query: { itemsPerPage: 2 } } });
    const second = await cm.GET("/groups", { params: { query: { pageNum: 2, itemsPerPage: 2 } } });
    expect([first.response.status, second.response.status]).toEqual([200, 200]);
    expect(log).toEqual([
      "GET /api/public/v1.0/groups?itemsPerPage=2 challenged",
      "GET /api/public/v1.0/groups?itemsPerPage=2 authorized",
      "GET /api/public/v1.0/groups?pageNum=2&itemsPerPage=2 authorized",
    ]);
  });

  it("pages through a list by following the next link", async () => {
    algorithm = "SHA-256";
    log.length = 0;
    const names: string[] = [];
    for await (const project of paginate(client(), "/groups", { query: { itemsPerPage: 2 } })) names.push(String(project.name));
    expect(names).toEqual(["project-0", "project-1", "project-2", "project-3", "project-4"]);
    expect(log.filter((line) => line.endsWith("authorized")).map((line) => line.split(" ")[1])).toEqual([
      "/api/public/v1.0/groups?itemsPerPage=2&pageNum=1",
      "/api/public/v1.0/groups?itemsPerPage=2&pageNum=2",
      "/api/public/v1.0/groups?itemsPerPage=2&pageNum=3",
    ]);
  });

  it("retries a 429 (honouring Retry-After) and then succeeds", async () => {
    algorithm = "SHA-256";
    rateLimitNext = 2;
    log.length = 0;
    const { response } = await client().GET("/groups");
    expect(response.status).toBe(200);
    expect(log.filter((line) => line.endsWith("authorized"))).toHaveLength(3);
  });

  it("throws CloudManagerApiError with the error document, and never the private key", async () => {
    const error = await client().GET("/groups/{groupId}", { params: { path: { groupId: GROUP } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudManagerApiError);
    expect(error).toMatchObject({ status: 404, errorCode: "RESOURCE_NOT_FOUND", reason: "Not Found", message: "Cannot find resource." });
    expect(String(error) + JSON.stringify(error) + (error as Error).stack).not.toContain(PRIVATE_KEY);
  });

  it("answers wrong keys with the server's 401 as CloudManagerApiError, after one challenge", async () => {
    log.length = 0;
    const wrong = createCloudManagerClient({ baseUrl: root, publicKey: PUBLIC_KEY, privateKey: "not-the-key" });
    await expect(wrong.GET("/groups")).rejects.toMatchObject({ name: "CloudManagerApiError", status: 401, errorCode: "USER_UNAUTHORIZED" });
    expect(log).toHaveLength(2);
  });

  it.each(["publicKey", "privateKey"] as const)("refuses an empty %s, naming the option", (field) => {
    expect(() => createCloudManagerClient({ publicKey: "a", privateKey: "b", [field]: "" })).toThrow(`option "${field}"`);
  });

  it("sends the Prometheus discovery call to /prometheus/v1.0, the server the contract gives that path", async () => {
    const paths: string[] = [];
    const cm = createCloudManagerClient({
      publicKey: "a",
      privateKey: "b",
      baseUrl: "https://cm.example.net/api/public/v1.0/",
      fetch: async (request) => {
        paths.push(new URL(request.url).pathname);
        return Response.json([]);
      },
    });
    await cm.GET("/groups/{groupId}/discovery", { params: { path: { groupId: "5e84b94c003f2d6370004f4e" } } });
    await cm.GET("/groups");
    await cm.request("get", "/groups/{groupId}/discovery", { params: { path: { groupId: "5e84b94c003f2d6370004f4f" } } });
    expect(paths).toEqual([
      "/prometheus/v1.0/groups/5e84b94c003f2d6370004f4e/discovery",
      "/api/public/v1.0/groups",
      "/prometheus/v1.0/groups/5e84b94c003f2d6370004f4f/discovery",
    ]);
  });
});
