import { defineConfig } from "vitest/config"

// Tests import the packages by name; these aliases point them at the sources so a test run
// never depends on a stale build (the CLI end-to-end suites spawn the built binary instead).
export default defineConfig({
  resolve: {
    alias: {
      "@tisync/domain": new URL("./packages/domain/src/index.ts", import.meta.url).pathname,
      "@tisync/adapters": new URL("./packages/adapters/src/index.ts", import.meta.url).pathname,
      "@tisync/app": new URL("./packages/app/src/index.ts", import.meta.url).pathname
    }
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default"],
    // Effect logs of passing tests are noise in CI output; a failing test still shows its own.
    silent: "passed-only"
  }
})
