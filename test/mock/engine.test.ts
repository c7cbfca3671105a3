/**
 * Prism's engine as the mocks load it (src/mock/engine.ts): faker, which builds all its locales
 * when required, waits until a dynamic answer asks for it, and is the real faker then.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { createInstance, getHttpOperationsFromSpec } from "../../src/mock/engine.ts";

const engineRequire = createRequire(createRequire(import.meta.url).resolve("@stoplight/prism-http"));
const fakerPath = engineRequire.resolve("@faker-js/faker");

describe("Prism's engine, as the mocks import it", () => {
  it("is loaded without faker: the module cache holds the stand-in, not faker's locales", () => {
    expect(typeof createInstance).toBe("function");
    expect(typeof getHttpOperationsFromSpec).toBe("function");
    expect(Object.keys(engineRequire.cache[fakerPath]!.exports as object)).toEqual(["__esModule", "default"]);
  });

  it("hands the engine the real faker on first use, which then replaces the stand-in", () => {
    const { default: faker } = engineRequire(fakerPath) as { default: { lorem: { word(): string }; locale: string } };
    expect(faker.lorem.word()).toMatch(/^\p{L}+$/u);
    expect(faker.locale).toBe("en");
    expect(Object.keys(engineRequire.cache[fakerPath]!.exports as object)).toContain("faker");
  });
});
