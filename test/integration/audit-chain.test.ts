/**
 * The audit chain on the real PostgreSQL, against someone with SQL access who disables the
 * append-only trigger: clearing seals is reported (never silently re-sealed by verify), a
 * microsecond edit of `at` is caught, and chains sealed by the first hash formula still verify.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createAuditStore, type AuditEntry } from "../../src/store/audit-store.js";
import { createDatabase, type Database } from "../../src/store/db.js";
import { migrate, readMigrations } from "../../src/store/migrate.js";
import { DATABASE_URL, uniqueName } from "../helpers/harness.js";

const open: Database[] = [];
afterAll(async () => {
  for (const db of open) {
    await db.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
});

async function freshStore() {
  const db = createDatabase({ url: DATABASE_URL, schema: uniqueName("audit"), max: 4 });
  open.push(db);
  await migrate(db);
  return { db, audit: createAuditStore(db) };
}

const entries = (n: number, from = 0): AuditEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    actor: `op${(from + i) % 3}`,
    action: "approval.vote",
    subject: `a-${from + i}`,
    data: { i: from + i },
  }));

/** What an attacker does: the trigger off, a statement, the trigger back on. */
const tamper = (db: Database, statement: string) =>
  db.pool.query(
    `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; ${statement}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;`,
  );

