/**
 * The `signoff` command as installed (bin/signoff.mjs), spawned in a directory of the test's
 * choosing with only the environment given (plus PATH), for tests of the command line.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

/** What one run printed and how it ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const BIN = join(import.meta.dirname, "..", "..", "bin", "signoff.mjs");

/** Run `signoff <args>` in `cwd` with exactly `env` (plus PATH); resolves when it exits. */
export function runSignoffBin(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
