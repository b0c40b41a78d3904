/**
 * `npm start` as a real process: it starts with defaults, answers /api/health, shuts down
 * cleanly on SIGTERM within 10 s with exit code 0, and refuses a bad config naming the field.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DATABASE_URL, REDIS_URL, cleanupTestInstance, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("t");
const prefix = uniqueName("q");
afterAll(() => cleanupTestInstance(schema, prefix));

function startProcess(extraEnv: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: join(import.meta.dirname, "..", ".."),
    env: {
      PATH: process.env.PATH,
      DATABASE_URL,
      REDIS_URL,
      DATABASE_SCHEMA: schema,
      SIGNOFF_QUEUE_PREFIX: prefix,
      HTTP_PORT: "0",
      LOG_LEVEL: "info",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe("the signoff process", () => {
  it("starts with no config, serves health, and exits 0 within 10 s of SIGTERM", async () => {
    const p = startProcess({});
    const started = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const line = p
          .output()
          .split("\n")
          .find((l) => l.includes('"signoff started"'));
        if (line) {
          clearInterval(timer);
          resolve(JSON.parse(line).url as string);
        }
      }, 50);
      setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`did not start: ${p.output()}`));
      }, 25_000);
    });
    const health = await fetch(`${started}/api/health`);
    expect(health.status).toBe(200);
    const t0 = Date.now();
    p.child.kill("SIGTERM");
    const code = await p.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(p.output()).toContain('"shutting down"');
  }, 40_000);

  it("refuses an invalid config file, naming the field, with exit code 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signoff-"));
    const file = join(dir, "signoff.yaml");
    writeFileSync(file, "operators:\n  - name: adam\n    roles: [owner]\n    timezone: Mars/Olympus\n");
    const p = startProcess({ SIGNOFF_CONFIG: file });
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain("operators.0.timezone");
  }, 30_000);
});
