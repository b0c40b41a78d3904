/**
 * Start-up fails fast and says what to fix: an unreachable or misconfigured `DATABASE_URL` or
 * `REDIS_URL` stops the process within 15 s naming the variable (never a password), and a busy
 * HTTP port is found before anything else is done (no migration, no workers).
 */
import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTestInstance, uniqueName } from "../helpers/harness.js";
import { spawnSignoff } from "../helpers/signoff-process.js";
import { sql } from "../helpers/sql.js";

const schema = uniqueName("t");
const prefix = uniqueName("q");
afterAll(() => cleanupTestInstance(schema, prefix));

async function databaseExists(name: string): Promise<boolean> {
  const rows = await sql<{ n: string }>("public", "SELECT count(*) AS n FROM pg_database WHERE datname = $1", [name]);
  return rows[0]?.n === "1";
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function run(env: Record<string, string>): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const p = spawnSignoff({ DATABASE_SCHEMA: schema, SIGNOFF_QUEUE_PREFIX: prefix, ...env });
  const kill = setTimeout(() => p.child.kill("SIGKILL"), 25_000);
  const { code } = await p.exited;
  clearTimeout(kill);
  return { code, output: p.output(), ms: Date.now() - started };
}

describe("start-up with a dependency it cannot use", () => {
  it("an unreachable REDIS_URL exits non-zero within 15 s naming REDIS_URL, without a flood of lines", async () => {
    const r = await run({ REDIS_URL: `redis://:hunter2secret@127.0.0.1:${await closedPort()}` });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.ms).toBeLessThan(15_000);
    expect(r.output).toMatch(/REDIS_URL: cannot use Redis at 127\.0\.0\.1:\d+: connection refused/);
    expect(r.output).not.toContain("hunter2secret");
    expect(r.output.split("\n").filter(Boolean).length).toBeLessThan(20);
  });

  it("an unreachable DATABASE_URL exits non-zero within 15 s naming DATABASE_URL, never the password", async () => {
    const r = await run({ DATABASE_URL: `postgres://postgres:hunter2secret@127.0.0.1:${await closedPort()}/test` });
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(15_000);
    expect(r.output).toMatch(/DATABASE_URL: cannot use PostgreSQL at 127\.0\.0\.1:\d+\/test: connection refused/);
    expect(r.output).not.toContain("hunter2secret");
  });

  it("a database that does not exist is named at once", async () => {
    const r = await run({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/no_such_db_here" });
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(8_000);
    expect(r.output).toMatch(
      /DATABASE_URL: .*the database "no_such_db_here" does not exist; create it with: createdb -h 127\.0\.0\.1 -p 5432 -U postgres no_such_db_here/,
    );
    // Only signoff's own database is created on first start: a typo must not start on an empty one.
    expect(await databaseExists("no_such_db_here")).toBe(false);
  });
});

describe("start-up on a busy port", () => {
  let blocker: Server;
  afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

  it("fails naming HTTP_PORT before it migrates anything", async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    const r = await run({ HTTP_PORT: String(port) });
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/HTTP_PORT \/ HTTP_HOST: binding 127\.0\.0\.1:\d+ is already in use/);
    const schemas = await sql<{ n: number }>(
      "public",
      "SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = $1",
      [schema],
    );
    expect(schemas[0]!.n).toBe(0); // nothing was migrated
  });
});
