/**
 * Approvals and their decisions. Every change is a compare-and-set on `version` in one
 * transaction with its audit entries and (when decided) its callback delivery row, so a crash
 * never leaves a decision without its callback or audit trail.
 */
import type { Approval, ApprovalStatus, Decision, Gate, Verdict } from "../domain/approval.js";
import { type AuditEntry, auditArrays } from "./audit-store.js";
import { type Database, isUniqueViolation, many, maybeOne, one } from "./db.js";

interface ApprovalRow {
  id: string;
  code: string;
  source: string;
  title: string;
  reason: string | null;
  agent: string | null;
  gate: Gate;
  effective_gate: Gate;
  preview: string | null;
  status: ApprovalStatus;
  decided_by: string | null;
  decided_at: Date | null;
  note: string | null;
  on_timeout: "approve" | "deny";
  approver_roles: string[];
  quorum: number;
  callback_url: string | null;
  idempotency_key: string | null;
  metadata: Record<string, unknown> | null;
  notify: boolean;
  created_at: Date;
  deadline_at: Date | null;
  objection_ends_at: Date | null;
  version: number;
  decisions: Array<{ operator: string; verdict: Verdict; note: string | null; channel: string; at: string }> | null;
}

const SELECT_APPROVAL = `
  SELECT a.*,
         (SELECT json_agg(json_build_object('operator', d.operator, 'verdict', d.verdict, 'note', d.note,
                                            'channel', d.channel, 'at', d.at) ORDER BY d.id)
            FROM decisions d WHERE d.approval_id = a.id) AS decisions
    FROM approvals a`;

function toApproval(row: ApprovalRow): Approval {
  return {
    id: row.id,
    code: row.code,
    source: row.source,
    title: row.title,
    reason: row.reason,
    agent: row.agent,
    gate: row.gate,
    effectiveGate: row.effective_gate,
    preview: row.preview,
    status: row.status,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    note: row.note,
    onTimeout: row.on_timeout,
    approverRoles: row.approver_roles,
    quorum: row.quorum,
    callbackUrl: row.callback_url,
    idempotencyKey: row.idempotency_key,
    metadata: row.metadata,
    notify: row.notify,
    createdAt: row.created_at,
    deadlineAt: row.deadline_at,
    objectionEndsAt: row.objection_ends_at,
    version: row.version,
    decisions: (row.decisions ?? []).map((d): Decision => ({ ...d, at: new Date(d.at) })),
  };
}

/** A callback to deliver once the change commits. */
export interface NewDelivery {
  kind: "callback" | "command";
  subjectId: string;
  url: string;
  body: string;
}

/** Outcome of inserting a new approval. */
export type InsertOutcome =
  | { inserted: true; approval: Approval; deliveryId: string | null }
  | { inserted: false; reason: "idempotent_replay"; approval: Approval }
  | { inserted: false; reason: "code_taken" };

