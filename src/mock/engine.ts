/**
 * Prism's engine (`@stoplight/prism-http`), as the mocks import it: without loading faker until a
 * dynamic answer (`Prefer: dynamic=true`) needs it.
 *
 * The engine requires `@faker-js/faker` as it loads, and faker 6's CommonJS entry builds all of its
 * locales right then: 0.7 s of the engine's 1.1 s import on this machine, paid at every mock start
 * although only dynamic answers use faker. So, before the engine loads, the module cache (Node's
 * `require.cache`, which the documentation allows entries to be added to) gets a stand-in for faker
 * at the very path the engine resolves: its `default`, the one thing the engine reads, hands every
 * property to the real faker, loaded on first use, which then takes the stand-in's place in the cache.
 * test/mock/engine.test.ts holds both halves: no faker at load, the real one on first use.
 */
import Module, { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const engineRequire = createRequire(require.resolve("@stoplight/prism-http"));
const fakerPath = engineRequire.resolve("@faker-js/faker");

if (engineRequire.cache[fakerPath] === undefined) {
  const standIn = new Module(fakerPath);
  let faker: Record<PropertyKey, unknown> | undefined;
  const real = () => {
    if (faker === undefined) {
      delete engineRequire.cache[fakerPath];
      faker = (engineRequire(fakerPath) as { default: Record<PropertyKey, unknown> }).default;
    }
    return faker;
  };
  standIn.filename = fakerPath;
  standIn.loaded = true;
  standIn.exports = {
    __esModule: true,
    default: new Proxy({}, {
      get: (_, key) => real()[key],
      has: (_, key) => key in real(),
      ownKeys: () => Reflect.ownKeys(real()),
      getOwnPropertyDescriptor: (_, key) => Object.getOwnPropertyDescriptor(real(), key),
    }),
  };
  engineRequire.cache[fakerPath] = standIn;
}

// Required here, after the stand-in is in place (an `import` would be evaluated before this module).
const engine = require("@stoplight/prism-http") as typeof import("@stoplight/prism-http");
export const { createInstance, getHttpOperationsFromSpec } = engine;
export type { IHttpRequest, IHttpResponse } from "@stoplight/prism-http";
