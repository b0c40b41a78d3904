/**
 * A newcomer's first start, as a process: `cp .env.example .env && npm start` in an empty
 * directory runs demo mode and prints a curl line that works as printed; a second start prints
 * the same token; signoff's own database is created when missing.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase, waitForDatabase } from "../../src/store/db.js";
import { cleanupTestInstance, DATABASE_URL, eventually, uniqueName } from "../helpers/harness.js";
import { spawnSignoff } from "../helpers/signoff-process.js";
import { sql } from "../helpers/sql.js";

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, "..", "..");
const schema = uniqueName("t");
const prefix = uniqueName("q");
afterAll(() => cleanupTestInstance(schema, prefix));

/** Start in `cwd`, wait for the welcome, stop; returns what it printed. */
async function startOnce(cwd: string, then?: (output: string) => Promise<void>): Promise<string> {
  const p = spawnSignoff({ DATABASE_SCHEMA: schema, SIGNOFF_QUEUE_PREFIX: prefix }, { cwd });
  try {
    await p.started;
    await eventually(() => p.output().includes("signoff is running at"), "the welcome lines");
    await then?.(p.output());
  } finally {
    p.child.kill("SIGTERM");
    await p.exited;
  }
  return p.output();
}

describe("first start from an empty directory with .env copied from .env.example", () => {
  const cwd = mkdtempSync(join(tmpdir(), "signoff-newcomer-"));
  copyFileSync(join(repoRoot, ".env.example"), join(cwd, ".env"));
  let firstToken = "";

  it("runs demo mode and its printed curl line creates an approval", async () => {
    const output = await startOnce(cwd, async (printed) => {
      const curl = printed.split("\n").find((l) => l.trim().startsWith("curl "));
      expect(curl).toBeDefined();
      const { stdout } = await run("sh", ["-c", `${curl} -w '\\n%{http_code}'`]);
      const [body, status] = stdout.trim().split("\n");
      expect(status).toBe("201");
      expect(JSON.parse(body ?? "{}")).toMatchObject({ source: "demo", gate: "medium", status: "pending" });
      const rows = await sql<{ n: string }>(schema, "SELECT count(*) AS n FROM approvals WHERE source = 'demo'");
      expect(rows[0]?.n).toBe("1");
    });
    expect(output).toContain("/chat");
    firstToken = /Bearer (\S+)'/.exec(output)?.[1] ?? "";
    expect(firstToken).toMatch(/^demo_/);
    expect(JSON.parse(readFileSync(join(cwd, ".signoff", "demo.json"), "utf8")).token).toBe(firstToken);
  });

  it("a second start keeps the token, and .env settings apply", async () => {
    appendFileSync(join(cwd, ".env"), "WEBCHAT_ENABLED=false\n");
    const output = await startOnce(cwd);
    expect(output).toContain(`Bearer ${firstToken}'`);
    expect(output).not.toContain("web chat: ");
  });
});

describe("signoff's own database", () => {
  const name = uniqueName("signoff_created");
  const url = DATABASE_URL.replace(/\/[^/]*$/, `/${name}`);
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
    await admin.end();
  });

  it("is created on first start when missing, and used as is afterwards", async () => {
    const db = createDatabase({ url, max: 1 });
    try {
      expect(await waitForDatabase(db, url, 3_000, { createIfMissing: name })).toBe("created");
      expect(await waitForDatabase(db, url, 3_000, { createIfMissing: name })).toBe("ready");
    } finally {
      await db.close();
    }
  });

  it("another missing name is not created: the error says what to run", async () => {
    const other = DATABASE_URL.replace(/\/[^/]*$/, `/${name}_typo`);
    const db = createDatabase({ url: other, max: 1 });
    try {
      await expect(waitForDatabase(db, other, 3_000, { createIfMissing: name })).rejects.toThrow(
        `create it with: createdb -h 127.0.0.1 -p 5432 -U postgres ${name}_typo`,
      );
    } finally {
      await db.close();
    }
  });
});
