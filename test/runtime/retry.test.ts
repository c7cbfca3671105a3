import { describe, expect, it } from "vitest";
import { retryAfterMs, retryingFetch } from "../../src/runtime/retry.ts";

/** A fake server answering from a script of statuses; records method, body and time of each call. */
function scripted(statuses: (number | "drop")[], headers: Record<string, string> = {}) {
  const calls: { method: string; body: string; at: number }[] = [];
  const send = async (request: Request) => {
    calls.push({ method: request.method, body: await request.text(), at: Date.now() });
    const status = statuses[Math.min(calls.length - 1, statuses.length - 1)]!;
    if (status === "drop") throw new TypeError("fetch failed");
    return new Response(status === 200 ? "{}" : '{"error":"x"}', { status, headers });
  };
  return { send, calls };
}

describe("retryingFetch", () => {
  it("retries 429 and 503, sending the body again each time, until success", async () => {
    const { send, calls } = scripted([429, 503, 200]);
    const response = await retryingFetch(send, { baseDelayMs: 1 })(new Request("http://x/a", { method: "POST", body: "payload" }));
    expect(response.status).toBe(200);
    expect(calls.map((c) => c.body)).toEqual(["payload", "payload", "payload"]);
  });

  it("waits as long as Retry-After says", async () => {
    const { send, calls } = scripted([429, 200], { "Retry-After": "1" });
    await retryingFetch(send, { baseDelayMs: 1 })(new Request("http://x/a"));
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("gives up after the configured retries and returns the last answer", async () => {
    const { send, calls } = scripted([503]);
    const response = await retryingFetch(send, { retries: 2, baseDelayMs: 1 })(new Request("http://x/a"));
    expect(response.status).toBe(503);
    expect(calls).toHaveLength(3);
  });

  it("does not retry other errors", async () => {
    const { send, calls } = scripted([500, 200]);
    expect((await retryingFetch(send, { baseDelayMs: 1 })(new Request("http://x/a"))).status).toBe(500);
    expect(calls).toHaveLength(1);
  });

  it("stops waiting for Retry-After as soon as the caller aborts", async () => {
    const { send, calls } = scripted([429, 200], { "Retry-After": "10" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await expect(retryingFetch(send)(new Request("http://x/a", { signal: controller.signal }))).rejects.toThrow(expect.objectContaining({ name: "AbortError" }));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(calls).toHaveLength(1);
  });

  it("retries a dropped connection for a GET but not for a POST", async () => {
    const get = scripted(["drop", 200]);
    expect((await retryingFetch(get.send, { baseDelayMs: 1 })(new Request("http://x/a"))).status).toBe(200);
    const post = scripted(["drop", 200]);
    await expect(retryingFetch(post.send, { baseDelayMs: 1 })(new Request("http://x/a", { method: "POST", body: "b" }))).rejects.toThrow("fetch failed");
    expect(post.calls).toHaveLength(1);
  });
});

describe("retryAfterMs", () => {
  it.each([
    ["120", 120_000],
    ["Wed, 21 Oct 2015 07:28:10 GMT", 10_000],
    ["soon", undefined],
    [null, undefined],
  ])("reads %s", (value, expected) => {
    expect(retryAfterMs(value, Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(expected);
  });
});
