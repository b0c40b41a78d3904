/**
 * Commands to sources. Applying one is a single transaction: the task changes, the
 * command row (with the exact JSON the source receives), the webhook delivery row and the audit
 * entries are written together, so a crash never leaves a changed task its source is not told of.
 */
import {
  type CommandRecord,
  type Task,
  type TaskCommand,
  type TaskState,
  toCommandRecord,
} from "../domain/operations.js";
import { type AuditEntry, appendAudit } from "./audit-store.js";
import { type Database, many, maybeOne, one, withTransaction } from "./db.js";
import { type TaskRow, readTask, toTask } from "./task-store.js";

/** What to apply, and how to describe it. */
export interface ApplyCommandInput {
  taskId: string;
  command: TaskCommand;
  by: string;
  at: Date;
  /** States the task may be in for this command; otherwise nothing changes. */
  allowedStates: readonly TaskState[];
  /** The webhook of the task's source, or null when it pulls. */
  commandUrl(source: string): string | null;
  /** Audit entries for the change (written in the same transaction). */
  audit(before: Task, after: Task, commandId: string): AuditEntry[];
}

/** Outcome of {@link CommandStore.apply}. */
export type ApplyCommandOutcome =
  | { outcome: "applied"; before: Task; command: CommandRecord; deliveryId: string | null }
  | { outcome: "not_found" }
  | { outcome: "wrong_state"; task: Task };

/** How each command changes the task: `$1` task id, `$2` time, `$3` who (typed in every statement's WHERE). */
const CHANGE: Record<TaskCommand, string> = {
  kill: "state = 'failed', error = 'killed by ' || $3::text, updated_at = $2, state_since = $2",
  retry: "state = 'ready', error = NULL, updated_at = $2, state_since = $2",
  // Above every open task (ties broken by age when listing).
  prioritise: `priority = GREATEST(priority, (SELECT COALESCE(max(priority), 0) FROM tasks WHERE state NOT IN ('done', 'failed'))) + 1,
               updated_at = $2`,
};

/** The command store. */
export function createCommandStore(db: Database) {
  return {
    /** Change the task, record the command and its delivery, audit; all or nothing. */
    apply(input: ApplyCommandInput): Promise<ApplyCommandOutcome> {
      return withTransaction(db, async (client) => {
        const before = await readTask(client, input.taskId, true);
        if (!before) return { outcome: "not_found" };
        if (!input.allowedStates.includes(before.state)) return { outcome: "wrong_state", task: before };
        const after = toTask(
          await one<TaskRow>(
            client,
            `UPDATE tasks SET ${CHANGE[input.command]} WHERE id = $1 AND $3::text IS NOT NULL RETURNING *`,
            [input.taskId, input.at, input.by],
          ),
        );
        const { id } = await one<{ id: string }>(
          client,
          `INSERT INTO commands (source, task_id, command, requested_by, created_at, body) VALUES ($1, $2, $3, $4, $5, '') RETURNING id::text`,
          [after.source, after.id, input.command, input.by, input.at],
        );
        const command: CommandRecord = {
          id,
          command: input.command,
          taskId: after.id,
          source: after.source,
          requestedBy: input.by,
          createdAt: input.at,
          task: after,
        };
        const body = JSON.stringify(toCommandRecord(command));
        await client.query("UPDATE commands SET body = $2 WHERE id = $1", [id, body]);
        const url = input.commandUrl(after.source);
        let deliveryId: string | null = null;
        if (url) {
          const row = await one<{ id: string }>(
            client,
            `INSERT INTO deliveries (kind, subject_id, url, body, status) VALUES ('command', $1, $2, $3, 'pending') RETURNING id::text`,
            [id, url, body],
          );
          deliveryId = row.id;
        }
        await appendAudit(client, input.audit(before, after, id));
        return { outcome: "applied", before, command, deliveryId };
      });
    },

    /**
     * A source's commands it has not acknowledged and that no webhook delivered, oldest first,
     * after the `after` cursor (a command id).
     */
    async listUnacknowledged(
      source: string,
      after: string,
      limit: number,
    ): Promise<Array<{ id: string; body: Record<string, unknown> }>> {
      const rows = await many<{ id: string; body: string }>(
        db.pool,
        `SELECT c.id::text, c.body FROM commands c
          WHERE c.source = $1 AND c.acked_at IS NULL AND c.id > $2::bigint
            AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.kind = 'command' AND d.subject_id = c.id::text AND d.status = 'delivered')
          ORDER BY c.id LIMIT $3`,
        [source, after, limit],
      );
      return rows.map((r) => ({ id: r.id, body: JSON.parse(r.body) as Record<string, unknown> }));
    },

    /** Mark commands handled; only the source's own, unacknowledged ones count. */
    async acknowledge(source: string, ids: readonly string[], at: Date): Promise<number> {
      const result = await db.pool.query(
        "UPDATE commands SET acked_at = $3 WHERE source = $1 AND id = ANY($2::bigint[]) AND acked_at IS NULL",
        [source, ids, at],
      );
      return result.rowCount ?? 0;
    },

    /** One command by id (tests, and the failures list's "what was it"). */
    async get(id: string): Promise<{ id: string; body: Record<string, unknown>; ackedAt: Date | null } | null> {
      const row = await maybeOne<{ id: string; body: string; acked_at: Date | null }>(
        db.pool,
        "SELECT id::text, body, acked_at FROM commands WHERE id = $1::bigint",
        [id],
      );
      return row ? { id: row.id, body: JSON.parse(row.body) as Record<string, unknown>, ackedAt: row.acked_at } : null;
    },
  };
}

/** The command store's interface, for injection. */
export type CommandStore = ReturnType<typeof createCommandStore>;
