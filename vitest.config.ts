import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Mock tests start Prism (a few seconds each); the build test runs the whole pipeline.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
