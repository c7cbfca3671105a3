/**
 * The Cloud Manager mock: a digest-checking front and Prism behind it, on free loopback ports.
 * The client's whole challenge–response runs against it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MOCK_DIGEST_CREDENTIALS as MOCK_CREDENTIALS, MOCK_SERVICE_ACCOUNT } from "../../src/mock/server.ts";
import { CloudManagerApiError, createCloudManagerClient, paginate } from "../../src/clients/cloudmanager.ts";
import { formatErrors, loadContract, type Contract } from "../../src/contract/index.ts";
import { loggingFetch, useMock } from "../support/mock.ts";

const mock = useMock("cloudmanager");
let contract: Contract;
beforeAll(async () => {
  contract = await loadContract("cloudmanager");
});

function clientOnMock(credentials = MOCK_CREDENTIALS) {
  const { fetch, exchanges } = loggingFetch();
  const client = createCloudManagerClient({ baseUrl: mock.current.baseUrl, publicKey: credentials.username, privateKey: credentials.password, fetch });
  return { client, exchanges };
}

describe("the Cloud Manager mock", () => {
  it("answers a request without credentials with 401 and a Digest challenge", async () => {
    const response = await fetch(`${mock.current.baseUrl}/groups`);
    expect(response.status).toBe(401);
    const challenge = response.headers.get("WWW-Authenticate") ?? "";
    expect(challenge).toMatch(/^Digest realm="MMS Public API", .*nonce="[^"]+", algorithm=SHA-256, qop="auth"/);
    expect(challenge).toContain("algorithm=MD5");
    expect(contract.validateResponse({ method: "GET", path: "/api/public/v1.0/groups", status: 401, body: await response.json() }).valid).toBe(true);
  });

  it("lets the digest client through after the challenge, and the answers conform", async () => {
    const { client, exchanges } = clientOnMock();
    const { data } = await client.GET("/groups/{groupId}/hosts", { params: { path: { groupId: "5e84b94c003f2d6370004f4e" } } });
    expect(data!.results.length).toBeGreaterThan(0);
    expect(exchanges.map((e) => e.status)).toEqual([401, 200]);
    expect(formatErrors(contract.validateResponse(exchanges[1]!, { strict: true }).errors)).toBe("");
  });

  it("pages through a list, reusing the challenge for every page", async () => {
    const { client, exchanges } = clientOnMock();
    const hosts = [];
    for await (const host of paginate(client, "/groups/{groupId}/hosts", { path: { groupId: "5e84b94c003f2d6370004f4e" } })) hosts.push(host);
    expect(hosts.length).toBeGreaterThan(0);
    expect(exchanges.map((e) => e.status)).toEqual([401, 200]);
  });

  it("walks the projects list, as the README's paginate example does, to its documented total", async () => {
    // The documented example is one whole page (its totalCount agrees with its results, no next
    // link): paginate asks for page 1 and stops, neither missing a page nor meeting one twice.
    const { client, exchanges } = clientOnMock();
    const projects = [];
    for await (const project of paginate(client, "/groups")) projects.push(project);
    const page = exchanges.find((e) => e.status === 200)!.body as { totalCount: number };
    expect(projects).toHaveLength(page.totalCount);
    expect(exchanges.filter((e) => e.status === 200).map((e) => `${e.path}${e.query}`)).toEqual(["/api/public/v1.0/groups?pageNum=1"]);
  });

  it("refuses wrong keys with 401, which the client raises as CloudManagerApiError", async () => {
    const { client } = clientOnMock({ username: MOCK_CREDENTIALS.username, password: "wrong" });
    await expect(client.GET("/groups")).rejects.toBeInstanceOf(CloudManagerApiError);
  });
});

describe("service accounts on the Cloud Manager mock", () => {
  it("issues a token for the mock's client credentials, which then passes without digest", async () => {
    const { fetch, exchanges } = loggingFetch();
    const client = createCloudManagerClient({ baseUrl: mock.current.baseUrl, serviceAccount: MOCK_SERVICE_ACCOUNT, fetch });
    const { data } = await client.GET("/groups");
    expect(data!.results.length).toBeGreaterThan(0);
    expect(exchanges.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual(["POST /api/oauth/token 200", "GET /api/public/v1.0/groups 200"]);
  });

  it("refuses wrong client credentials, an unknown token and a revoked one", async () => {
    const origin = new URL(mock.current.baseUrl).origin;
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
    const tokenRequest = (authorization: string) =>
      fetch(`${origin}/api/oauth/token`, { method: "POST", headers: { Authorization: authorization, "Content-Type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials" });
    expect((await tokenRequest(basic(MOCK_SERVICE_ACCOUNT.clientId, "wrong"))).status).toBe(401);
    const { access_token: token } = (await (await tokenRequest(basic(MOCK_SERVICE_ACCOUNT.clientId, MOCK_SERVICE_ACCOUNT.clientSecret))).json()) as { access_token: string };
    const groups = (bearer: string) => fetch(`${mock.current.baseUrl}/groups`, { headers: { Authorization: `Bearer ${bearer}` } });
    expect((await groups(token)).status).toBe(200);
    expect((await groups("not-a-token")).status).toBe(401);
    const revoke = await fetch(`${origin}/api/oauth/revoke`, {
      method: "POST",
      headers: { Authorization: basic(MOCK_SERVICE_ACCOUNT.clientId, MOCK_SERVICE_ACCOUNT.clientSecret), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(revoke.status).toBe(200);
    expect((await groups(token)).status).toBe(401);
  });
});
