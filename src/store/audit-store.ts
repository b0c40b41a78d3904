/**
 * The append-only, hash-chained audit log. Each row's hash covers its content and the previous
 * row's hash, so editing or deleting any row breaks every hash after it; `verify` finds the
 * first broken row.
 */
import { createHash } from "node:crypto";
import { type Database, type Queryable, many, maybeOne, withTransaction } from "./db.js";

/** One thing that happened, by whom, to what. */
export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string | null;
  data?: Record<string, unknown>;
  at?: Date;
}

/** Result of checking the chain: `ok`, or the first row that does not verify and why. */
export type AuditVerification =
  | { ok: true; rows: number; head: { seq: number; hash: string } | null }
  | { ok: false; rows: number; brokenSeq: number; problem: string };

const GENESIS = "0".repeat(64);

/** Stable JSON: keys sorted at every level, so the same data always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

interface ChainRow {
  seq: string;
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  data: string;
}

function hashRow(prevHash: string, row: ChainRow): string {
  return createHash("sha256")
    .update([prevHash, row.seq, row.id, row.at, row.actor, row.action, row.subject ?? "", row.data].join("\u001f"))
    .digest("hex");
}

/** Column arrays for inserting entries with `unnest` in one statement (see {@link AUDIT_INSERT_SQL}). */
export function auditArrays(entries: AuditEntry[]): [string[], string[], string[], Array<string | null>, string[]] {
  return [
    // Millisecond ISO time: what JavaScript and the hash both see, exactly.
    entries.map((e) => (e.at ?? new Date()).toISOString()),
    entries.map((e) => e.actor),
    entries.map((e) => e.action),
    entries.map((e) => e.subject ?? null),
    entries.map((e) => canonicalJson(e.data ?? {})),
  ];
}

/** `INSERT` of audit entries from five array parameters starting at `$first`. */
export const auditInsertSql = (first: number) =>
  `INSERT INTO audit_log (at, actor, action, subject, data)
   SELECT * FROM unnest($${first}::timestamptz[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::text[], $${first + 4}::text[])`;

/** Append entries inside the caller's transaction (sealed into the chain shortly after). */
export async function appendAudit(client: Queryable, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query(auditInsertSql(1), auditArrays(entries));
}

const AT_ISO = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A stored audit row as read back. */
export interface AuditRow {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  data: Record<string, unknown>;
}

/** Audit log reads and the chain check. */
export function createAuditStore(db: Database) {
  return {
    /** Append entries (one statement, no lock). */
    append: (entries: AuditEntry[]) => appendAudit(db.pool, entries),

    /**
     * Seal unsealed entries into the chain, oldest first. One sealer at a time across processes
     * (a busy lock means another process is sealing: return 0 and let it).
     */
    async seal(batchSize = 2_000): Promise<number> {
      let sealed = 0;
      for (;;) {
        const n = await withTransaction(db, async (client) => {
          const locked = await maybeOne<{ ok: boolean }>(client, "SELECT pg_try_advisory_xact_lock(hashtext('signoff.audit.' || $1)) AS ok", [db.schema]);
          if (!locked?.ok) return 0;
          const last = await maybeOne<{ seq: string; hash: string }>(
            client,
            "SELECT chain_seq::text AS seq, hash FROM audit_log WHERE chain_seq IS NOT NULL ORDER BY audit_log.chain_seq DESC LIMIT 1",
          );
          const rows = await many<Omit<ChainRow, "seq">>(
            client,
            `SELECT id::text, ${AT_ISO} AS at, actor, action, subject, data FROM audit_log WHERE chain_seq IS NULL ORDER BY audit_log.id LIMIT $1`,
            [batchSize],
          );
          if (rows.length === 0) return 0;
          let prevHash = last?.hash ?? GENESIS;
          let seq = BigInt(last?.seq ?? "0");
          const ids: string[] = [], seqs: string[] = [], prevs: string[] = [], hashes: string[] = [];
          for (const row of rows) {
            seq += 1n;
            const hash = hashRow(prevHash, { ...row, seq: seq.toString() });
            ids.push(row.id), seqs.push(seq.toString()), prevs.push(prevHash), hashes.push(hash);
            prevHash = hash;
          }
          await client.query(
            `UPDATE audit_log a SET chain_seq = v.seq, prev_hash = v.prev, hash = v.hash
               FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS v(id, seq, prev, hash) WHERE a.id = v.id`,
            [ids, seqs, prevs, hashes],
          );
          return rows.length;
        });
        sealed += n;
        if (n < batchSize) return sealed;
      }
    },

    /** Entries about one subject (an approval id, an operator), oldest first. */
    async listBySubject(subject: string): Promise<AuditRow[]> {
      const rows = await many<{ seq: string; at: Date; actor: string; action: string; subject: string | null; data: string }>(
        db.pool,
        "SELECT id::text AS seq, at, actor, action, subject, data FROM audit_log WHERE subject = $1 ORDER BY audit_log.id",
        [subject],
      );
      return rows.map((r) => ({ seq: Number(r.seq), at: r.at, actor: r.actor, action: r.action, subject: r.subject, data: JSON.parse(r.data) }));
    },

    /** Seal what is pending, then recompute every hash in chain order; report the first bad row. */
    async verify(batchSize = 5_000): Promise<AuditVerification> {
      await this.seal();
      let prevHash = GENESIS;
      let expectedSeq = 1n;
      let rows = 0;
      for (;;) {
        const batch = await many<ChainRow & { prev_hash: string; hash: string }>(
          db.pool,
          `SELECT chain_seq::text AS seq, id::text, ${AT_ISO} AS at, actor, action, subject, data, prev_hash, hash
             FROM audit_log WHERE chain_seq >= $1 ORDER BY audit_log.chain_seq LIMIT $2`,
          [expectedSeq.toString(), batchSize],
        );
        if (batch.length === 0) break;
        for (const row of batch) {
          rows++;
          const seq = Number(row.seq);
          if (BigInt(row.seq) !== expectedSeq) {
            return { ok: false, rows, brokenSeq: seq, problem: `entry ${expectedSeq} is missing (deleted)` };
          }
          if (row.prev_hash !== prevHash) {
            return { ok: false, rows, brokenSeq: seq, problem: "prev_hash does not match the previous entry (an entry was removed or reordered)" };
          }
          if (hashRow(prevHash, row) !== row.hash) {
            return { ok: false, rows, brokenSeq: seq, problem: "content does not match its hash (the entry was edited)" };
          }
          prevHash = row.hash;
          expectedSeq += 1n;
        }
      }
      return { ok: true, rows, head: rows ? { seq: Number(expectedSeq - 1n), hash: prevHash } : null };
    },
  };
}

/** The audit store's interface, for injection. */
export type AuditStore = ReturnType<typeof createAuditStore>;
