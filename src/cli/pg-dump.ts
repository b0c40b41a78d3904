/**
 * Finding and running `pg_dump` for `signoff backup`: the binary on PATH or the newest under
 * /usr/lib/postgresql/<version>/bin, the connection without its password on the command line
 * (anyone on the host can read a process's arguments; the password goes in PGPASSWORD).
 */
import { spawn } from "node:child_process";
import { accessSync, constants, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Where Debian and Ubuntu install each PostgreSQL version's client programs. */
export const POSTGRES_LIB_DIR = "/usr/lib/postgresql";

/**
 * The pg_dump to use: the first on `path` (the operator's choice), else the newest version under
 * `libDir`; null when there is none.
 *
 * @example
 * findPgDump(env.PATH) // "/usr/bin/pg_dump"
 */
export function findPgDump(path: string | undefined, libDir: string = POSTGRES_LIB_DIR): string | null {
  for (const dir of (path ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, "pg_dump");
    if (isExecutable(candidate)) return candidate;
  }
  let versions: string[];
  try {
    versions = readdirSync(libDir);
  } catch {
    return null;
  }
  const newest = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(libDir, v, "bin", "pg_dump"))
    .find(isExecutable);
  return newest ?? null;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A connection for a libpq client: the URL without its password, and the password apart. */
export function splitDatabaseUrl(url: string): { dbname: string; password: string | null } {
  const parsed = new URL(url);
  let password: string | null = parsed.password ? decodeURIComponent(parsed.password) : null;
  parsed.password = "";
  // libpq also takes the password as a query parameter.
  const inQuery = parsed.searchParams.get("password");
  if (inQuery !== null) {
    password ??= inQuery;
    parsed.searchParams.delete("password");
  }
  return { dbname: parsed.toString(), password };
}

/** What {@link runPgDump} needs. */
export interface PgDumpOptions {
  pgDump: string;
  databaseUrl: string;
  schema: string;
  /** Snapshot to dump (from `pg_export_snapshot()`), so the dump matches what the caller read. */
  snapshot: string;
  file: string;
  /** The environment pg_dump inherits (PGSSLMODE and friends); PGPASSWORD is set from the URL. */
  env: NodeJS.ProcessEnv;
}

/**
 * Dump one schema in pg_dump's custom format; resolves with pg_dump's exit code and what it wrote
 * to stderr. `--no-password` so it fails instead of waiting for a password on the terminal.
 */
export function runPgDump(options: PgDumpOptions): Promise<{ code: number; stderr: string }> {
  const { dbname, password } = splitDatabaseUrl(options.databaseUrl);
  const args = [
    "--format=custom",
    "--no-password",
    `--schema=${options.schema}`,
    `--snapshot=${options.snapshot}`,
    `--file=${options.file}`,
    `--dbname=${dbname}`,
  ];
  const env = { ...options.env, ...(password === null ? {} : { PGPASSWORD: password }) };
  return new Promise((resolve, reject) => {
    const child = spawn(options.pgDump, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stderr }));
  });
}
