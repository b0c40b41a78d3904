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
  | { ok: true; rows: number }
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

function hashRow(prevHash: string, row: { seq: string; at: string; actor: string; action: string; subject: string | null; data: string }): string {
  return createHash("sha256")
    .update([prevHash, row.seq, row.at, row.actor, row.action, row.subject ?? "", row.data].join("\u001f"))
    .digest("hex");
}

/**
 * Append entries inside the caller's transaction. The advisory lock serialises writers so the
 * chain has one order; it is released at commit.
 */
export async function appendAudit(client: Queryable, schema: string, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query("SELECT pg_advisory_xact_lock(hashtext('signoff.audit.' || $1))", [schema]);
  const last = await maybeOne<{ hash: string }>(client, "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  let prevHash = last?.hash ?? GENESIS;
  for (const entry of entries) {
    const seq = (await client.query<{ seq: string }>("SELECT nextval(pg_get_serial_sequence('audit_log','seq'))::text AS seq")).rows[0]!.seq;
    // Millisecond ISO time: what JavaScript and the hash both see, exactly.
    const at = (entry.at ?? new Date()).toISOString();
    const row = { seq, at, actor: entry.actor, action: entry.action, subject: entry.subject ?? null, data: canonicalJson(entry.data ?? {}) };
    const hash = hashRow(prevHash, row);
    await client.query(
      "INSERT INTO audit_log (seq, at, actor, action, subject, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      [row.seq, row.at, row.actor, row.action, row.subject, row.data, prevHash, hash],
    );
    prevHash = hash;
  }
}

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
    /** Append entries in their own transaction. */
    append: (entries: AuditEntry[]) => withTransaction(db, (client) => appendAudit(client, db.schema, entries)),

    /** Entries about one subject (an approval id, an operator), oldest first. */
    async listBySubject(subject: string): Promise<AuditRow[]> {
      const rows = await many<{ seq: string; at: Date; actor: string; action: string; subject: string | null; data: string }>(
        db.pool,
        "SELECT seq::text, at, actor, action, subject, data FROM audit_log WHERE subject = $1 ORDER BY audit_log.seq",
        [subject],
      );
      return rows.map((r) => ({ seq: Number(r.seq), at: r.at, actor: r.actor, action: r.action, subject: r.subject, data: JSON.parse(r.data) }));
    },

    /** Recompute every hash in order; report the first row that does not match. */
    async verify(batchSize = 5_000): Promise<AuditVerification> {
      let prevHash = GENESIS;
      let afterSeq = "0";
      let rows = 0;
      for (;;) {
        const batch = await many<{ seq: string; at: string; actor: string; action: string; subject: string | null; data: string; prev_hash: string; hash: string }>(
          db.pool,
          `SELECT seq::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, actor, action, subject, data, prev_hash, hash
             FROM audit_log WHERE seq > $1 ORDER BY audit_log.seq LIMIT $2`,
          [afterSeq, batchSize],
        );
        if (batch.length === 0) return { ok: true, rows };
        for (const row of batch) {
          rows++;
          if (row.prev_hash !== prevHash) {
            return { ok: false, rows, brokenSeq: Number(row.seq), problem: "prev_hash does not match the previous row (a row was removed or reordered)" };
          }
          if (hashRow(prevHash, row) !== row.hash) {
            return { ok: false, rows, brokenSeq: Number(row.seq), problem: "content does not match its hash (the row was edited)" };
          }
          prevHash = row.hash;
          afterSeq = row.seq;
        }
      }
    },
  };
}

/** The audit store's interface, for injection. */
export type AuditStore = ReturnType<typeof createAuditStore>;
