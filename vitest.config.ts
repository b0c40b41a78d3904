import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests share one PostgreSQL and one Redis; each test file uses its own schema
    // and queue prefix, so files may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
