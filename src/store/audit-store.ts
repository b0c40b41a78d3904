/**
 * The append-only, hash-chained audit log. Each row's hash covers its content and the previous
 * row's hash, so editing or deleting any row breaks every hash after it; `verify` finds the
 * first broken row. Rows are appended unsealed and sealed into the chain by `seal` (one sealer
 * at a time); `verify` only reads, and reports rows left unsealed too long instead of sealing them.
 */
import { createHash } from "node:crypto";
import { type Database, type Queryable, many, maybeOne, one, withTransaction } from "./db.js";

/** One thing that happened, by whom, to what. */
export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string | null;
  data?: Record<string, unknown>;
  at?: Date;
}

/**
 * The sealing interval: how long an entry may wait outside the chain while signoff runs. The
 * sealer tries every 250 ms, but a tick is skipped while a big batch seals, a failed seal waits
 * for the next tick and a write transaction commits after its entries were appended; a minute
 * covers all of that. Older unsealed entries lost their seal, or signoff stopped before sealing them.
 */
export const AUDIT_SEAL_WITHIN_MS = 60_000;

/** Unsealed entries older than the sealing interval: how many, and the id of the first. */
export interface LateEntries {
  count: number;
  firstId: number;
}

/** The last sealed entry: record it elsewhere, and check later heads extend it. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * Result of checking the chain. `ok` needs an intact chain and no entry unsealed for longer than
 * the sealing interval; `awaitingSeal` counts younger unsealed entries, which are normal.
 * `brokenSeq` is the first chain entry that does not verify (null when only `stale` is wrong).
 */
export type AuditVerification =
  | { ok: true; rows: number; head: ChainHead | null; awaitingSeal: number }
  | {
      ok: false;
      rows: number;
      brokenSeq: number | null;
      problem: string;
      head: ChainHead | null;
      stale: LateEntries | null;
      awaitingSeal: number;
    };

/** How `seal` batches, and who hears about entries that waited longer than the sealing interval. */
export interface SealOptions {
  /** @defaultValue 2000 */
  batchSize?: number;
  /** @defaultValue {@link AUDIT_SEAL_WITHIN_MS} */
  sealWithinMs?: number;
  /** Called once, after sealing, when some sealed entries were older than `sealWithinMs`. */
  onLate?: (late: LateEntries) => void;
}

const GENESIS = "0".repeat(64);
/** The formula new seals use (see the hash functions below). */
const HASH_VERSION = 2;

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

/** A row as the hash sees it: every value as PostgreSQL's text, `at` in the version's precision. */
interface HashedRow {
  seq: string;
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  data: string;
}

/** Version 1 (rows with no hash_version): `at` to the millisecond, fields joined by a separator. */
function hashV1(prevHash: string, row: HashedRow): string {
  return createHash("sha256")
    .update([prevHash, row.seq, row.id, row.at, row.actor, row.action, row.subject ?? "", row.data].join("\u001f"))
    .digest("hex");
}

/**
 * Version 2: `at` to the microsecond as stored, and the fields as a JSON array, so no value can
 * pass for another (a NULL subject for an empty one, a separator inside an actor's name).
 */
function hashV2(prevHash: string, row: HashedRow): string {
  const fields = ["signoff.audit.v2", prevHash, row.seq, row.id, row.at, row.actor, row.action, row.subject, row.data];
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex");
}

