/**
 * `signoff audit verify`: check the audit log's hash chain, reading only. Needs only the database
 * settings: an auditor must not need the signing secret or a valid signoff.yaml.
 */
import { loadDatabaseEnv } from "../config.js";
import { AUDIT_SEAL_WITHIN_MS, type AuditVerification, createAuditStore } from "../store/audit-store.js";
import { createDatabase } from "../store/db.js";
import { type CliCommand, parseFlags, UsageError } from "./command.js";

const USAGE = `usage: signoff audit verify

  Check the audit log's hash chain in DATABASE_URL / DATABASE_SCHEMA (read-only) and print its
  head (seq and hash): keep it somewhere else and check later heads extend it.
  Exit 0 intact, 1 naming the first bad entry or the first entry left unsealed for over a minute.`;

/** The `audit` entry of the command table (one subcommand, `verify`). */
export const auditCommand: CliCommand = {
  summary: `  audit verify         check the audit log's hash chain (read-only); exit 1 naming the first bad entry
                       or the first entry left unsealed for over a minute`,
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== "verify")
      throw new UsageError(sub === undefined ? "audit needs a subcommand" : `unknown audit subcommand '${sub}'`, USAGE);
    parseFlags(rest, {}, USAGE);
    const env = loadDatabaseEnv(io.env);
    const db = createDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, max: 2 });
    try {
      const result = await createAuditStore(db).verify();
      for (const line of describeVerification(result)) io.out(line);
      return result.ok ? 0 : 1;
    } finally {
      await db.close();
    }
  },
};

/** The lines `audit verify` prints for a result. */
export function describeVerification(result: AuditVerification): string[] {
  const lines: string[] = [];
  const waiting = result.awaitingSeal
    ? `${result.awaitingSeal} newer ${result.awaitingSeal === 1 ? "entry" : "entries"} awaiting seal (appended in the last ${AUDIT_SEAL_WITHIN_MS / 1000} s; the running signoff seals them)`
    : null;
  if (result.ok) {
    lines.push(`audit log intact: ${result.rows} entries verified`);
    // Keep the head somewhere else (a ticket, a chat): a later head that does not extend it
    // means entries were cut off the end, which the chain alone cannot show.
    if (result.head) lines.push(`head: seq ${result.head.seq} hash ${result.head.hash}`);
    if (waiting) lines.push(waiting);
    return lines;
  }
  if (result.brokenSeq !== null)
    lines.push(`audit log BROKEN at seq ${result.brokenSeq}: ${result.problem} (${result.rows} entries read)`);
  if (result.stale) {
    const { count, firstId } = result.stale;
    lines.push(
      `audit log NOT SEALED: ${count} ${count === 1 ? "entry" : "entries"} appended more than ${AUDIT_SEAL_WITHIN_MS / 1000} s ago ` +
        `${count === 1 ? "is" : "are"} unsealed (outside the hash chain), first entry id ${firstId}.`,
      "  Their seals were cleared (they may have been edited), or signoff stopped before sealing them. verify never seals;" +
        " a running signoff seals them and logs a warning. Then check that the head extends the one you recorded.",
    );
    if (result.brokenSeq === null && result.head)
      lines.push(`sealed chain: ${result.rows} entries verify, head: seq ${result.head.seq} hash ${result.head.hash}`);
  }
  if (waiting) lines.push(waiting);
  return lines;
}
