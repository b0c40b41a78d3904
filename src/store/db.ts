/**
 * PostgreSQL access: the pool, the one transaction helper, and queries that state how many
 * rows they expect. Only `src/store/` imports `pg`.
 */
import pg from "pg";

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
export function createDatabase(options: { url: string; schema?: string; max?: number }): Database {
  const schema = options.schema ?? "public";
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 20,
    // The schema is created by migrations; search_path makes every unqualified name land in it.
    options: `-c search_path=${schema}`,
    application_name: "signoff",
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
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Exactly one row, or throw. */
export async function one<T extends pg.QueryResultRow>(q: Queryable, sql: string, params: unknown[] = []): Promise<T> {
  const result = await q.query<T>(sql, params);
  if (result.rows.length !== 1) throw new Error(`expected one row, got ${result.rows.length}`);
  return result.rows[0] as T;
}

/** Zero or one row (`name`: see {@link many}). */
export async function maybeOne<T extends pg.QueryResultRow>(q: Queryable, sql: string, params: unknown[] = [], name?: string): Promise<T | null> {
  const result = name ? await q.query<T>({ name, text: sql, values: params }) : await q.query<T>(sql, params);
  if (result.rows.length > 1) throw new Error(`expected at most one row, got ${result.rows.length}`);
  return result.rows[0] ?? null;
}

/**
 * Any number of rows. Give `name` for hot statements: PostgreSQL then parses and plans them
 * once per connection instead of on every call.
 */
export async function many<T extends pg.QueryResultRow>(q: Queryable, sql: string, params: unknown[] = [], name?: string): Promise<T[]> {
  const result = name ? await q.query<T>({ name, text: sql, values: params }) : await q.query<T>(sql, params);
  return result.rows;
}

/** SQLSTATE of a unique violation, for callers that turn it into a domain outcome. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === "23505" && (constraint === undefined || e.constraint === constraint);
}