/** Column arrays for inserting entries with `unnest` in one statement (see {@link auditInsertSql}). */
export function auditArrays(entries: AuditEntry[]): [string[], string[], string[], Array<string | null>, string[]] {
  return [
    // JavaScript times have milliseconds; the hash covers whatever PostgreSQL stores.
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

// `at` as text in UTC, whatever the session's time zone: to the millisecond for version 1, and
// to the microsecond (all timestamptz keeps) for version 2.
const AT_MS = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const AT_US = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
/** Whether an unsealed row is older than the sealing interval (`$n` in milliseconds). */
const IS_LATE = (n: number) => `(appended_at IS NULL OR appended_at < now() - $${n} * interval '1 millisecond')`;

/** A stored audit row as read back. */
export interface AuditRow {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  data: Record<string, unknown>;
}

type ChainCheck = { rows: number; head: ChainHead | null; broken: { seq: number; problem: string } | null };

/** Recompute every hash in chain order; the first row that does not verify, and why. */
async function checkChain(client: Queryable, batchSize: number): Promise<ChainCheck> {
  let prevHash = GENESIS;
  let expectedSeq = 1n;
  let rows = 0;
  const broken = (seq: number, problem: string): ChainCheck => ({ rows, head: null, broken: { seq, problem } });
  for (;;) {
    const batch = await many<
      Omit<HashedRow, "at"> & {
        at_ms: string;
        at_us: string;
        hash_version: number | null;
        prev_hash: string;
        hash: string;
      }
    >(
      client,
      `SELECT chain_seq::text AS seq, id::text, ${AT_MS} AS at_ms, ${AT_US} AS at_us, actor, action, subject, data, hash_version, prev_hash, hash
         FROM audit_log WHERE chain_seq >= $1 ORDER BY audit_log.chain_seq LIMIT $2`,
      [expectedSeq.toString(), batchSize],
    );
    if (batch.length === 0) break;
    for (const row of batch) {
      rows++;
      const seq = Number(row.seq);
      if (BigInt(row.seq) !== expectedSeq)
        return broken(seq, `entry ${expectedSeq} is missing (deleted, or its seal was cleared)`);
      if (row.prev_hash !== prevHash)
        return broken(seq, "prev_hash does not match the previous entry (an entry was removed or reordered)");
      const version = row.hash_version ?? 1;
      if (version !== 1 && version !== HASH_VERSION)
        return broken(
          seq,
          `sealed with hash version ${version}, unknown to this signoff (verify with the one that sealed it)`,
        );
      const expected =
        version === 1 ? hashV1(prevHash, { ...row, at: row.at_ms }) : hashV2(prevHash, { ...row, at: row.at_us });
      if (expected !== row.hash) return broken(seq, "content does not match its hash (the entry was edited)");
      prevHash = row.hash;
      expectedSeq += 1n;
    }
  }
  return { rows, head: rows ? { seq: Number(expectedSeq - 1n), hash: prevHash } : null, broken: null };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Audit log reads, sealing and the chain check. */
export function createAuditStore(db: Database) {
  return {
    /** Append entries (one statement, no lock). */
    append: (entries: AuditEntry[]) => appendAudit(db.pool, entries),

    /**
     * Seal unsealed entries into the chain, oldest first. One sealer at a time across processes
     * (a busy lock means another process is sealing: return 0 and let it).
     */
    async seal(options: SealOptions = {}): Promise<number> {
      const batchSize = options.batchSize ?? 2_000;
      const within = options.sealWithinMs ?? AUDIT_SEAL_WITHIN_MS;
      let sealed = 0;
      const late: LateEntries = { count: 0, firstId: 0 };
      for (;;) {
        const batch = await withTransaction(db, async (client) => {
          // Without it, two sealers would give the same seq to different rows, or chain from a stale head.
          const locked = await maybeOne<{ ok: boolean }>(
            client,
            "SELECT pg_try_advisory_xact_lock(hashtext('signoff.audit.' || $1)) AS ok",
            [db.schema],
          );
          if (!locked?.ok) return { n: 0, late: [] as number[] };
          const last = await maybeOne<{ seq: string; hash: string }>(
            client,
            "SELECT chain_seq::text AS seq, hash FROM audit_log WHERE chain_seq IS NOT NULL ORDER BY audit_log.chain_seq DESC LIMIT 1",
          );
          const rows = await many<Omit<HashedRow, "seq"> & { late: boolean }>(
            client,
            `SELECT id::text, ${AT_US} AS at, actor, action, subject, data, ${IS_LATE(2)} AS late
               FROM audit_log WHERE chain_seq IS NULL ORDER BY audit_log.id LIMIT $1`,
            [batchSize, within],
          );
          if (rows.length === 0) return { n: 0, late: [] };
          let prevHash = last?.hash ?? GENESIS;
          let seq = BigInt(last?.seq ?? "0");
          const ids: string[] = [],
            seqs: string[] = [],
            prevs: string[] = [],
            hashes: string[] = [];
          for (const row of rows) {
            seq += 1n;
            const hash = hashV2(prevHash, { ...row, seq: seq.toString() });
            ids.push(row.id);
            seqs.push(seq.toString());
            prevs.push(prevHash);
            hashes.push(hash);
            prevHash = hash;
          }
          await client.query(
            `UPDATE audit_log a SET chain_seq = v.seq, prev_hash = v.prev, hash = v.hash, hash_version = $5
               FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS v(id, seq, prev, hash) WHERE a.id = v.id`,
            [ids, seqs, prevs, hashes, HASH_VERSION],
          );
          return { n: rows.length, late: rows.filter((r) => r.late).map((r) => Number(r.id)) };
        });
        sealed += batch.n;
        if (batch.late.length > 0 && late.count === 0) late.firstId = batch.late[0]!;
        late.count += batch.late.length;
        if (batch.n < batchSize) break;
      }
      if (late.count > 0) options.onLate?.(late);
      return sealed;
    },

    /** Entries about one subject (an approval id, an operator), oldest first. */
    async listBySubject(subject: string): Promise<AuditRow[]> {
      const rows = await many<{
        seq: string;
        at: Date;
        actor: string;
        action: string;
        subject: string | null;
        data: string;
      }>(
        db.pool,
        "SELECT id::text AS seq, at, actor, action, subject, data FROM audit_log WHERE subject = $1 ORDER BY audit_log.id",
        [subject],
      );
      return rows.map((r) => ({
        seq: Number(r.seq),
        at: r.at,
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        data: JSON.parse(r.data),
      }));
    },

    /**
     * Check the chain and the unsealed entries, reading only (sealing is the sealer's job: a
     * verify that sealed would hide entries whose seal was cleared behind fresh hashes).
     */
    async verify(options: { batchSize?: number; sealWithinMs?: number } = {}): Promise<AuditVerification> {
      const within = options.sealWithinMs ?? AUDIT_SEAL_WITHIN_MS;
      return withTransaction(db, async (client) => {
        // One snapshot for the chain and the unsealed rows, in a transaction that cannot write.
        await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        const chain = await checkChain(client, options.batchSize ?? 5_000);
        const unsealed = await one<{ waiting: number; late: number; first_late: string | null }>(
          client,
          `SELECT count(*) FILTER (WHERE NOT late)::int AS waiting, count(*) FILTER (WHERE late)::int AS late,
                  min(id) FILTER (WHERE late)::text AS first_late
             FROM (SELECT id, ${IS_LATE(1)} AS late FROM audit_log WHERE chain_seq IS NULL) AS u`,
          [within],
        );
        const stale = unsealed.late > 0 ? { count: unsealed.late, firstId: Number(unsealed.first_late) } : null;
        const base = { rows: chain.rows, head: chain.head, awaitingSeal: unsealed.waiting };
        if (chain.broken)
          return { ok: false, ...base, brokenSeq: chain.broken.seq, problem: chain.broken.problem, stale };
        if (stale) {
          const problem =
            `${plural(stale.count, "entry", "entries")} appended more than ${within / 1000} s ago ${stale.count === 1 ? "is" : "are"} unsealed ` +
            `(outside the hash chain), first entry id ${stale.firstId}: a seal was cleared, or signoff stopped before sealing`;
          return { ok: false, ...base, brokenSeq: null, problem, stale };
        }
        return { ok: true, ...base };
      });
    },
  };
}

/** The audit store's interface, for injection. */
export type AuditStore = ReturnType<typeof createAuditStore>;

/** The last sealed entry of the chain as `q` sees it (one indexed row; the chain is not checked). */
export async function readAuditHead(q: Queryable): Promise<ChainHead | null> {
  const row = await maybeOne<{ seq: string; hash: string }>(
    q,
    "SELECT chain_seq::text AS seq, hash FROM audit_log WHERE chain_seq IS NOT NULL ORDER BY audit_log.chain_seq DESC LIMIT 1",
  );
  return row ? { seq: Number(row.seq), hash: row.hash } : null;
}

/**
 * Run `fn` while one read-only snapshot of the database is held open, with that snapshot's id,
 * the audit head it sees and how many entries in it still await their seal. `pg_dump
 * --snapshot=<id>` dumps exactly that snapshot, so the head a backup reports is the head inside
 * the backup even while signoff keeps sealing.
 */
export async function withAuditHeadSnapshot<T>(
  db: Database,
  fn: (snapshot: { id: string; head: ChainHead | null; unsealed: number }) => Promise<T>,
): Promise<T> {
  return withTransaction(db, async (client) => {
    await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const { id } = await one<{ id: string }>(client, "SELECT pg_export_snapshot() AS id");
    const head = await readAuditHead(client);
    const { unsealed } = await one<{ unsealed: number }>(
      client,
      "SELECT count(*)::int AS unsealed FROM audit_log WHERE chain_seq IS NULL",
    );
    return fn({ id, head, unsealed });
  });
}
