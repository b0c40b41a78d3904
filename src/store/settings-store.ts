/**
 * Small durable switches, such as whether autonomy is paused (SPEC §2: survives restarts).
 */
import { type Database, maybeOne } from "./db.js";

/**
 * Settings persisted in PostgreSQL. `isPaused` is read on every new approval, so it is cached
 * for `cacheMs` (default 1 s): a change made here applies at once, one made by another process
 * within that time.
 */
export function createSettingsStore(db: Database, options: { cacheMs?: number } = {}) {
  const cacheMs = options.cacheMs ?? 1_000;
  let cached: { paused: boolean; until: number } | null = null;
  return {
    async isPaused(): Promise<boolean> {
      if (cached && cached.until > Date.now()) return cached.paused;
      const row = await maybeOne<{ value: { paused: boolean } }>(db.pool, "SELECT value FROM settings WHERE key = 'pause'");
      const paused = row?.value.paused ?? false;
      cached = { paused, until: Date.now() + cacheMs };
      return paused;
    },
    async setPaused(paused: boolean, by: string): Promise<void> {
      cached = { paused, until: Date.now() + cacheMs };
      await db.pool.query(
        `INSERT INTO settings (key, value) VALUES ('pause', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [JSON.stringify({ paused, by, at: new Date().toISOString() })],
      );
    },
  };
}

/** The settings store's interface, for injection. */
export type SettingsStore = ReturnType<typeof createSettingsStore>;
