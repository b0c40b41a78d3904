/**
 * Numbered, forward-only SQL migrations from `src/store/migrations/NNN_name.sql`, applied at
 * start in one transaction under an advisory lock so concurrent starts apply each exactly once.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Database, many, withTransaction } from "./db.js";

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "migrations");

/** A migration file: its number, name and SQL. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Read the migration files in order; a gap or duplicate number is a programming error. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  return files.map((file, index) => {
    const version = Number(file.slice(0, 3));
    if (version !== index + 1) throw new Error(`migration ${file} is out of sequence (expected ${index + 1})`);
    return { version, name: file.replace(/\.sql$/, ""), sql: readFileSync(join(dir, file), "utf8") };
  });
}

/** Apply every migration not yet applied; returns the versions applied now. */
export async function migrate(db: Database): Promise<number[]> {
  const migrations = readMigrations();
  return withTransaction(db, async (client) => {
    // One lock per schema: parallel test files migrate their own schemas without waiting.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('signoff.migrate.' || $1))", [db.schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
    await client.query(`SET LOCAL search_path = ${db.schema}`);
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set(
      (await many<{ version: number }>(client, "SELECT version FROM schema_migrations")).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}
