/**
 * Approvals and their decisions. Every change is a compare-and-set on `version` in one
 * transaction with its audit entries and (when decided) its callback delivery row, so a crash
 * never leaves a decision without its callback or audit trail.
 */
import type { Approval, ApprovalStatus, Decision, Verdict } from "../domain/approval.js";
import type { AuditEntry } from "./audit-store.js";
import {
  type ApprovalCommit,
  type ApprovalInsert,
  type NewDelivery,
  commitTransitions,
  insertApprovals,
} from "./approval-writes.js";
import { createBatcher } from "../lib/batcher.js";
import type { RowOf } from "../lib/row-shape.js";
import { type Database, isUniqueViolation, many, maybeOne } from "./db.js";

/** A row of `approvals` with its decisions aggregated as JSON (times as text). */
type ApprovalRow = RowOf<Omit<Approval, "decisions">> & {
  decisions: Array<{ operator: string; verdict: Verdict; note: string | null; channel: string; at: string }> | null;
};

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
    action: row.action,
    payload: row.payload,
    payloadSha256: row.payload_sha256,
    requestedBy: row.requested_by,
    allowSelfApproval: row.allow_self_approval,
    createdAt: row.created_at,
    deadlineAt: row.deadline_at,
    objectionEndsAt: row.objection_ends_at,
    objectionSeconds: row.objection_seconds,
    noticeDeliveredAt: row.notice_delivered_at,
    remind: row.remind,
    remindAt: row.remind_at,
    remindersSent: row.reminders_sent,
    escalation: row.escalation,
    escalationLevel: row.escalation_level,
    version: row.version,
    decisions: (row.decisions ?? []).map((d): Decision => ({ ...d, at: new Date(d.at) })),
  };
}

export type { NewDelivery } from "./approval-writes.js";

/** Outcome of inserting a new approval. */
export type InsertOutcome =
  | { inserted: true; approval: Approval; deliveryId: string | null }
  | { inserted: false; reason: "idempotent_replay"; approval: Approval }
  | { inserted: false; reason: "code_taken" };

type InsertResult = { deliveryId: string | null } | undefined | "code_taken";
type CommitResult = { deliveryId: string | null } | undefined;
/** A batched write's result for one caller: its own value, or the error its own row caused. */
type ItemOutcome<T> = T | { failed: unknown };

/** How late after the window's own end a notice may still count as seen in time (clock skew). */
const NOTICE_LATE_TOLERANCE_MS = 25;

const isFailure = (value: unknown): value is { failed: unknown } =>
  typeof value === "object" && value !== null && "failed" in value;

function insertFailure(error: unknown): ItemOutcome<InsertResult> {
  return isUniqueViolation(error, "approvals_pending_code") ? "code_taken" : { failed: error };
}

/**
 * Retry a failed batch one item at a time, turning each item's error into its own outcome
 * instead of failing the rest. Transitions go one after another (row locks stay in one order, so
 * no deadlock); inserts lock no existing rows and go all at once, so a code collision in a busy
 * batch costs its callers one more round trip, not one per item.
 */
async function eachOnItsOwn<In, Out>(
  items: In[],
  write: (item: In) => Promise<Out>,
  onError: (error: unknown) => ItemOutcome<Out>,
  mode: "in-order" | "at-once",
): Promise<Array<ItemOutcome<Out>>> {
  const attempt = (item: In) => write(item).then((value): ItemOutcome<Out> => value, onError);
  if (mode === "at-once") return Promise.all(items.map(attempt));
  const out: Array<ItemOutcome<Out>> = [];
  for (const item of items) out.push(await attempt(item));
  return out;
}

