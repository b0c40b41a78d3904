/**
 * `signoff backup [--out FILE]`: a pg_dump of signoff's schema, and the audit head inside it for
 * the operator to record. Needs only DATABASE_URL / DATABASE_SCHEMA, like `audit verify`.
 *
 * The dump is pg_dump's custom format (`.dump`): compressed (the audit log only grows), restored
 * with `pg_restore` in one transaction, and a file cut short is refused by pg_restore instead of
 * half-restoring as a truncated `.sql` script would.
 */
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { loadDatabaseEnv } from "../config.js";
import { withAuditHeadSnapshot } from "../store/audit-store.js";
import { createDatabase } from "../store/db.js";
import { CliError, type CliCommand, parseFlags } from "./command.js";
import { findPgDump, POSTGRES_LIB_DIR, runPgDump } from "./pg-dump.js";

const USAGE = `usage: signoff backup [--out FILE]

  Dump signoff's schema (DATABASE_SCHEMA, default public) of DATABASE_URL with pg_dump, in its
  custom format, and print the file, its size and the audit head inside it. Record the head:
  after a restore, \`signoff audit verify\` must print the same one.

  --out FILE   where to write (refuses to overwrite)
               default: signoff-backup-<UTC time>.dump in the current directory

  pg_dump is taken from PATH, else the newest ${POSTGRES_LIB_DIR}/<version>/bin; it must be at
  least the server's version. The password travels in PGPASSWORD, never on the command line.`;

/** The default file name: sortable UTC time, no characters a shell or Windows would mind. */
export function defaultBackupFile(now: Date): string {
  return `signoff-backup-${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}.dump`;
}

/** `12.3 kB`, for the line the operator reads. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The `backup` entry of the command table. */
export const backupCommand: CliCommand = {
  summary: "  backup [--out FILE]  pg_dump signoff's schema to a file and print the audit head to record",
  usage: USAGE,
  async run(args, io) {
    const { values } = parseFlags(args, { out: { type: "string" } }, USAGE);
    const env = loadDatabaseEnv(io.env);
    const file = values.out ?? defaultBackupFile(new Date());
    if (existsSync(file)) throw new CliError(`${file} already exists; choose another --out`);
    const pgDump = findPgDump(io.env.PATH);
    if (!pgDump)
      throw new CliError(
        `pg_dump not found on PATH or under ${POSTGRES_LIB_DIR}/*/bin: install the PostgreSQL client tools (at least the server's version)`,
      );
    // Written beside the target and renamed when complete: a failed dump never leaves a file
    // under the name an operator would restore from.
    const partial = `${file}.partial`;
    const db = createDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, max: 1 });
    try {
      const { head, unsealed } = await withAuditHeadSnapshot(db, async (snapshot) => {
        const result = await runPgDump({
          pgDump,
          databaseUrl: env.DATABASE_URL,
          schema: env.DATABASE_SCHEMA,
          snapshot: snapshot.id,
          file: partial,
          env: io.env,
        });
        if (result.code !== 0) {
          const reason = result.stderr.trim().split("\n").at(-1) ?? "";
          throw new CliError(`pg_dump failed (exit ${result.code})${reason ? `: ${reason}` : ""}`);
        }
        return snapshot;
      });
      renameSync(partial, file);
      io.out(`backup written: ${file} (${formatBytes(statSync(file).size)})`);
      io.out(head ? `audit head: seq ${head.seq} hash ${head.hash}` : "audit head: none (the audit log is empty)");
      if (unsealed > 0)
        io.out(
          `${unsealed} newer ${unsealed === 1 ? "entry was" : "entries were"} still awaiting seal: ${unsealed === 1 ? "it is" : "they are"} in the backup, outside the head; after a restore, signoff seals them at start`,
        );
      io.out("Record the head with the backup: after a restore, `signoff audit verify` must print the same head.");
      return 0;
    } finally {
      rmSync(partial, { force: true });
      await db.close();
    }
  },
};
