/**
 * `npm run bench` answers --help with its sections and the environment it reads, and refuses a
 * name it does not know instead of running every benchmark (which takes minutes).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 20_000,
  });

describe("npm run bench", () => {
  it("lists every section in one line and the environment it reads for --help, exit 0", () => {
    const r = bench("--help");
    expect(r.status).toBe(0);
    for (const section of ["timers", "api", "tg-inbound", "tg-outbound", "tg-reaction"])
      expect(r.stdout).toMatch(new RegExp(`^ {2}${section} +\\S.*$`, "m"));
    for (const name of ["TEST_DATABASE_URL", "TEST_REDIS_URL", "BENCH_TIMER_COUNT", "BENCH_API_COUNT"])
      expect(r.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, "m"));
    expect(r.stdout).toContain("bench/results.local.json");
  });

  it("names an unknown section or option and exits 2 without running anything", () => {
    const r = bench("timers", "apii");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bench: unknown section 'apii' \(sections: timers, api,/);
    expect(r.stdout).not.toMatch(/running/);
    const flag = bench("--quick");
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/^bench: unknown option '--quick'/);
  });
});
