/**
 * Sealing on the real PostgreSQL: many sealers in several processes at once (more than any
 * batch) still build one chain, and the periodic sealer warns when it seals entries that waited
 * longer than the sealing interval.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startAuditSealer } from "../../src/jobs/audit-sealer.js";
import { createAuditStore, type AuditEntry } from "../../src/store/audit-store.js";
import { createDatabase, type Database } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { DATABASE_URL, eventually, uniqueName } from "../helpers/harness.js";

const open: Database[] = [];
afterAll(async () => {
  for (const db of open) await db.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`).catch(() => undefined);
  for (const db of open) await db.close();
});

/** A pool on `schema`: two of them on one schema are two signoff processes. */
const connect = (schema: string) => {
  const db = createDatabase({ url: DATABASE_URL, schema, max: 6 });
  open.push(db);
  return db;
};

const entries = (n: number, from: number): AuditEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    actor: "adam",
    action: "approval.vote",
    subject: `a-${from + i}`,
    data: { i: from + i },
  }));

describe("sealing", () => {
  it("twelve concurrent sealers in two processes, with writers still appending, build one intact chain", async () => {
    const schema = uniqueName("seal");
    const [a, b] = [connect(schema), connect(schema)];
    await migrate(a);
    const stores = [createAuditStore(a), createAuditStore(b)];
    for (let i = 0; i < 8; i++) await stores[0]!.append(entries(500, i * 500));

    let appended = 4000;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 10; i++) {
        await stores[w % 2]!.append(entries(20, 10_000 + w * 1000 + i * 20));
        appended += 20;
      }
    });
    // Small batches: each sealer takes and releases the lock many times, so they interleave.
    const sealers = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => stores[i % 2]!.seal({ batchSize: 50 })),
    );
    await Promise.all(writers);
    // Two sealers on one head would number different rows alike (or re-seal sealed ones): refused.
    expect(sealers.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []))).toEqual([]);
    const sealed = sealers.reduce((sum, r) => sum + (r.status === "fulfilled" ? r.value : 0), 0);
    const rest = await stores[1]!.seal();

    expect(sealed + rest).toBe(appended);
    const result = await stores[0]!.verify();
    expect(result, JSON.stringify(result)).toMatchObject({
      ok: true,
      rows: appended,
      awaitingSeal: 0,
      head: { seq: appended },
    });
    const seqs = await a.pool.query<{ n: string; max: string }>(
      "SELECT count(DISTINCT chain_seq) AS n, max(chain_seq) AS max FROM audit_log",
    );
    expect(seqs.rows[0]).toEqual({ n: String(appended), max: String(appended) });
  });

  it("the periodic sealer seals new entries and warns, with the first id, when entries waited too long", async () => {
    const db = connect(uniqueName("seal"));
    await migrate(db);
    const audit = createAuditStore(db);
    await audit.append(entries(3, 50_000));
    const first = await db.pool.query<{ id: string }>(
      "SELECT min(id)::text AS id FROM audit_log WHERE chain_seq IS NULL",
    );
    // As if signoff had been stopped for a while before sealing them.
    await db.pool.query(
      "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; UPDATE audit_log SET appended_at = now() - interval '5 minutes' WHERE chain_seq IS NULL; ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;",
    );
    await audit.append(entries(2, 60_000));
    const log = captureLogger();
    const stop = startAuditSealer(audit, log.logger, 20);
    try {
      await eventually(async () => {
        const result = await audit.verify();
        return result.ok && result.awaitingSeal === 0;
      }, "the sealer to seal everything");
    } finally {
      stop();
    }
    const warnings = log.lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.obj).toMatchObject({ entries: 3, firstId: Number(first.rows[0]!.id) });
    expect(warnings[0]!.msg).toMatch(/chain head/);
  });
});
