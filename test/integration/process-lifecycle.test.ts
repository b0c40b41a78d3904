/**
 * `npm start` as a real process: it starts with defaults, answers /api/health, shuts down
 * cleanly on SIGTERM within 10 s with exit code 0, and refuses a bad config naming the field.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTestInstance, uniqueName } from "../helpers/harness.js";
import { spawnSignoff } from "../helpers/signoff-process.js";

const schema = uniqueName("t");
const prefix = uniqueName("q");
afterAll(() => cleanupTestInstance(schema, prefix));

function startProcess(extraEnv: Record<string, string>) {
  return spawnSignoff({ DATABASE_SCHEMA: schema, SIGNOFF_QUEUE_PREFIX: prefix, ...extraEnv });
}

describe("the signoff process", () => {
  it("starts with no config, serves health, and exits 0 within 10 s of SIGTERM", async () => {
    const p = startProcess({});
    const started = await p.started;
    const health = await fetch(`${started}/api/health`);
    expect(health.status).toBe(200);
    const t0 = Date.now();
    p.child.kill("SIGTERM");
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(p.output()).toContain('"shutting down"');
  }, 40_000);

  it("refuses an invalid config file, naming the field, with exit code 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signoff-"));
    const file = join(dir, "signoff.yaml");
    writeFileSync(file, "operators:\n  - name: adam\n    roles: [owner]\n    timezone: Mars/Olympus\n");
    const p = startProcess({ SIGNOFF_CONFIG: file });
    expect((await p.exited).code).toBe(2);
    expect(p.output()).toContain("operators.0.timezone");
  }, 30_000);
});