/** Approvals store; see the module comment for its guarantees. */
export function createApprovalStore(db: Database) {
  // Concurrent writes share statements (see batcher.ts). A batch that fails as a whole (a code
  // collision, a deadlock, one row PostgreSQL refuses) is retried one item at a time, and each
  // caller gets its own outcome: one bad row never fails, or half-writes, its neighbours.
  const insertBatch = createBatcher<ApprovalInsert, ItemOutcome<InsertResult>>(async (items) => {
    try {
      return await insertApprovals(db.pool, items);
    } catch (error) {
      if (items.length === 1) return [insertFailure(error)];
      return eachOnItsOwn(items, async (item) => (await insertApprovals(db.pool, [item]))[0], insertFailure, "at-once");
    }
  });
  const commitBatch = createBatcher<ApprovalCommit, ItemOutcome<CommitResult>>(
    async (items) => {
      try {
        return await commitTransitions(db.pool, items);
      } catch (error) {
        if (items.length === 1) return [{ failed: error }];
        return eachOnItsOwn(
          items,
          async (item) => (await commitTransitions(db.pool, [item]))[0],
          (e) => ({ failed: e }),
          "in-order",
        );
      }
    },
    // Timers decide in bursts: a burst's commits share a statement.
    { keyOf: (item) => item.next.id, gather: true },
  );

  // Reads by id are batched too: under load one `= ANY($1)` query serves many callers.
  const getBatch = createBatcher<string, Approval | null>(
    async (ids) => {
      const unique = [...new Set(ids)];
      const rows = await many<ApprovalRow>(
        db.pool,
        `${SELECT_APPROVAL} WHERE a.id = ANY($1::uuid[])`,
        [unique],
        "signoff_get_approvals",
      );
      const byId = new Map(rows.map((r) => [r.id, toApproval(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    // Not gathered: a chat's notices read one after another, and each would wait a turn (at
    // 50,000 windows it was also slower: the timers' reads then queued behind the commits).
  );

  return {
    /**
     * Insert a new approval with its audit entries (and a callback row when it is born decided),
     * all in one statement. The same `(source, idempotencyKey)` returns the stored record.
     */
    async insert(approval: Approval, audit: AuditEntry[], delivery: NewDelivery | null): Promise<InsertOutcome> {
      const result = await insertBatch({ approval, audit, delivery });
      if (isFailure(result)) throw result.failed;
      if (result === "code_taken") return { inserted: false, reason: "code_taken" };
      if (result) return { inserted: true, approval, deliveryId: result.deliveryId };
      const existing = await maybeOne<ApprovalRow>(
        db.pool,
        `${SELECT_APPROVAL} WHERE a.source = $1 AND a.idempotency_key = $2`,
        [approval.source, approval.idempotencyKey],
      );
      if (!existing) throw new Error("idempotency conflict without a stored row");
      return { inserted: false, reason: "idempotent_replay", approval: toApproval(existing) };
    },

    /**
     * Store a transition if nobody changed the approval since `expectedVersion` was read, with
     * its decision, audit entries and callback row. Returns `committed: false` when another
     * writer won; the caller re-reads and re-applies its event.
     */
    async commitTransition(
      next: Approval,
      expectedVersion: number,
      decision: Decision | null,
      audit: AuditEntry[],
      delivery: NewDelivery | null,
    ): Promise<{ committed: false } | { committed: true; deliveryId: string | null }> {
      const result = await commitBatch({ next, expectedVersion, decision, audit, delivery });
      if (isFailure(result)) throw result.failed;
      return result ? { committed: true, deliveryId: result.deliveryId } : { committed: false };
    },

    /**
     * The first notice of a pending `low` request reached an eligible operator at `at`: its
     * objection window now counts from then (the rule of `withNoticeDelivered`). Later
     * deliveries, decided or escalated requests change nothing. Returns when the window now ends
     * if it counted, else null.
     */
    async confirmNoticeDelivered(id: string, at: Date): Promise<Date | null> {
      const row = await maybeOne<{ objection_ends_at: Date }>(
        db.pool,
        // A notice that arrives after the window's own length does not restart it: nobody saw
        // the request in time, so its objection timer makes it medium instead.
        `UPDATE approvals
            SET notice_delivered_at = $2::timestamptz,
                objection_ends_at = $2::timestamptz + make_interval(secs => COALESCE(objection_seconds, EXTRACT(EPOCH FROM (objection_ends_at - created_at))))
          WHERE id = $1 AND status = 'pending' AND effective_gate = 'low' AND notice_delivered_at IS NULL
            AND $2::timestamptz <= objection_ends_at + make_interval(secs => $3::float8 / 1000)
          RETURNING objection_ends_at`,
        [id, at, NOTICE_LATE_TOLERANCE_MS],
        "signoff_confirm_notice",
      );
      return row?.objection_ends_at ?? null;
    },

    /** One approval by id, or null. */
    async get(id: string): Promise<Approval | null> {
      if (!isUuid(id)) return null;
      return getBatch(id.toLowerCase());
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
    async list(options: { status?: ApprovalStatus; source?: string; limit?: number } = {}): Promise<Approval[]> {
      const rows = await many<ApprovalRow>(
        db.pool,
        `${SELECT_APPROVAL} WHERE ($1::text IS NULL OR a.status = $1) AND ($3::text IS NULL OR a.source = $3)
          ORDER BY a.created_at DESC LIMIT $2`,
        [options.status ?? null, options.limit ?? 100, options.source ?? null],
      );
      return rows.map(toApproval);
    },

    /** How many approvals are pending (a metrics gauge). */
    async countPending(): Promise<number> {
      const row = await maybeOne<{ n: number }>(
        db.pool,
        "SELECT count(*)::int AS n FROM approvals WHERE status = 'pending'",
      );
      return row?.n ?? 0;
    },

    /** Every pending approval, oldest first (the reconciler walks these at start). */
    async listPending(): Promise<Approval[]> {
      const rows = await many<ApprovalRow>(
        db.pool,
        `${SELECT_APPROVAL} WHERE a.status = 'pending' ORDER BY a.created_at`,
      );
      return rows.map(toApproval);
    },
  };
}

/** The approval store's interface, for injection. */
export type ApprovalStore = ReturnType<typeof createApprovalStore>;

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
