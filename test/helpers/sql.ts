/** Run one query in a test's schema on the shared test database (inspecting what was written). */
import pg from "pg";
import { DATABASE_URL } from "./harness.js";

/** Rows of `text` run with `search_path` set to `schema`. */
export async function sql<T extends pg.QueryResultRow>(
  schema: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}
