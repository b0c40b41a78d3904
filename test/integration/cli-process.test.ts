/**
 * The installed `signoff` command as an operator meets it: bin/signoff.mjs spawned from a
 * directory outside the repository (so tsx must be found from the package, not the cwd), with
 * only the environment given here. Help and mistakes exit 0 and 2; `migrate` and `audit verify`
 * work where the server would refuse to start (a source configured, no signing secret).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAuditStore } from "../../src/store/audit-store.js";
import { createDatabase } from "../../src/store/db.js";
import { DATABASE_URL, uniqueName } from "../helpers/harness.js";
import { runSignoffBin } from "../helpers/signoff-cli.js";

const cwd = mkdtempSync(join(tmpdir(), "signoff-cli-"));
const schemas: string[] = [];

// A production-like config: a source is configured, so the server would need SIGNOFF_SIGNING_SECRET.
const configPath = join(cwd, "signoff.yaml");
writeFileSync(configPath, `sources:\n  - name: forge\n    tokenSha256: ${"ab".repeat(32)}\n`);

afterAll(async () => {
  rmSync(cwd, { recursive: true, force: true });
  const db = createDatabase({ url: DATABASE_URL, max: 1 });
  for (const schema of schemas) await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.close();
});

const signoff = (args: string[], env: Record<string, string> = {}) => runSignoffBin(args, cwd, env);

describe("signoff from any directory", () => {
  it("prints the overview for --help and help, and one command's usage for <command> --help, exit 0", async () => {
    for (const args of [["--help"], ["help"]]) {
      const r = await signoff(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: signoff <command>/);
      expect(r.stdout).toMatch(/backup \[--out FILE\]/);
      expect(r.stderr).toBe("");
    }
    const r = await signoff(["backup", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: signoff backup \[--out FILE\]/);
    expect(r.stdout).not.toMatch(/usage: signoff <command>/);
  });

  it("names an unknown command and an unknown option on stderr, with usage, exit 2", async () => {
    const r = await signoff(["frob"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^signoff: unknown command 'frob'\n/);
    expect(r.stderr).toMatch(/usage: signoff <command>/);
    expect(r.stdout).toBe("");
    const flag = await signoff(["migrate", "--frob"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^signoff: unknown option '--frob'\n/);
    expect(flag.stderr).toMatch(/usage: signoff migrate/);
  });

  it("says in one line that PostgreSQL cannot be reached, without the password or a stack, exit 2", async () => {
    const r = await signoff(["migrate"], { DATABASE_URL: "postgres://signoff:hunter2-secret@127.0.0.1:1/signoff" });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "signoff: cannot reach PostgreSQL at DATABASE_URL (127.0.0.1:1): connection refused (is PostgreSQL running there?)\n",
    );
    expect(r.stdout + r.stderr).not.toMatch(/hunter2/);
  });

  it("migrates and verifies the audit log with a source configured and no signing secret", async () => {
    const schema = uniqueName("cli_proc");
    schemas.push(schema);
    const env = { DATABASE_URL, DATABASE_SCHEMA: schema, SIGNOFF_CONFIG: configPath };
    const migrated = await signoff(["migrate"], env);
    expect(migrated.stderr).toBe("");
    expect(migrated.stdout).toMatch(/^applied migrations 1, 2/);
    expect(migrated.code).toBe(0);
    expect((await signoff(["migrate"], env)).stdout).toBe("database is up to date\n");

    const db = createDatabase({ url: DATABASE_URL, schema, max: 1 });
    try {
      const audit = createAuditStore(db);
      await audit.append([{ actor: "adam", action: "approval.vote", subject: "a-1", data: {} }]);
      await audit.seal();
    } finally {
      await db.close();
    }
    const verified = await signoff(["audit", "verify"], env);
    expect(verified.stdout).toMatch(/audit log intact: 1 entries verified\nhead: seq 1 hash [0-9a-f]{64}/);
    expect(verified.code).toBe(0);
  });

  it("reads settings the environment leaves unset from .env in the current directory", async () => {
    const schema = uniqueName("cli_dotenv");
    schemas.push(schema);
    writeFileSync(join(cwd, ".env"), `DATABASE_URL=${DATABASE_URL}\nDATABASE_SCHEMA=${schema}\n`);
    try {
      const r = await signoff(["migrate"], { SIGNOFF_CONFIG: configPath });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    } finally {
      rmSync(join(cwd, ".env"));
    }
    const db = createDatabase({ url: DATABASE_URL, schema, max: 1 });
    try {
      const tables = await db.pool.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1", [schema]);
      expect(tables.rowCount).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });
});
