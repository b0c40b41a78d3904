/**
 * Who is away and who answers for them: `away until <date> [delegate to <name>]` and `back` in
 * chat. A row past its `away_until` is over by itself (no timer): every read ignores it.
 */
import { createCachedRead } from "../lib/cached-read.js";
import { type AuditEntry, appendAudit } from "./audit-store.js";
import { type Database, many, withTransaction } from "./db.js";

/** An operator away until a moment, with the operator (if any) who gets their cards meanwhile. */
export interface Absence {
  operator: string;
  until: Date;
  delegate: string | null;
  setBy: string;
  setAt: Date;
}

interface AbsenceRow {
  operator: string;
  away_until: Date;
  delegate: string | null;
  set_by: string;
  set_at: Date;
}

const toAbsence = (r: AbsenceRow): Absence => ({
  operator: r.operator,
  until: r.away_until,
  delegate: r.delegate,
  setBy: r.set_by,
  setAt: r.set_at,
});

/**
 * The presence store. `active` is read on every announcement and inbound message, so it is
 * cached for `cacheMs` (default 1 s): a change made here applies at once, one made by another
 * process within that time.
 */
export function createPresenceStore(db: Database, options: { cacheMs?: number } = {}) {
  const cacheMs = options.cacheMs ?? 1_000;
  // Read on every announcement and inbound message: one read at a time however many ask at once.
  const absences = createCachedRead(
    async () =>
      (
        await many<AbsenceRow>(
          db.pool,
          "SELECT * FROM operator_presence WHERE away_until > now() ORDER BY set_at, operator",
        )
      ).map(toAbsence),
    cacheMs,
  );
  return {
    /** Absences not yet over at `now`, oldest first. */
    async active(now: Date = new Date()): Promise<Absence[]> {
      // Every row not over by the wall clock is read; `now` filters, so a cached read serves any caller.
      const rows = await absences.get();
      return rows.filter((a) => a.until.getTime() > now.getTime());
    },

    /** Mark `operator` away (replacing an earlier absence), with its audit entries, in one transaction. */
    async setAway(absence: Absence, audit: AuditEntry[]): Promise<void> {
      await withTransaction(db, async (client) => {
        await client.query(
          `INSERT INTO operator_presence (operator, away_until, delegate, set_by, set_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (operator) DO UPDATE SET away_until = EXCLUDED.away_until, delegate = EXCLUDED.delegate,
             set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at`,
          [absence.operator, absence.until, absence.delegate, absence.setBy, absence.setAt],
        );
        await appendAudit(client, audit);
      });
      absences.wrote();
    },

    /**
     * End `operator`'s absence; resolves to whether one was still running (an expired one is
     * removed too, but counts as none). The audit entries are written only when one was running.
     */
    async back(operator: string, audit: AuditEntry[], now: Date = new Date()): Promise<boolean> {
      const ended = await withTransaction(db, async (client) => {
        const removed = await many<AbsenceRow>(
          client,
          "DELETE FROM operator_presence WHERE operator = $1 RETURNING *",
          [operator],
        );
        const running = removed.some((r) => r.away_until.getTime() > now.getTime());
        if (running) await appendAudit(client, audit);
        return running;
      });
      absences.wrote();
      return ended;
    },
  };
}

/** The presence store's interface, for injection. */
export type PresenceStore = ReturnType<typeof createPresenceStore>;
