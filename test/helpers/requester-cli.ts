/**
 * The installed `signoff` command (bin/signoff.mjs) spawned as a requester would run it, with
 * stderr readable while it runs (to learn the code it asked with) and the child at hand (to send
 * it Ctrl-C).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { eventually } from "./harness.js";
import type { CliRun } from "./signoff-cli.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "signoff.mjs");

/** A running `signoff` command. */
export interface RunningSignoff {
  child: ChildProcess;
  /** What it has written to stderr so far. */
  stderr(): string;
  /** The approval code once it has said "asked <code>". */
  askedCode(): Promise<string>;
  /** Resolves when it exits. */
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/** Spawn `signoff <args>` in `cwd` with exactly `env` (plus PATH), `stdin` written then closed. */
export function spawnSignoff(
  args: string[],
  options: { cwd: string; env: Record<string, string>; stdin?: string },
): RunningSignoff {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(options.stdin ?? "");
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stderr: () => stderr,
    askedCode: () => eventually(() => /asked ([A-Z0-9]+) /.exec(stderr)?.[1], '"asked <code>" on stderr', 15_000),
    done,
  };
}
