import { describe, expect, it } from "vitest";
import { ClientRequest } from "../../src/runtime/transport.ts";

describe("ClientRequest", () => {
  it("says whether its signal can ever abort: only when made with a signal, or from another request", () => {
    expect(new ClientRequest("http://127.0.0.1/groups").mayAbort).toBe(false);
    expect(new ClientRequest("http://127.0.0.1/groups", { signal: new AbortController().signal }).mayAbort).toBe(true);
    expect(new ClientRequest(new Request("http://127.0.0.1/groups")).mayAbort).toBe(true);
  });

  it("counts any Request as one of its own, as openapi-fetch checks the request a middleware returns", () => {
    expect(new Request("http://127.0.0.1/groups")).toBeInstanceOf(ClientRequest);
    expect({ url: "http://127.0.0.1/groups" }).not.toBeInstanceOf(ClientRequest);
  });
});
