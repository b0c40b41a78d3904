/**
 * `signoff backup` on the real PostgreSQL: a schema with sealed audit entries is dumped, restored
 * into a fresh database the way the README says, and `signoff audit verify` there prints the head
 * the backup reported, with the entry that still awaited its seal. A stand-in pg_dump on PATH shows the password travels in PGPASSWORD, not
 * in the arguments, and that a failed dump leaves no file to restore from.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditStore } from "../../src/store/audit-store.js";
import { createDatabase, type Database } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { DATABASE_URL, uniqueName } from "../helpers/harness.js";
import { runSignoffBin } from "../helpers/signoff-cli.js";

const cwd = mkdtempSync(join(tmpdir(), "signoff-backup-"));
const schema = uniqueName("cli_backup");
const restoredDb = uniqueName("signoff_restore");
const admin = createDatabase({ url: DATABASE_URL, max: 1 });
let db: Database;

beforeAll(async () => {
  db = createDatabase({ url: DATABASE_URL, schema, max: 2 });
  await migrate(db);
  const audit = createAuditStore(db);
  await audit.append(
    Array.from({ length: 4 }, (_, i) => ({ actor: "adam", action: "approval.vote", subject: `a-${i}`, data: { i } })),
  );
  await audit.seal();
  // One entry appended after the last seal, as a backup of a running signoff would catch it.
  await audit.append([{ actor: "eve", action: "approval.vote", subject: "a-4", data: {} }]);
});
afterAll(async () => {
  rmSync(cwd, { recursive: true, force: true });
  await db.close();
  await admin.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.pool.query(`DROP DATABASE IF EXISTS ${restoredDb} WITH (FORCE)`);
  await admin.close();
});

function databaseUrl(name: string): string {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

describe("signoff backup", () => {
  it("writes a dump whose restore verifies to the head it printed", async () => {
    const env = { DATABASE_URL, DATABASE_SCHEMA: schema };
    const r = await runSignoffBin(["backup", "--out", "nightly.dump"], cwd, env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backup written: nightly\.dump \([\d.]+ kB\)\n/);
    const head = /audit head: (seq 4 hash [0-9a-f]{64})/.exec(r.stdout)?.[1];
    expect(head, r.stdout).toBeDefined();
    expect(r.stdout).toMatch(/\n1 newer entry was still awaiting seal: it is in the backup, outside the head/);
    expect(readdirSync(cwd)).toEqual(["nightly.dump"]); // no partial file left beside it

    await admin.pool.query(`CREATE DATABASE ${restoredDb}`);
    const restore = spawnSync(
      "pg_restore",
      [
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        `--dbname=${databaseUrl(restoredDb)}`,
        join(cwd, "nightly.dump"),
      ],
      { encoding: "utf8" },
    );
    expect(restore.stderr).toBe("");
    expect(restore.status).toBe(0);

    const verified = await runSignoffBin(["audit", "verify"], cwd, {
      DATABASE_URL: databaseUrl(restoredDb),
      DATABASE_SCHEMA: schema,
    });
    expect(verified.stdout).toContain(`head: ${head}`);
    expect(verified.stdout).toMatch(/audit log intact: 4 entries verified/);
    expect(verified.stdout).toMatch(/1 newer entry awaiting seal/);
    expect(verified.code).toBe(0);

    const again = await runSignoffBin(["backup", "--out", "nightly.dump"], cwd, env);
    expect(again.stderr).toBe("signoff: nightly.dump already exists; choose another --out\n");
    expect(again.code).toBe(2);
  });

  it("passes the password in PGPASSWORD, never in pg_dump's arguments, and keeps no file when pg_dump fails", async () => {
    const bin = join(cwd, "fake-bin");
    mkdirSync(bin, { recursive: true });
    const record = join(cwd, "pg_dump.call");
    // A pg_dump that writes down how it was called, then fails like a version mismatch would.
    writeFileSync(
      join(bin, "pg_dump"),
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\nprintf 'PGPASSWORD=%s\\n' "$PGPASSWORD" >> '${record}'\n` +
        `for a in "$@"; do case "$a" in --file=*) : > "\${a#--file=}";; esac; done\n` +
        "echo 'pg_dump: error: aborting because of server version mismatch' >&2\nexit 1\n",
    );
    chmodSync(join(bin, "pg_dump"), 0o755);
    const url = new URL(DATABASE_URL);
    url.password = "hunter2-secret"; // the test server trusts local connections and ignores it
    const r = await runSignoffBin(["backup", "--out", "failed.dump"], cwd, {
      PATH: `${bin}:${process.env.PATH}`,
      DATABASE_URL: url.toString(),
      DATABASE_SCHEMA: schema,
    });
    expect(r.stderr).toBe(
      "signoff: pg_dump failed (exit 1): pg_dump: error: aborting because of server version mismatch\n",
    );
    expect(r.code).toBe(2);
    const call = readFileSync(record, "utf8").split("\n");
    expect(call).toContain("PGPASSWORD=hunter2-secret");
    expect(call.filter((a) => a.includes("hunter2"))).toEqual(["PGPASSWORD=hunter2-secret"]);
    expect(call).toContain(`--schema=${schema}`);
    expect(call.some((a) => a.startsWith("--snapshot="))).toBe(true);
    expect(existsSync(join(cwd, "failed.dump"))).toBe(false);
    expect(existsSync(join(cwd, "failed.dump.partial"))).toBe(false);
  });
});
