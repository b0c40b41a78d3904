/**
 * PostgreSQL access: the pool, the one transaction helper, and queries that state how many
 * rows they expect. Only `src/store/` imports `pg`.
 */
import pg from "pg";
import { StartupError } from "../domain/errors.js";

/** Anything that can run a query: the pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

/** A pool bound to one schema (tests each get their own schema; production uses `public`). */
export interface Database {
  pool: pg.Pool;
  schema: string;
  /** One round trip, for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Open a pool whose connections use `schema` first in their search path. */
export function createDatabase(options: {
  url: string;
  schema?: string;
  max?: number;
  connectTimeoutMs?: number;
}): Database {
  const schema = options.schema ?? "public";
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 20,
    // The schema is created by migrations; search_path makes every unqualified name land in it.
    options: `-c search_path=${schema}`,
    application_name: "signoff",
    // While PostgreSQL is unreachable a request fails within seconds (503), never hangs.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  return {
    pool,
    schema,
    ping: async () => void (await pool.query("SELECT 1")),
    close: () => pool.end(),
  };
}

/** Run `fn` in one transaction; commit when it resolves, roll back when it throws. */
export async function withTransaction<T>(db: Database, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  // A checked-out client has no pool listener: when PostgreSQL goes away mid-transaction its
  // 'error' event would crash the process. Note it, and hand the broken client back as broken.
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.off("error", onError);
    client.release(lost);
  }
}

/** Exactly one row, or throw. */
export async function one<T extends pg.QueryResultRow>(q: Queryable, sql: string, params: unknown[] = []): Promise<T> {
  const result = await q.query<T>(sql, params);
  if (result.rows.length !== 1) throw new Error(`expected one row, got ${result.rows.length}`);
  return result.rows[0] as T;
}

/** Zero or one row (`name`: see {@link many}). */
export async function maybeOne<T extends pg.QueryResultRow>(
  q: Queryable,
  sql: string,
  params: unknown[] = [],
  name?: string,
): Promise<T | null> {
  const result = name ? await q.query<T>({ name, text: sql, values: params }) : await q.query<T>(sql, params);
  if (result.rows.length > 1) throw new Error(`expected at most one row, got ${result.rows.length}`);
  return result.rows[0] ?? null;
}

/**
 * Any number of rows. Give `name` for hot statements: PostgreSQL then parses and plans them
 * once per connection instead of on every call.
 */
export async function many<T extends pg.QueryResultRow>(
  q: Queryable,
  sql: string,
  params: unknown[] = [],
  name?: string,
): Promise<T[]> {
  const result = name ? await q.query<T>({ name, text: sql, values: params }) : await q.query<T>(sql, params);
  return result.rows;
}

/** SQLSTATE of a unique violation, for callers that turn it into a domain outcome. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === "23505" && (constraint === undefined || e.constraint === constraint);
}

/** Network failures and SQLSTATEs that mean "PostgreSQL is not reachable right now". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
const UNREACHABLE_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|not queryable|connection error|the database system is (starting up|shutting down|in recovery mode)/i;

/** Whether an error means PostgreSQL is down or unreachable (not a bad query or a bad row). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string; errors?: unknown[] } | null;
  if (!e || typeof e !== "object") return false;
  if (e.code && UNREACHABLE_CODES.has(e.code)) return true;
  // Class 08 (connection exception); 57P01-57P03 (shutdown, crash, not yet accepting); too many clients.
  if (e.code && (/^08/.test(e.code) || /^57P0[123]$/.test(e.code) || e.code === "53300")) return true;
  if (Array.isArray(e.errors) && e.errors.some(isDatabaseUnavailable)) return true; // AggregateError (IPv4 + IPv6)
  return typeof e.message === "string" && UNREACHABLE_MESSAGE.test(e.message);
}

/** Whether an error means the credentials or database name are wrong (retrying will not help). */
function isDatabaseMisconfigured(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "28P01" || code === "28000" || code === "3D000" || code === "ENOTFOUND";
}

/**
 * Wait until PostgreSQL answers, at most `deadlineMs`; then fail with a message naming
 * `DATABASE_URL` (host and port only: the URL may hold a password).
 */
export async function waitForDatabase(
  db: Database,
  url: string,
  deadlineMs = 10_000,
  options: { createIfMissing?: string } = {},
): Promise<"ready" | "created"> {
  const until = Date.now() + deadlineMs;
  let created = false;
  for (;;) {
    try {
      await db.ping();
      return created ? "created" : "ready";
    } catch (error) {
      const name = databaseNameOf(url);
      if (!created && isMissingDatabase(error) && name !== null && name === options.createIfMissing) {
        await createDatabaseOnServer(url, name);
        created = true;
        continue;
      }
      const retry = !isDatabaseMisconfigured(error) && isDatabaseUnavailable(error) && Date.now() < until;
      if (!retry)
        throw new StartupError(`DATABASE_URL: cannot use PostgreSQL at ${describeUrl(url)}: ${reasonOf(error, url)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function isMissingDatabase(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "3D000";
}

/** The database a connection URL names, or null. */
function databaseNameOf(url: string): string | null {
  try {
    const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
    return name || null;
  } catch {
    return null;
  }
}

/**
 * `CREATE DATABASE name` through the server's `postgres` maintenance database, with the same
 * credentials. A refusal (no CREATEDB right) stops the start saying what to run instead.
 */
async function createDatabaseOnServer(url: string, name: string): Promise<void> {
  const maintenance = new URL(url);
  maintenance.pathname = "/postgres";
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 3_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    // Another process created it first: that is what we wanted.
    if ((error as { code?: string }).code === "42P04") return;
    throw new StartupError(
      `DATABASE_URL: the database "${name}" does not exist at ${describeUrl(url)} and signoff could not create it ` +
        `(${reasonOf(error, url)}); create it with: ${createdbCommand(url, name)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The `createdb` line an operator can run (no password: psql tools prompt or read PGPASSWORD). */
function createdbCommand(url: string, name: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? ` -U ${decodeURIComponent(u.username)}` : "";
    return `createdb -h ${u.hostname} -p ${u.port || "5432"}${user} ${name}`;
  } catch {
    return `createdb ${name}`;
  }
}

/** `host:port/database` of a connection URL, without user or password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "(default port)"}${u.pathname && u.pathname !== "/" ? u.pathname : ""}`;
  } catch {
    return "(unparseable URL)";
  }
}

function reasonOf(error: unknown, url?: string): string {
  const e = error as { code?: string; message?: string; errors?: Array<{ code?: string }> };
  const code = e.code ?? e.errors?.[0]?.code;
  if (code === "28P01" || code === "28000") return "authentication failed (check the user and password)";
  if (code === "3D000") {
    const name = url ? databaseNameOf(url) : null;
    return name && url
      ? `the database "${name}" does not exist; create it with: ${createdbCommand(url, name)}`
      : "the database does not exist";
  }
  if (code === "42501") return "permission denied (the user may not create databases)";
  if (code === "ECONNREFUSED") return "connection refused (is it running, on that port?)";
  if (code === "ENOTFOUND") return "unknown host";
  return code ?? (e.message || "unknown error");
}
