/**
 * Small durable switches, such as whether autonomy is paused (a pause survives restarts).
 */
import { type AuditEntry, appendAudit } from "./audit-store.js";
import { createCachedRead } from "../lib/cached-read.js";
import { type Database, maybeOne, withTransaction } from "./db.js";

/** The pause switch as stored: who flipped it and when (null when never set). */
export interface PauseState {
  paused: boolean;
  by: string | null;
  at: Date | null;
}

/**
 * Settings persisted in PostgreSQL. `isPaused` is read on every new approval, so it is cached
 * for `cacheMs` (default 1 s): a change made here applies at once, one made by another process
 * within that time.
 */
export function createSettingsStore(db: Database, options: { cacheMs?: number } = {}) {
  const cacheMs = options.cacheMs ?? 1_000;
  // Read on every create and timer: at a lapse under load the callers of that moment share one read.
  const pause = createCachedRead(async () => {
    const row = await maybeOne<{ value: { paused: boolean } }>(
      db.pool,
      "SELECT value FROM settings WHERE key = 'pause'",
    );
    return row?.value.paused ?? false;
  }, cacheMs);
  return {
    isPaused: (): Promise<boolean> => pause.get(),
    /** The stored pause switch, uncached, with who set it and when. */
    async pauseState(): Promise<PauseState> {
      const row = await maybeOne<{ value: { paused: boolean; by?: string; at?: string } }>(
        db.pool,
        "SELECT value FROM settings WHERE key = 'pause'",
      );
      const value = row?.value;
      return { paused: value?.paused ?? false, by: value?.by ?? null, at: value?.at ? new Date(value.at) : null };
    },
    /**
     * Pause unless already paused, with `audit` in the same transaction; resolves to whether this
     * call paused it (of several processes tripping at once, one wins).
     */
    async pauseIfRunning(by: string, audit: AuditEntry[] = [], at: Date = new Date()): Promise<boolean> {
      const paused = await withTransaction(db, async (client) => {
        const row = await maybeOne<{ key: string }>(
          client,
          `INSERT INTO settings (key, value) VALUES ('pause', $1)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
             WHERE (settings.value->>'paused')::boolean IS NOT TRUE
           RETURNING key`,
          [JSON.stringify({ paused: true, by, at: at.toISOString() })],
        );
        if (row) await appendAudit(client, audit);
        return row !== null;
      });
      // Either way it is paused now (won here, or already paused by someone else).
      pause.wrote(true);
      return paused;
    },
    /** Flip the pause; `audit` entries are written in the same transaction. */
    async setPaused(paused: boolean, by: string, audit: AuditEntry[] = [], at: Date = new Date()): Promise<void> {
      await withTransaction(db, async (client) => {
        await client.query(
          `INSERT INTO settings (key, value) VALUES ('pause', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
          [JSON.stringify({ paused, by, at: at.toISOString() })],
        );
        await appendAudit(client, audit);
      });
      pause.wrote(paused);
    },
  };
}

/** The settings store's interface, for injection. */
export type SettingsStore = ReturnType<typeof createSettingsStore>;
