/**
 * Standing approvals (rules) in PostgreSQL. A rule is created or renewed with its audit entries
 * in one transaction; the lookup made while a request is created is one indexed query; revoking
 * is a single compare-and-set, so a rule ends once however many operators revoke it at once.
 */
import { type StandingRule, formatRuleId, parseRuleId } from "../domain/standing-rule.js";
import type { RowOf } from "../lib/row-shape.js";
import { type AuditEntry, appendAudit } from "./audit-store.js";
import { type Database, many, maybeOne, one, withTransaction } from "./db.js";

type RuleRow = Omit<RowOf<StandingRule>, "id"> & { id: string };

function toRule(row: RuleRow): StandingRule {
  return {
    id: formatRuleId(row.id),
    source: row.source,
    action: row.action,
    agent: row.agent,
    createdBy: row.created_by,
    createdFrom: row.created_from,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    useCount: row.use_count,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
  };
}

/** What an operator's "✅ always" asks to store. */
export interface NewRule {
  source: string;
  action: string;
  agent: string | null;
  createdBy: string;
  createdFrom: string;
  at: Date;
  expiresAt: Date;
}

/** Outcome of {@link RuleStore.revoke}. */
export type RevokeOutcome =
  | { outcome: "revoked"; rule: StandingRule }
  | { outcome: "not_found" }
  | { outcome: "already_ended"; rule: StandingRule };

/** How often one rule approved requests in a period, with the first few of them. */
export interface RuleUses {
  rule: StandingRule;
  count: number;
  /** Up to `perRule` requests, newest first. */
  approvals: Array<{ id: string; code: string; title: string; decidedAt: Date }>;
}

/**
 * `$1` source, `$2` action, `$3` agent, `$4` creator, `$5` now, `$6` new expiry, `$7` request id:
 * the creator's own live rule for the same source, action and agent is renewed (a second
 * "always" is not a second rule); otherwise a new one is inserted.
 */
const CREATE_SQL = `
WITH renewed AS (
  UPDATE standing_rules
     SET expires_at = GREATEST(expires_at, $6::timestamptz), created_from = $7::uuid
   WHERE id = (SELECT id FROM standing_rules
                WHERE source = $1 AND action = $2 AND agent IS NOT DISTINCT FROM $3::text AND created_by = $4
                  AND revoked_at IS NULL AND expires_at > $5::timestamptz
                ORDER BY id LIMIT 1 FOR UPDATE)
  RETURNING *, true AS renewed
), created AS (
  INSERT INTO standing_rules (source, action, agent, created_by, created_from, created_at, expires_at)
  SELECT $1, $2, $3::text, $4, $7::uuid, $5::timestamptz, $6::timestamptz
   WHERE NOT EXISTS (SELECT 1 FROM renewed)
  RETURNING *, false AS renewed
)
SELECT * FROM renewed UNION ALL SELECT * FROM created`;

