/**
 * Several real signoff processes (`src/main.ts`) on one PostgreSQL schema and one Redis queue
 * prefix, as production runs them for more load: each has its own port, config file and env on
 * top, and can be killed with SIGKILL as a crash.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { SIGNING_SECRET, SOURCE_TOKEN } from "./harness.js";
import { spawnSignoff } from "./signoff-process.js";

/** Write a YAML config file with the test source `forge` (token {@link SOURCE_TOKEN}) and `file` on top. */
export function writeConfigFile(file: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "signoff-"));
  const path = join(dir, "signoff.yaml");
  const tokenSha256 = createHash("sha256").update(SOURCE_TOKEN).digest("hex");
  writeFileSync(path, stringify({ timezone: "UTC", sources: [{ name: "forge", tokenSha256 }], ...file }));
  return path;
}

/** One started process of a shared deployment. */
export interface SharedSignoff {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Everything it logged so far. */
  output(): string;
  /** SIGKILL, as a crash; resolves once it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM and wait (SIGKILL after 12 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Start one process per name on `schema`/`prefix` with `configFile`, all at once (so they race
 * on the migrations and start-up work as a rolling deploy would); `env(name)` adds variables.
 */
export async function startSharedSignoffs(options: {
  names: readonly string[];
  schema: string;
  prefix: string;
  configFile: string;
  env?: (name: string) => Record<string, string>;
}): Promise<SharedSignoff[]> {
  const spawned = options.names.map((name) => ({
    name,
    p: spawnSignoff({
      DATABASE_SCHEMA: options.schema,
      SIGNOFF_QUEUE_PREFIX: options.prefix,
      SIGNOFF_CONFIG: options.configFile,
      SIGNOFF_SIGNING_SECRET: SIGNING_SECRET,
      LOG_FORMAT: "json",
      ...(options.env?.(name) ?? {}),
    }),
  }));
  const settled = await Promise.allSettled(spawned.map((s) => s.p.started));
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) {
    for (const { p } of spawned) p.child.kill("SIGKILL");
    throw (failed as PromiseRejectedResult).reason;
  }
  return spawned.map(({ name, p }, i) => {
    let gone = false;
    void p.exited.then(() => (gone = true));
    return {
      name,
      url: (settled[i] as PromiseFulfilledResult<string>).value,
      pid: p.child.pid ?? -1,
      output: p.output,
      async kill9() {
        if (!gone) p.child.kill("SIGKILL");
        await p.exited;
      },
      async stop() {
        if (gone) return (await p.exited).code;
        p.child.kill("SIGTERM");
        const force = setTimeout(() => p.child.kill("SIGKILL"), 12_000);
        const { code } = await p.exited;
        clearTimeout(force);
        return code;
      },
    };
  });
}
