/**
 * Tasks as sources report them: upsert by id, counts by state, the oldest waiting
 * items, failures and the overnight picture for digests. Times come from the caller's clock so
 * the handlers that read them stay testable.
 */
import type { Task, TaskState } from "../domain/operations.js";
import type { TaskBody } from "../domain/requests/report-requests.js";
import type { RowOf } from "../lib/row-shape.js";
import { type Database, type Queryable, many, maybeOne } from "./db.js";

/** Row shape of `tasks`. */
export type TaskRow = RowOf<Task>;

/** Map a `tasks` row to a {@link Task}. */
export const toTask = (r: TaskRow): Task => ({
  id: r.id,
  source: r.source,
  title: r.title,
  state: r.state,
  agent: r.agent,
  priority: r.priority,
  attempts: r.attempts,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  stateSince: r.state_since,
});

/** A validated upsert from a source; absent optional fields keep their stored values. */
export type TaskUpsert = TaskBody;

/** Outcome of an upsert: the task, or `conflict` when another source owns the id. */
export type UpsertOutcome = { outcome: "created" | "updated"; task: Task } | { outcome: "conflict" };

/** Read one task (inside a transaction when `q` is a client). */
export async function readTask(q: Queryable, id: string, forUpdate = false): Promise<Task | null> {
  const row = await maybeOne<TaskRow>(q, `SELECT * FROM tasks WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`, [id]);
  return row ? toTask(row) : null;
}

/** The task store. */
export function createTaskStore(db: Database) {
  return {
    /**
     * Insert or update a task. `error` is cleared when a task leaves `failed` without one;
     * `state_since` moves only when the state changes.
     */
    async upsert(source: string, input: TaskUpsert, now: Date): Promise<UpsertOutcome> {
      const row = await maybeOne<TaskRow & { inserted: boolean }>(
        db.pool,
        `INSERT INTO tasks AS t (id, source, title, state, agent, priority, attempts, error, created_at, updated_at, state_since)
         VALUES ($1, $2, $3, $4, $5::text, COALESCE($6::int, 0), COALESCE($7::int, 0), $8::text, $9, $9, $9)
         ON CONFLICT (id) DO UPDATE SET
           title = EXCLUDED.title,
           state = EXCLUDED.state,
           agent = COALESCE($5::text, t.agent),
           priority = COALESCE($6::int, t.priority),
           attempts = COALESCE($7::int, t.attempts),
           error = CASE WHEN $8::text IS NOT NULL THEN $8 WHEN EXCLUDED.state = 'failed' THEN t.error ELSE NULL END,
           updated_at = EXCLUDED.updated_at,
           state_since = CASE WHEN t.state = EXCLUDED.state THEN t.state_since ELSE EXCLUDED.updated_at END
         WHERE t.source = EXCLUDED.source
         RETURNING t.*, (xmax = 0) AS inserted`,
        [
          input.id,
          source,
          input.title,
          input.state,
          input.agent ?? null,
          input.priority ?? null,
          input.attempts ?? null,
          input.error ?? null,
          now,
        ],
      );
      if (!row) return { outcome: "conflict" };
      return { outcome: row.inserted ? "created" : "updated", task: toTask(row) };
    },

    get: (id: string) => readTask(db.pool, id),

    /**
     * Tasks whose id equals `id` ignoring case (operators type `t-16` for `T-16`), at most
     * `limit`, exact match first. Two sources may report ids that differ only in case, so the
     * caller decides between several.
     */
    async matchingId(id: string, limit = 10): Promise<Task[]> {
      const rows = await many<TaskRow>(
        db.pool,
        "SELECT * FROM tasks WHERE lower(id) = lower($1) ORDER BY id = $1 DESC, id LIMIT $2",
        [id, limit],
      );
      return rows.map(toTask);
    },

    /** How many tasks are in each state (states with none are absent). */
    async countByState(): Promise<Partial<Record<TaskState, number>>> {
      const rows = await many<{ state: TaskState; n: number }>(
        db.pool,
        "SELECT state, count(*)::int AS n FROM tasks GROUP BY state",
      );
      return Object.fromEntries(rows.map((r) => [r.state, r.n]));
    },

    /** The tasks longest in `state`, highest priority first among equals. */
    async oldestIn(state: TaskState, limit: number): Promise<Task[]> {
      const rows = await many<TaskRow>(
        db.pool,
        "SELECT * FROM tasks WHERE state = $1 ORDER BY state_since, priority DESC, id LIMIT $2",
        [state, limit],
      );
      return rows.map(toTask);
    },

    /** Tasks that entered `state` in [from, to), newest first, and how many there are in all. */
    async enteredBetween(
      state: TaskState,
      from: Date,
      to: Date,
      limit: number,
    ): Promise<{ total: number; tasks: Task[] }> {
      const rows = await many<TaskRow & { total: number }>(
        db.pool,
        `SELECT *, count(*) OVER ()::int AS total FROM tasks
          WHERE state = $1 AND state_since >= $2 AND state_since < $3 ORDER BY state_since DESC, id LIMIT $4`,
        [state, from, to, limit],
      );
      return { total: rows[0]?.total ?? 0, tasks: rows.map(toTask) };
    },

    /** How many tasks entered `state` in [from, to) and are still in it. */
    async countEnteredBetween(state: TaskState, from: Date, to: Date): Promise<number> {
      const row = await maybeOne<{ n: number }>(
        db.pool,
        "SELECT count(*)::int AS n FROM tasks WHERE state = $1 AND state_since >= $2 AND state_since < $3",
        [state, from, to],
      );
      return row?.n ?? 0;
    },

    /** In-progress tasks unchanged since before `before` (stuck), oldest first, with the total. */
    async stuck(before: Date, limit: number): Promise<{ total: number; tasks: Task[] }> {
      const rows = await many<TaskRow & { total: number }>(
        db.pool,
        `SELECT *, count(*) OVER ()::int AS total FROM tasks
          WHERE state = 'in-progress' AND state_since < $1 ORDER BY state_since, id LIMIT $2`,
        [before, limit],
      );
      return { total: rows[0]?.total ?? 0, tasks: rows.map(toTask) };
    },
  };
}

/** The task store's interface, for injection. */
export type TaskStore = ReturnType<typeof createTaskStore>;
