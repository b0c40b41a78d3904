/**
 * `signoff migrate`: apply the database migrations and exit. Needs only the database settings,
 * so it can run before the signing secret or signoff.yaml are in place (a deploy's first step).
 */
import { loadDatabaseEnv } from "../config.js";
import { createDatabase } from "../store/db.js";
import { migrate } from "../store/migrate.js";
import { type CliCommand, parseFlags } from "./command.js";

const USAGE = `usage: signoff migrate

  Apply the database migrations to DATABASE_URL / DATABASE_SCHEMA and exit (signoff also applies
  them at every start). Safe to run while signoff runs: each migration is applied once.`;

/** The `migrate` entry of the command table. */
export const migrateCommand: CliCommand = {
  summary: "  migrate              apply database migrations and exit",
  usage: USAGE,
  async run(args, io) {
    parseFlags(args, {}, USAGE);
    const env = loadDatabaseEnv(io.env);
    const db = createDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, max: 2 });
    try {
      const applied = await migrate(db);
      io.out(applied.length ? `applied migrations ${applied.join(", ")}` : "database is up to date");
      return 0;
    } finally {
      await db.close();
    }
  },
};