/** The rule store. */
export function createRuleStore(db: Database) {
  return {
    /**
     * Store the rule an operator's "always" asks for (or renew their live one for the same
     * source, action and agent), with the audit entries `audit` builds, in one transaction.
     */
    create(rule: NewRule, audit: (stored: StandingRule, renewed: boolean) => AuditEntry[]) {
      return withTransaction(db, async (client) => {
        const row = await one<RuleRow & { renewed: boolean }>(client, CREATE_SQL, [
          rule.source,
          rule.action,
          rule.agent,
          rule.createdBy,
          rule.at,
          rule.expiresAt,
          rule.createdFrom,
        ]);
        const stored = toRule(row);
        await appendAudit(client, audit(stored, row.renewed));
        return { rule: stored, renewed: row.renewed };
      });
    },

    /**
     * Live rules for this source and action that could cover `agent` (its own rules and those
     * without an agent), oldest first: one lookup on the partial index.
     */
    async candidates(source: string, action: string, agent: string | null, now: Date): Promise<StandingRule[]> {
      const rows = await many<RuleRow>(
        db.pool,
        `SELECT * FROM standing_rules
          WHERE source = $1 AND action = $2 AND revoked_at IS NULL AND expires_at > $4
            AND (agent IS NULL OR agent = $3::text)
          ORDER BY id LIMIT 20`,
        [source, action, agent, now],
        "signoff_rule_candidates",
      );
      return rows.map(toRule);
    },

    /** Count one use of a rule (the audit log holds each use; this feeds `rules`). */
    async recordUse(ruleId: string, at: Date): Promise<void> {
      const serial = parseRuleId(ruleId);
      if (serial === null) return;
      await db.pool.query(
        `UPDATE standing_rules SET use_count = use_count + 1, last_used_at = GREATEST(last_used_at, $2::timestamptz)
          WHERE id = $1`,
        [serial, at],
      );
    },

    /** Rules that are neither revoked nor expired at `now`, oldest first. */
    async listLive(now: Date, limit = 100): Promise<StandingRule[]> {
      const rows = await many<RuleRow>(
        db.pool,
        "SELECT * FROM standing_rules WHERE revoked_at IS NULL AND expires_at > $1 ORDER BY id LIMIT $2",
        [now, limit],
      );
      return rows.map(toRule);
    },

    /** One rule by its id as typed (`R12`, `12`), live or not. */
    async get(typedId: string): Promise<StandingRule | null> {
      const serial = parseRuleId(typedId);
      if (serial === null) return null;
      const row = await maybeOne<RuleRow>(db.pool, "SELECT * FROM standing_rules WHERE id = $1", [serial]);
      return row ? toRule(row) : null;
    },

    /** End a live rule, with the audit entries `audit` builds, in one transaction. */
    revoke(typedId: string, by: string, at: Date, audit: (rule: StandingRule) => AuditEntry[]): Promise<RevokeOutcome> {
      const serial = parseRuleId(typedId);
      if (serial === null) return Promise.resolve({ outcome: "not_found" });
      return withTransaction(db, async (client) => {
        const row = await maybeOne<RuleRow>(
          client,
          `UPDATE standing_rules SET revoked_at = $3, revoked_by = $2
            WHERE id = $1 AND revoked_at IS NULL AND expires_at > $3 RETURNING *`,
          [serial, by, at],
        );
        if (row) {
          const rule = toRule(row);
          await appendAudit(client, audit(rule));
          return { outcome: "revoked", rule };
        }
        const existing = await maybeOne<RuleRow>(client, "SELECT * FROM standing_rules WHERE id = $1", [serial]);
        return existing ? { outcome: "already_ended", rule: toRule(existing) } : { outcome: "not_found" };
      });
    },

    /**
     * Requests rules approved in [from, to), per rule (most used first), with up to `perRule` of
     * them each: what the digest shows.
     */
    async usesBetween(from: Date, to: Date, perRule = 3): Promise<RuleUses[]> {
      const rows = await many<
        RuleRow & {
          uses: number;
          approvals: Array<{ id: string; code: string; title: string; decided_at: string }>;
        }
      >(
        db.pool,
        `WITH used AS (
           SELECT a.id, a.code, a.title, a.decided_at, substr(a.decided_by, 7)::bigint AS rule_id,
                  row_number() OVER (PARTITION BY a.decided_by ORDER BY a.decided_at DESC) AS n,
                  count(*) OVER (PARTITION BY a.decided_by) AS uses
             FROM approvals a
            WHERE a.decided_by LIKE 'rule:%' AND a.decided_at >= $1 AND a.decided_at < $2
              AND a.decided_by ~ '^rule:R[0-9]{1,12}$'
         )
         SELECT r.*, max(u.uses)::int AS uses,
                json_agg(json_build_object('id', u.id, 'code', u.code, 'title', u.title, 'decided_at', u.decided_at)
                         ORDER BY u.decided_at DESC) FILTER (WHERE u.n <= $3) AS approvals
           FROM used u JOIN standing_rules r ON r.id = u.rule_id
          GROUP BY r.id
          ORDER BY uses DESC, r.id`,
        [from, to, perRule],
      );
      return rows.map((row) => ({
        rule: toRule(row),
        count: row.uses,
        approvals: (row.approvals ?? []).map((a) => ({
          id: a.id,
          code: a.code,
          title: a.title,
          decidedAt: new Date(a.decided_at),
        })),
      }));
    },
  };
}

/** The rule store's interface, for injection. */
export type RuleStore = ReturnType<typeof createRuleStore>;
