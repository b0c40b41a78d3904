/**
 * signoff as a real child process (`node --import tsx src/main.ts`, what `npm start` runs), with a
 * config file of its own, for tests of crashes and shutdown.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DATABASE_URL, REDIS_URL, SIGNING_SECRET, SOURCE_TOKEN } from "./harness.js";

/** Write a config file with the test source (token {@link SOURCE_TOKEN}) and `approvals` overrides. */
export function writeProcessConfig(approvals: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), "signoff-"));
  const file = join(dir, "signoff.yaml");
  const tokenSha256 = createHash("sha256").update(SOURCE_TOKEN).digest("hex");
  const approvalLines = Object.entries(approvals).map(([k, v]) => `  ${k}: ${v}`);
  writeFileSync(
    file,
    ["sources:", "  - name: forge", `    tokenSha256: ${tokenSha256}`, "approvals:", ...approvalLines, ""].join("\n"),
  );
  return file;
}

/**
 * Spawn signoff on the shared PostgreSQL and Redis, on a port the OS picks, with `env` on top;
 * `started` resolves with its URL once it logs "signoff started".
 */
export function spawnSignoff(env: Record<string, string>, options: { cwd?: string } = {}) {
  const root = join(import.meta.dirname, "..", "..");
  // Absolute paths, so a test can run it from another directory (where `.env` and demo mode look).
  const tsx = pathToFileURL(join(root, "node_modules", "tsx", "dist", "esm", "index.mjs")).href;
  const child = spawn(process.execPath, ["--import", tsx, join(root, "src", "main.ts")], {
    cwd: options.cwd ?? root,
    env: { PATH: process.env.PATH, DATABASE_URL, REDIS_URL, HTTP_PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const started = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const line = output.split("\n").find((l) => l.includes('"signoff started"'));
      if (line) {
        clearInterval(timer);
        resolve(JSON.parse(line.slice(line.indexOf("{"))).url as string);
      }
    }, 25);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`signoff exited before starting: ${output}`));
    });
    setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`did not start within 25 s: ${output}`));
    }, 25_000).unref();
  });
  started.catch(() => undefined); // callers await it; never an unhandled rejection
  return { child, exited, started, output: () => output };
}

/** Spawn signoff on `schema`/`prefix` with `configFile` and the test signing secret. */
export function startSignoffProcess(options: { schema: string; prefix: string; configFile: string }) {
  return spawnSignoff({
    DATABASE_SCHEMA: options.schema,
    SIGNOFF_QUEUE_PREFIX: options.prefix,
    SIGNOFF_CONFIG: options.configFile,
    SIGNOFF_SIGNING_SECRET: SIGNING_SECRET,
  });
}
