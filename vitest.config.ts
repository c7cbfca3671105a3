import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Mock tests start Prism (a few seconds each); the build test runs the whole pipeline.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two workers on this two-core machine (vitest's default would be one): most files spend
    // their time waiting for a Prism process, so two at once finish the suite ~30% sooner.
    maxWorkers: 2,
  },
});