const unsealedCount = async (db: Database) =>
  Number(
    (await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE chain_seq IS NULL")).rows[0]!.n,
  );

describe("verify only reads", () => {
  it("entries whose seal was cleared stay unsealed after verify and are not counted as verified", async () => {
    const { db, audit } = await freshStore();
    await audit.append(entries(30));
    expect(await audit.seal()).toBe(30);
    expect(await audit.verify()).toMatchObject({ ok: true, rows: 30 });

    // Rewrite the tail: edit an entry, then clear the seals from seq 21 on so a re-seal would hide it.
    await tamper(db, "UPDATE audit_log SET actor = 'mallory' WHERE chain_seq = 25");
    await tamper(db, "UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE chain_seq > 20");

    const result = await audit.verify();
    expect(await unsealedCount(db)).toBe(10); // verify sealed nothing
    // Appended seconds ago, so they are within the sealing interval: awaiting seal, not verified.
    expect(result).toMatchObject({ ok: true, rows: 20, awaitingSeal: 10, head: { seq: 20 } });
  });

  it("unsealed entries older than the sealing interval fail verify, naming the first id and how many", async () => {
    const { db, audit } = await freshStore();
    await audit.append(entries(30));
    await audit.seal();
    const ids = (
      await db.pool.query<{ id: string }>("SELECT id::text FROM audit_log WHERE chain_seq > 20 ORDER BY id")
    ).rows.map((r) => Number(r.id));
    // The realistic attack: entries sealed long ago have their seal cleared (and one is edited).
    await tamper(
      db,
      "UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL, hash_version = NULL, actor = 'mallory' WHERE chain_seq > 20",
    );
    await tamper(db, "UPDATE audit_log SET appended_at = now() - interval '10 minutes'");
    await audit.append(entries(2, 100)); // new entries, normal: awaiting seal

    const result = await audit.verify();
    expect(result).toMatchObject({
      ok: false,
      brokenSeq: null,
      rows: 20,
      awaitingSeal: 2,
      stale: { count: 10, firstId: ids[0] },
    });
    expect((result as { problem: string }).problem).toMatch(/10 entries .*unsealed|unsealed.*10 entries/);
    expect(await unsealedCount(db)).toBe(12);

    // Sealing stays the sealer's job, and it says when it seals entries that waited too long.
    const late: Array<{ count: number; firstId: number }> = [];
    expect(await audit.seal({ onLate: (l) => late.push(l) })).toBe(12);
    expect(late).toEqual([{ count: 10, firstId: ids[0] }]);
    expect(await audit.verify()).toMatchObject({ ok: true, rows: 32, awaitingSeal: 0 });
  });

  it("a seal cleared in the middle of the chain is a gap, reported with the stale entry", async () => {
    const { db, audit } = await freshStore();
    await audit.append(entries(12));
    await audit.seal();
    await tamper(
      db,
      "UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL, appended_at = now() - interval '1 hour' WHERE chain_seq = 5",
    );
    const result = await audit.verify();
    expect(result).toMatchObject({ ok: false, brokenSeq: 6, stale: { count: 1 } });
    expect((result as { problem: string }).problem).toMatch(/entry 5 is missing/);
  });
});

describe("what the hash covers", () => {
  it("a one-microsecond change to an entry's time breaks the chain at that entry", async () => {
    const { db, audit } = await freshStore();
    await audit.append(entries(15));
    await audit.seal();
    await tamper(db, "UPDATE audit_log SET at = at + interval '1 microsecond' WHERE chain_seq = 9");
    const result = await audit.verify();
    expect(result).toMatchObject({ ok: false, brokenSeq: 9 });
    expect((result as { problem: string }).problem).toMatch(/edited/);
  });

  it("an entry relabelled as sealed by the first formula no longer verifies", async () => {
    const { db, audit } = await freshStore();
    await audit.append(entries(4));
    await audit.seal();
    await tamper(db, "UPDATE audit_log SET hash_version = NULL WHERE chain_seq = 3");
    expect(await audit.verify()).toMatchObject({ ok: false, brokenSeq: 3 });
  });

  it("moving a NULL subject to an empty one is an edit", async () => {
    const { db, audit } = await freshStore();
    await audit.append([{ actor: "signoff", action: "spend.alert", subject: null, data: {} }, ...entries(3)]);
    await audit.seal();
    await tamper(db, "UPDATE audit_log SET subject = '' WHERE chain_seq = 1");
    expect(await audit.verify()).toMatchObject({ ok: false, brokenSeq: 1 });
  });
});

describe("the append-only trigger", () => {
  it("lets sealing set the chain columns, and refuses a seal that moves when the entry was appended", async () => {
    const { db, audit } = await freshStore();
    await audit.append(entries(2));
    const [a, b] = (await db.pool.query<{ id: string }>("SELECT id::text FROM audit_log ORDER BY id")).rows.map(
      (r) => r.id,
    );
    await expect(
      db.pool.query(
        "UPDATE audit_log SET chain_seq = 1, prev_hash = 'p', hash = 'h', appended_at = now() - interval '1 day' WHERE id = $1",
        [a],
      ),
    ).rejects.toThrow(/append-only/);
    await db.pool.query(
      "UPDATE audit_log SET chain_seq = 2, prev_hash = 'p', hash = 'h', hash_version = 2 WHERE id = $1",
      [b],
    );
  });
});

/** The first hash formula, exactly as signoff sealed with it before hash versions existed. */
function hashV1(
  prev: string,
  r: { seq: string; id: string; at: string; actor: string; action: string; subject: string | null; data: string },
) {
  return createHash("sha256")
    .update([prev, r.seq, r.id, r.at, r.actor, r.action, r.subject ?? "", r.data].join("\u001f"))
    .digest("hex");
}

async function sealLikeBefore(client: pg.Client): Promise<void> {
  const rows = (
    await client.query<{ id: string; at: string; actor: string; action: string; subject: string | null; data: string }>(
      `SELECT id::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, actor, action, subject, data
         FROM audit_log WHERE chain_seq IS NULL ORDER BY id`,
    )
  ).rows;
  let prev = "0".repeat(64);
  for (const [i, row] of rows.entries()) {
    const hash = hashV1(prev, { ...row, seq: String(i + 1) });
    await client.query("UPDATE audit_log SET chain_seq = $1, prev_hash = $2, hash = $3 WHERE id = $4", [
      i + 1,
      prev,
      hash,
      row.id,
    ]);
    prev = hash;
  }
}

describe("chains sealed before hash versions", () => {
  it("still verify after the upgrade, new entries extend them, and edits to either kind are caught", async () => {
    const schema = uniqueName("audit_old");
    const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      // The database as releases before hash versions left it: earlier migrations, a chain sealed the old way.
      const upgrade = readMigrations().find((m) => m.name.endsWith("_audit_seal_versions"))!.version;
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      for (const m of readMigrations().filter((m) => m.version < upgrade)) {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      }
      await client.query(
        `INSERT INTO audit_log (at, actor, action, subject, data)
         SELECT now() - (n || ' minutes')::interval, 'adam', 'approval.vote', 'a-' || n, '{"n":' || n || '}' FROM generate_series(1, 12) AS n`,
      );
      await sealLikeBefore(client);
    } finally {
      await client.end();
    }

    const db = createDatabase({ url: DATABASE_URL, schema, max: 4 });
    open.push(db);
    expect(await migrate(db)).not.toHaveLength(0);
    const audit = createAuditStore(db);
    expect(await audit.verify()).toMatchObject({ ok: true, rows: 12 });
    await audit.append(entries(5));
    expect(await audit.seal()).toBe(5);
    expect(await audit.verify()).toMatchObject({ ok: true, rows: 17, head: { seq: 17 } });

    await tamper(db, "UPDATE audit_log SET actor = 'mallory' WHERE chain_seq = 4");
    expect(await audit.verify()).toMatchObject({ ok: false, brokenSeq: 4 });
    await tamper(db, "UPDATE audit_log SET actor = 'adam' WHERE chain_seq = 4");
    expect(await audit.verify()).toMatchObject({ ok: true, rows: 17 });
    await tamper(db, "UPDATE audit_log SET at = at + interval '1 microsecond' WHERE chain_seq = 15");
    expect(await audit.verify()).toMatchObject({ ok: false, brokenSeq: 15 });
  });
});
