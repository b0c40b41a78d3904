/**
 * The `signoff` command line: `signoff audit verify`, `signoff token`, `signoff migrate`.
 * Run with `npm run signoff -- <command>` (or `npx signoff <command>` once installed).
 */
import { createHash, randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { runWhatsAppCli, WHATSAPP_USAGE } from "./cli-whatsapp.js";
import { ConfigError, loadConfig, loadDatabaseEnv } from "./config.js";
import { AUDIT_SEAL_WITHIN_MS, createAuditStore } from "./store/audit-store.js";
import { createDatabase } from "./store/db.js";
import { migrate } from "./store/migrate.js";

const USAGE = `usage: signoff <command>

  audit verify   check the audit log's hash chain (read-only); exit 1 naming the first bad row
                 or the first entry left unsealed for over a minute
  token [name]   make a new source bearer token and the tokenSha256 line for signoff.yaml
  migrate        apply database migrations and exit
${WHATSAPP_USAGE}`;

/** Run one CLI command; returns the process exit code. */
export async function runCli(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const [command, sub, arg] = argv;
  if (command === "whatsapp") return runWhatsAppCli(argv.slice(1), out);
  if (command === "token") {
    const token = randomBytes(32).toString("base64url");
    const name = sub ?? "my-source";
    out(`token (give this to the source, keep it secret; it is shown only now):\n  ${token}`);
    out(
      `add to signoff.yaml under sources:\n  - name: ${name}\n    tokenSha256: ${createHash("sha256").update(token).digest("hex")}`,
    );
    return 0;
  }
  if (command === "audit" && sub === "verify") return verifyAudit(out);
  if (command === "migrate") {
    const config = loadConfig();
    const db = createDatabase({ url: config.env.DATABASE_URL, schema: config.env.DATABASE_SCHEMA, max: 2 });
    try {
      const applied = await migrate(db);
      out(applied.length ? `applied migrations ${applied.join(", ")}` : "database is up to date");
      return 0;
    } finally {
      await db.close();
    }
  }
  out(USAGE);
  return arg === undefined && command === undefined ? 0 : 2;
}

/** `signoff audit verify`: read-only; exit 1 for a broken chain or entries unsealed too long. */
async function verifyAudit(out: (line: string) => void): Promise<number> {
  const env = loadDatabaseEnv();
  const db = createDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, max: 2 });
  try {
    const result = await createAuditStore(db).verify();
    const waiting = result.awaitingSeal
      ? `${result.awaitingSeal} newer ${result.awaitingSeal === 1 ? "entry" : "entries"} awaiting seal (appended in the last ${AUDIT_SEAL_WITHIN_MS / 1000} s; the running signoff seals them)`
      : null;
    if (result.ok) {
      out(`audit log intact: ${result.rows} entries verified`);
      // Keep the head somewhere else (a ticket, a chat): a later head that does not extend it
      // means entries were cut off the end, which the chain alone cannot show.
      if (result.head) out(`head: seq ${result.head.seq} hash ${result.head.hash}`);
      if (waiting) out(waiting);
      return 0;
    }
    if (result.brokenSeq !== null)
      out(`audit log BROKEN at seq ${result.brokenSeq}: ${result.problem} (${result.rows} entries read)`);
    if (result.stale) {
      const { count, firstId } = result.stale;
      out(
        `audit log NOT SEALED: ${count} ${count === 1 ? "entry" : "entries"} appended more than ${AUDIT_SEAL_WITHIN_MS / 1000} s ago ` +
          `${count === 1 ? "is" : "are"} unsealed (outside the hash chain), first entry id ${firstId}.`,
      );
      out(
        "  Their seals were cleared (they may have been edited), or signoff stopped before sealing them. verify never seals;" +
          " a running signoff seals them and logs a warning. Then check that the head extends the one you recorded.",
      );
      if (result.brokenSeq === null && result.head)
        out(`sealed chain: ${result.rows} entries verify, head: seq ${result.head.seq} hash ${result.head.hash}`);
    }
    if (waiting) out(waiting);
    return 1;
  } finally {
    await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`signoff: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    },
  );
}
