import { describe, expect, it } from "vitest";
import { createCvmClient } from "../../src/clients/cvm.ts";

describe("createCvmClient", () => {
  it.each(["baseUrl", "publicToken", "privateToken"] as const)("refuses an empty %s, naming the option", (field) => {
    const options = { baseUrl: "https://panel.example.net", publicToken: "pub-secret", privateToken: "priv-secret", [field]: "" };
    expect(() => createCvmClient(options)).toThrow(`option "${field}"`);
  });

  it("never puts a token in its error messages", () => {
    const attempt = () => createCvmClient({ baseUrl: "", publicToken: "pub-secret", privateToken: "priv-secret" });
    expect(attempt).toThrow();
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toMatch(/secret/);
    }
  });

  it("is typed by the contract: unknown paths and mistyped parameters do not compile", () => {
    const client = createCvmClient({ baseUrl: "http://127.0.0.1:9", publicToken: "p", privateToken: "q" });
    // Never called: these lines are checked by `tsc` (npm test), where each must be a type error.
    const typeChecks = () => {
      // @ts-expect-error no such operation in the CVM contract
      void client.GET("/api/client/vps/{id}/console", { params: { path: { id: "1" } } });
      // @ts-expect-error start is a POST
      void client.GET("/api/client/vps/{id}/start", { params: { path: { id: "1" } } });
      // @ts-expect-error reinstall needs a template
      void client.POST("/api/client/vps/{id}/reinstall", { params: { path: { id: "1" } }, body: {} });
      // @ts-expect-error the VPS id is required
      void client.GET("/api/client/vps/{id}", {});
    };
    expect(typeof typeChecks).toBe("function");
  });
});