/** Approvals store; see the module comment for its guarantees. */
export function createApprovalStore(db: Database) {
  return {
    /**
     * Insert a new approval with its audit entries (and a callback row when it is born decided).
     * The same `(source, idempotencyKey)` returns the stored record instead of a duplicate.
     */
    async insert(approval: Approval, audit: AuditEntry[], delivery: NewDelivery | null): Promise<InsertOutcome> {
      // One statement: the approval, its audit entries and its callback row commit together,
      // in one round trip and without a lock that would make creators queue.
      let row: { inserted: number; delivery_id: string | null };
      try {
        row = await one(
          db.pool,
          `WITH ins AS (
             INSERT INTO approvals (id, code, source, title, reason, agent, gate, effective_gate, preview, status, decided_by,
                                    decided_at, note, on_timeout, approver_roles, quorum, callback_url, idempotency_key, metadata,
                                    notify, created_at, deadline_at, objection_ends_at, version)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)
             ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING id
           ), au AS (
             INSERT INTO audit_log (at, actor, action, subject, data)
             SELECT u.* FROM ins, unnest($25::timestamptz[], $26::text[], $27::text[], $28::text[], $29::text[]) AS u
           ), dl AS (
             INSERT INTO deliveries (kind, subject_id, url, body, status)
             SELECT $30::text, $31::text, $32::text, $33::text, 'pending' FROM ins WHERE $32::text IS NOT NULL
             ON CONFLICT (kind, subject_id) DO NOTHING RETURNING id::text
           )
           SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT id FROM dl) AS delivery_id`,
          [
            approval.id, approval.code, approval.source, approval.title, approval.reason, approval.agent, approval.gate,
            approval.effectiveGate, approval.preview, approval.status, approval.decidedBy, approval.decidedAt, approval.note,
            approval.onTimeout, approval.approverRoles, approval.quorum, approval.callbackUrl, approval.idempotencyKey,
            approval.metadata === null ? null : JSON.stringify(approval.metadata), approval.notify, approval.createdAt,
            approval.deadlineAt, approval.objectionEndsAt, approval.version,
            ...auditArrays(audit),
            delivery?.kind ?? null, delivery?.subjectId ?? null, delivery?.url ?? null, delivery?.body ?? null,
          ],
        );
      } catch (error) {
        if (isUniqueViolation(error, "approvals_pending_code")) return { inserted: false, reason: "code_taken" };
        throw error;
      }
      if (row.inserted === 1) return { inserted: true, approval, deliveryId: row.delivery_id };
      const existing = await maybeOne<ApprovalRow>(db.pool, `${SELECT_APPROVAL} WHERE a.source = $1 AND a.idempotency_key = $2`, [
        approval.source,
        approval.idempotencyKey,
      ]);
      if (!existing) throw new Error("idempotency conflict without a stored row");
      return { inserted: false, reason: "idempotent_replay", approval: toApproval(existing) };
    },

    /**
     * Store a transition if nobody changed the approval since `expectedVersion` was read, with
     * its decision, audit entries and callback row, in one statement. Returns `committed: false`
     * when another writer won; the caller re-reads and re-applies its event.
     */
    async commitTransition(
      next: Approval,
      expectedVersion: number,
      decision: Decision | null,
      audit: AuditEntry[],
      delivery: NewDelivery | null,
    ): Promise<{ committed: false } | { committed: true; deliveryId: string | null }> {
      const row = await one<{ updated: number; delivery_id: string | null }>(
        db.pool,
        `WITH upd AS (
           UPDATE approvals SET status = $3, decided_by = $4, decided_at = $5, note = $6, version = $7
            WHERE id = $1 AND version = $2 RETURNING id
         ), dec AS (
           INSERT INTO decisions (approval_id, operator, verdict, note, channel, at)
           SELECT upd.id, $8::text, $9::text, $10::text, $11::text, $12::timestamptz FROM upd WHERE $8::text IS NOT NULL
         ), au AS (
           INSERT INTO audit_log (at, actor, action, subject, data)
           SELECT u.* FROM upd, unnest($13::timestamptz[], $14::text[], $15::text[], $16::text[], $17::text[]) AS u
         ), dl AS (
           INSERT INTO deliveries (kind, subject_id, url, body, status)
           SELECT $18::text, $19::text, $20::text, $21::text, 'pending' FROM upd WHERE $20::text IS NOT NULL
           ON CONFLICT (kind, subject_id) DO NOTHING RETURNING id::text
         )
         SELECT (SELECT count(*) FROM upd)::int AS updated, (SELECT id FROM dl) AS delivery_id`,
        [
          next.id, expectedVersion, next.status, next.decidedBy, next.decidedAt, next.note, next.version,
          decision?.operator ?? null, decision?.verdict ?? null, decision?.note ?? null, decision?.channel ?? null, decision?.at ?? null,
          ...auditArrays(audit),
          delivery?.kind ?? null, delivery?.subjectId ?? null, delivery?.url ?? null, delivery?.body ?? null,
        ],
      );
      return row.updated === 1 ? { committed: true, deliveryId: row.delivery_id } : { committed: false };
    },

    /** One approval by id, or null. */
    async get(id: string): Promise<Approval | null> {
      if (!isUuid(id)) return null;
      const row = await maybeOne<ApprovalRow>(db.pool, `${SELECT_APPROVAL} WHERE a.id = $1`, [id]);
      return row ? toApproval(row) : null;
    },

    /** The pending approval with this code, else the newest decided one that had it. */
    async getByCode(code: string): Promise<Approval | null> {
      const row = await maybeOne<ApprovalRow>(
        db.pool,
        `${SELECT_APPROVAL} WHERE a.code = $1 ORDER BY (a.status = 'pending') DESC, a.created_at DESC LIMIT 1`,
        [code.toUpperCase()],
      );
      return row ? toApproval(row) : null;
    },

    /** Approvals, newest first, optionally only those with one status. */
    async list(options: { status?: ApprovalStatus; limit?: number } = {}): Promise<Approval[]> {
      const rows = await many<ApprovalRow>(
        db.pool,
        `${SELECT_APPROVAL} WHERE ($1::text IS NULL OR a.status = $1) ORDER BY a.created_at DESC LIMIT $2`,
        [options.status ?? null, options.limit ?? 100],
      );
      return rows.map(toApproval);
    },

    /** How many approvals are pending (a metrics gauge). */
    async countPending(): Promise<number> {
      const row = await maybeOne<{ n: number }>(db.pool, "SELECT count(*)::int AS n FROM approvals WHERE status = 'pending'");
      return row?.n ?? 0;
    },

    /** Every pending approval, oldest first (the reconciler walks these at start). */
    async listPending(): Promise<Approval[]> {
      const rows = await many<ApprovalRow>(db.pool, `${SELECT_APPROVAL} WHERE a.status = 'pending' ORDER BY a.created_at`);
      return rows.map(toApproval);
    },
  };
}

/** The approval store's interface, for injection. */
export type ApprovalStore = ReturnType<typeof createApprovalStore>;

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
