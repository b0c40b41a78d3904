/**
 * Outbound webhook deliveries (approval callbacks, commands to sources). A row is written in the
 * same transaction as the decision that causes it; BullMQ only carries the attempts, so a lost
 * Redis loses no delivery (the reconciler re-enqueues every `pending` row).
 */
import { type Database, many, maybeOne } from "./db.js";

/** A delivery as stored. */
export interface Delivery {
  /** Sent as `X-Signoff-Delivery` on every attempt; receivers drop repeats by it. */
  id: string;
  kind: "callback" | "command";
  subjectId: string;
  url: string;
  body: string;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  lastError: string | null;
  updatedAt: Date;
}

interface DeliveryRow {
  id: string;
  kind: Delivery["kind"];
  subject_id: string;
  url: string;
  body: string;
  status: Delivery["status"];
  attempts: number;
  last_error: string | null;
  updated_at: Date;
}

const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  kind: r.kind,
  subjectId: r.subject_id,
  url: r.url,
  body: r.body,
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error,
  updatedAt: r.updated_at,
});

const COLUMNS = "id::text, kind, subject_id, url, body, status, attempts, last_error, updated_at";

/** Delivery rows: read, record attempts, dead-letter. */
export function createDeliveryStore(db: Database) {
  return {
    async get(id: string): Promise<Delivery | null> {
      const row = await maybeOne<DeliveryRow>(db.pool, `SELECT ${COLUMNS} FROM deliveries WHERE id = $1`, [id]);
      return row ? toDelivery(row) : null;
    },
    /** Record one attempt's outcome; `dead` when it was the last allowed attempt. */
    async recordAttempt(
      id: string,
      outcome: { ok: true } | { ok: false; error: string; dead: boolean },
    ): Promise<void> {
      const status = outcome.ok ? "delivered" : outcome.dead ? "dead" : "pending";
      await db.pool.query(
        `UPDATE deliveries SET attempts = attempts + 1, status = $2, last_error = $3, updated_at = now()
          WHERE id = $1 AND status = 'pending'`,
        [id, status, outcome.ok ? null : outcome.error.slice(0, 500)],
      );
    },
    /** Deliveries still to make (the reconciler re-enqueues them after a Redis loss). */
    async listPending(): Promise<Delivery[]> {
      return (
        await many<DeliveryRow>(db.pool, `SELECT ${COLUMNS} FROM deliveries WHERE status = 'pending' ORDER BY id`)
      ).map(toDelivery);
    },
    /** Dead-lettered deliveries, newest first (shown under `failures`). */
    async listDead(limit = 50): Promise<Delivery[]> {
      return (
        await many<DeliveryRow>(
          db.pool,
          `SELECT ${COLUMNS} FROM deliveries WHERE status = 'dead' ORDER BY updated_at DESC LIMIT $1`,
          [limit],
        )
      ).map(toDelivery);
    },
    /** All deliveries for one subject (tests and the API's record view). */
    async listBySubject(subjectId: string): Promise<Delivery[]> {
      return (
        await many<DeliveryRow>(db.pool, `SELECT ${COLUMNS} FROM deliveries WHERE subject_id = $1 ORDER BY id`, [
          subjectId,
        ])
      ).map(toDelivery);
    },
  };
}

/** The delivery store's interface, for injection. */
export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
