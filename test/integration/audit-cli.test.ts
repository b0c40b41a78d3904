/**
 * `signoff audit verify` on the real PostgreSQL, as an operator runs it on a production host:
 * it needs only the database settings (no signing secret), reports entries awaiting their seal,
 * and exits 1 naming the first entry left unsealed for longer than the sealing interval.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createAuditStore, type AuditEntry } from "../../src/store/audit-store.js";
import { createDatabase, type Database } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { DATABASE_URL, uniqueName } from "../helpers/harness.js";

const saved = { ...process.env };
const dir = mkdtempSync(join(tmpdir(), "signoff-audit-cli-"));
const open: Database[] = [];

beforeAll(() => {
  // A production-like config: a source is configured, so the server needs SIGNOFF_SIGNING_SECRET.
  const configPath = join(dir, "signoff.yaml");
  writeFileSync(configPath, `sources:\n  - name: forge\n    tokenSha256: ${"ab".repeat(32)}\n`);
  process.env.SIGNOFF_CONFIG = configPath;
  process.env.DATABASE_URL = DATABASE_URL;
  delete process.env.SIGNOFF_SIGNING_SECRET;
});
afterAll(async () => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
  for (const db of open) {
    await db.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
});

let db: Database;
beforeEach(async () => {
  db = createDatabase({ url: DATABASE_URL, schema: uniqueName("audit_cli"), max: 2 });
  open.push(db);
  await migrate(db);
  process.env.DATABASE_SCHEMA = db.schema;
});

const entries = (n: number): AuditEntry[] =>
  Array.from({ length: n }, (_, i) => ({ actor: "adam", action: "approval.vote", subject: `a-${i}`, data: { i } }));

async function verify(): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(["audit", "verify"], (l) => lines.push(l));
  return { code, out: lines.join("\n") };
}

describe("signoff audit verify", () => {
  it("runs without SIGNOFF_SIGNING_SECRET where the server would refuse to start, and reports entries awaiting seal", async () => {
    expect(() => loadConfig()).toThrow(ConfigError); // the server's config check, which verify must not need
    const audit = createAuditStore(db);
    await audit.append(entries(5));
    await audit.seal();
    await audit.append(entries(1));
    const { code, out } = await verify();
    expect(out).toMatch(/audit log intact: 5 entries verified/);
    expect(out).toMatch(/head: seq 5 hash [0-9a-f]{64}/);
    expect(out).toMatch(/1 newer entry awaiting seal/);
    expect(code).toBe(0);
  });

  it("exits 1 naming the first entry whose seal was cleared long ago and how many, and seals nothing", async () => {
    const audit = createAuditStore(db);
    await audit.append(entries(9));
    await audit.seal();
    const first = (await db.pool.query<{ id: string }>("SELECT id::text FROM audit_log WHERE chain_seq = 7")).rows[0]!
      .id;
    await db.pool.query(
      `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
       UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL, appended_at = now() - interval '2 hours' WHERE chain_seq >= 7;
       ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;`,
    );
    const { code, out } = await verify();
    expect(out).toMatch(new RegExp(`3 entries .*unsealed.*first entry id ${first}\\b`));
    expect(out).not.toMatch(/intact/);
    expect(code).toBe(1);
    const left = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE chain_seq IS NULL");
    expect(left.rows[0]!.n).toBe("3");
  });
});
