/**
 * Agent heartbeats and the last result of each configured health check, with the
 * time its current up/down state began.
 */
import type { HealthResult, Heartbeat } from "../domain/operations.js";
import { type Database, many, one } from "./db.js";

interface HeartbeatRow {
  agent: string;
  source: string;
  status: string | null;
  detail: string | null;
  last_seen: Date;
}

interface HealthRow {
  name: string;
  ok: boolean;
  detail: string | null;
  checked_at: Date;
  since: Date;
}

/** A dead-lettered delivery as `failures` and digests list it. */
export interface DeadLetterRow {
  kind: "callback" | "command";
  label: string;
  lastError: string | null;
  at: Date;
}

const toHealth = (r: HealthRow): HealthResult => ({
  name: r.name,
  ok: r.ok,
  detail: r.detail,
  checkedAt: r.checked_at,
  since: r.since,
});

/** The monitor store. */
export function createMonitorStore(db: Database) {
  return {
    /** Record a heartbeat; the latest one per agent is kept. */
    async beat(
      source: string,
      input: { agent: string; status?: string | undefined; detail?: string | undefined },
      at: Date,
    ): Promise<void> {
      await db.pool.query(
        `INSERT INTO heartbeats (agent, source, status, detail, last_seen) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (agent) DO UPDATE SET source = EXCLUDED.source, status = EXCLUDED.status, detail = EXCLUDED.detail,
           last_seen = GREATEST(heartbeats.last_seen, EXCLUDED.last_seen)`,
        [input.agent, source, input.status ?? null, input.detail ?? null, at],
      );
    },

    async listHeartbeats(): Promise<Heartbeat[]> {
      const rows = await many<HeartbeatRow>(db.pool, "SELECT * FROM heartbeats ORDER BY agent");
      return rows.map((r) => ({
        agent: r.agent,
        source: r.source,
        status: r.status,
        detail: r.detail,
        lastSeen: r.last_seen,
      }));
    },

    /** Store a check's result; `since` moves only when up/down changes. Returns the stored result. */
    async recordHealth(
      name: string,
      ok: boolean,
      detail: string | null,
      at: Date,
    ): Promise<HealthResult & { changed: boolean; previous: boolean | null }> {
      const row = await one<HealthRow & { changed: boolean; previous: boolean | null }>(
        db.pool,
        `WITH prev AS (SELECT ok FROM health_results WHERE name = $1)
         INSERT INTO health_results AS h (name, ok, detail, checked_at, since) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (name) DO UPDATE SET ok = EXCLUDED.ok, detail = EXCLUDED.detail, checked_at = EXCLUDED.checked_at,
           since = CASE WHEN h.ok = EXCLUDED.ok THEN h.since ELSE EXCLUDED.checked_at END
         RETURNING h.*, (SELECT ok FROM prev) IS DISTINCT FROM h.ok AS changed, (SELECT ok FROM prev) AS previous`,
        [name, ok, detail?.slice(0, 500) ?? null, at],
      );
      return { ...toHealth(row), changed: row.changed, previous: row.previous };
    },

    /**
     * Dead-lettered deliveries since `since`, newest first, labelled with what they carried
     * (the approval's code and title, or the command and its task), and how many in all.
     */
    async listDeadLetters(since: Date, limit: number): Promise<{ total: number; items: DeadLetterRow[] }> {
      const rows = await many<{
        kind: "callback" | "command";
        label: string | null;
        subject_id: string;
        last_error: string | null;
        updated_at: Date;
        total: number;
      }>(
        db.pool,
        `SELECT d.kind, d.subject_id, d.last_error, d.updated_at, count(*) OVER ()::int AS total,
                CASE WHEN d.kind = 'callback' THEN a.code || ' ' || a.title ELSE c.command || ' ' || c.task_id END AS label
           FROM deliveries d
           LEFT JOIN approvals a ON d.kind = 'callback' AND a.id::text = d.subject_id
           LEFT JOIN commands c ON d.kind = 'command' AND c.id::text = d.subject_id
          WHERE d.status = 'dead' AND d.updated_at >= $1
          ORDER BY d.updated_at DESC, d.id DESC LIMIT $2`,
        [since, limit],
      );
      return {
        total: rows[0]?.total ?? 0,
        items: rows.map((r) => ({
          kind: r.kind,
          label: r.label ?? r.subject_id,
          lastError: r.last_error,
          at: r.updated_at,
        })),
      };
    },

    async listHealth(): Promise<HealthResult[]> {
      return (await many<HealthRow>(db.pool, "SELECT * FROM health_results ORDER BY name")).map(toHealth);
    },
  };
}

/** The monitor store's interface, for injection. */
export type MonitorStore = ReturnType<typeof createMonitorStore>;
