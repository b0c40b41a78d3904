/**
 * Which digests were sent: one row per operator and scheduled time, so a digest goes out once
 * whether the scheduler, a restart's catch-up or a second process gets there first.
 */
import { type Database, maybeOne } from "./db.js";

/** The digest-send store. */
export function createDigestStore(db: Database) {
  return {
    /** Claim the digest of `operator` scheduled at `scheduledAt`; false if already claimed. */
    async claim(operator: string, scheduledAt: Date, trigger: "schedule" | "catch-up"): Promise<boolean> {
      const result = await db.pool.query(
        "INSERT INTO digest_sends (operator, scheduled_at, trigger) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [operator, scheduledAt, trigger],
      );
      return result.rowCount === 1;
    },

    /** Give a claim back when sending failed, so a retry may send it. */
    async release(operator: string, scheduledAt: Date): Promise<void> {
      await db.pool.query("DELETE FROM digest_sends WHERE operator = $1 AND scheduled_at = $2", [
        operator,
        scheduledAt,
      ]);
    },

    /** How the digest of that slot was sent, if it was. */
    async sentVia(operator: string, scheduledAt: Date): Promise<string | null> {
      const row = await maybeOne<{ trigger: string }>(
        db.pool,
        "SELECT trigger FROM digest_sends WHERE operator = $1 AND scheduled_at = $2",
        [operator, scheduledAt],
      );
      return row?.trigger ?? null;
    },
  };
}

/** The digest store's interface, for injection. */
export type DigestStore = ReturnType<typeof createDigestStore>;
