/**
 * Small durable switches, such as whether autonomy is paused (SPEC §2: survives restarts).
 */
import { type Database, maybeOne } from "./db.js";

/** Settings persisted in PostgreSQL. */
export function createSettingsStore(db: Database) {
  return {
    async isPaused(): Promise<boolean> {
      const row = await maybeOne<{ value: { paused: boolean } }>(db.pool, "SELECT value FROM settings WHERE key = 'pause'");
      return row?.value.paused ?? false;
    },
    async setPaused(paused: boolean, by: string): Promise<void> {
      await db.pool.query(
        `INSERT INTO settings (key, value) VALUES ('pause', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [JSON.stringify({ paused, by, at: new Date().toISOString() })],
      );
    },
  };
}

/** The settings store's interface, for injection. */
export type SettingsStore = ReturnType<typeof createSettingsStore>;
