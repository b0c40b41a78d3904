/**
 * The two hot writes of approvals, each one SQL statement for a whole batch: inserting new
 * approvals, and committing state transitions with a compare-and-set on `version`. Each row
 * travels with its audit entries, decision and callback delivery, so they commit together.
 *
 * insertApprovals parameters: $1-$24 approval columns as arrays (approver roles as JSON text),
 *   $25 objection seconds, $26-$31 audit entries (approval id, at, actor, action, subject, data),
 *   $32-$36 deliveries (approval id, kind, subject id, url, body).
 * commitTransitions parameters: $1-$10 (id, expected version, status, decided_by, decided_at, note,
 *   new version, effective_gate, deadline_at, on_timeout), $11-$16 decisions, $17-$22 audit
 *   entries, $23-$27 deliveries.
 */
import type { Approval, Decision } from "../domain/approval.js";
import { type AuditEntry, auditArrays } from "./audit-store.js";
import { type Queryable, many } from "./db.js";

/** A callback (or command) delivery to write with the change that causes it. */
export interface NewDelivery {
  kind: "callback" | "command";
  subjectId: string;
  url: string;
  body: string;
}

/** One approval to insert. */
export interface ApprovalInsert {
  approval: Approval;
  audit: AuditEntry[];
  delivery: NewDelivery | null;
}

/** One transition to commit if the approval is still at `expectedVersion`. */
export interface ApprovalCommit {
  next: Approval;
  expectedVersion: number;
  decision: Decision | null;
  audit: AuditEntry[];
  delivery: NewDelivery | null;
}

/**
 * The CTEs every write shares: audit entries (6 arrays from `$first`), deliveries (5 arrays
 * after them) and, for transitions, decisions (6 arrays before `$first`), each joined to the rows
 * the write actually changed (`changed`), so a lost compare-and-set writes nothing else.
 */
function sideEffectCtes(changed: "ins" | "upd", first: number, withDecisions = false): string {
  const p = (n: number) => `$${first + n}`;
  const d = (n: number) => `$${first - 6 + n}`;
  const decisions = withDecisions
    ? `), dec AS (
  INSERT INTO decisions (approval_id, operator, verdict, note, channel, at)
  SELECT d.approval_id, d.operator, d.verdict, d.note, d.channel, d.at
    FROM unnest(${d(0)}::uuid[], ${d(1)}::text[], ${d(2)}::text[], ${d(3)}::text[], ${d(4)}::text[], ${d(5)}::timestamptz[])
         AS d(approval_id, operator, verdict, note, channel, at)
    JOIN ${changed} ON ${changed}.id = d.approval_id
`
    : "";
  return `${decisions}), au AS (
  INSERT INTO audit_log (at, actor, action, subject, data)
  SELECT u.at, u.actor, u.action, u.subject, u.data
    FROM unnest(${p(0)}::uuid[], ${p(1)}::timestamptz[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[])
         WITH ORDINALITY AS u(approval_id, at, actor, action, subject, data, ord)
    JOIN ${changed} ON ${changed}.id = u.approval_id
   ORDER BY u.ord
), dl AS (
  INSERT INTO deliveries (kind, subject_id, url, body, status)
  SELECT l.kind, l.subject_id, l.url, l.body, 'pending'
    FROM unnest(${p(6)}::uuid[], ${p(7)}::text[], ${p(8)}::text[], ${p(9)}::text[], ${p(10)}::text[]) AS l(approval_id, kind, subject_id, url, body)
    JOIN ${changed} ON ${changed}.id = l.approval_id
  ON CONFLICT (kind, subject_id) DO NOTHING
  RETURNING subject_id, id::text AS id
)`;
}

const RESULT_OF = (changed: "ins" | "upd") =>
  `SELECT ${changed}.id::text AS id, dl.id AS delivery_id FROM ${changed} LEFT JOIN dl ON dl.subject_id = ${changed}.id::text`;

const INSERT_SQL = `
WITH ins AS (
  INSERT INTO approvals (id, code, source, title, reason, agent, gate, effective_gate, preview, status, decided_by, decided_at,
                         note, on_timeout, approver_roles, quorum, callback_url, idempotency_key, metadata, notify, created_at,
                         deadline_at, objection_ends_at, version, objection_seconds)
  SELECT v.id, v.code, v.source, v.title, v.reason, v.agent, v.gate, v.effective_gate, v.preview, v.status, v.decided_by,
         v.decided_at, v.note, v.on_timeout, ARRAY(SELECT jsonb_array_elements_text(v.roles::jsonb)), v.quorum, v.callback_url,
         v.idempotency_key, v.metadata::jsonb, v.notify, v.created_at, v.deadline_at, v.objection_ends_at, v.version,
         v.objection_seconds
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::text[], $12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::int[], $17::text[],
                $18::text[], $19::text[], $20::boolean[], $21::timestamptz[], $22::timestamptz[], $23::timestamptz[], $24::int[],
                $25::float8[])
         WITH ORDINALITY AS v(id, code, source, title, reason, agent, gate, effective_gate, preview, status, decided_by, decided_at,
                              note, on_timeout, roles, quorum, callback_url, idempotency_key, metadata, notify, created_at,
                              deadline_at, objection_ends_at, version, objection_seconds, ord)
   ORDER BY v.ord
  ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id
${sideEffectCtes("ins", 26)}
${RESULT_OF("ins")}`;

const COMMIT_SQL = `
WITH v AS (
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::int[],
                       $8::text[], $9::timestamptz[], $10::text[])
         AS v(id, expected, status, decided_by, decided_at, note, version, effective_gate, deadline_at, on_timeout)
), locked AS (
  -- Lock in id order so two batches touching the same rows cannot deadlock.
  SELECT a.id FROM approvals a JOIN v ON v.id = a.id ORDER BY a.id FOR UPDATE OF a
), upd AS (
  UPDATE approvals a
     SET status = v.status, decided_by = v.decided_by, decided_at = v.decided_at, note = v.note, version = v.version,
         effective_gate = v.effective_gate, deadline_at = v.deadline_at, on_timeout = v.on_timeout
    FROM v JOIN locked ON locked.id = v.id
   WHERE a.id = v.id AND a.version = v.expected
  RETURNING a.id
${sideEffectCtes("upd", 17, true)}
${RESULT_OF("upd")}`;

function auditColumns(rows: Array<{ approvalId: string; audit: AuditEntry[] }>) {
  const ids = rows.flatMap((r) => r.audit.map(() => r.approvalId));
  return [ids, ...auditArrays(rows.flatMap((r) => r.audit))];
}

function deliveryColumns(rows: Array<{ approvalId: string; delivery: NewDelivery | null }>) {
  const with_ = rows.filter((r) => r.delivery);
  return [
    with_.map((r) => r.approvalId),
    with_.map((r) => r.delivery!.kind),
    with_.map((r) => r.delivery!.subjectId),
    with_.map((r) => r.delivery!.url),
    with_.map((r) => r.delivery!.body),
  ];
}

/**
 * Insert approvals. Returns, per item in order, the delivery id (or null) when inserted, or
 * `undefined` when an approval with the same `(source, idempotencyKey)` already existed.
 */
export async function insertApprovals(
  q: Queryable,
  items: ApprovalInsert[],
): Promise<Array<{ deliveryId: string | null } | undefined>> {
  const a = items.map((i) => i.approval);
  const rows = await many<{ id: string; delivery_id: string | null }>(
    q,
    INSERT_SQL,
    [
      a.map((x) => x.id),
      a.map((x) => x.code),
      a.map((x) => x.source),
      a.map((x) => x.title),
      a.map((x) => x.reason),
      a.map((x) => x.agent),
      a.map((x) => x.gate),
      a.map((x) => x.effectiveGate),
      a.map((x) => x.preview),
      a.map((x) => x.status),
      a.map((x) => x.decidedBy),
      a.map((x) => x.decidedAt),
      a.map((x) => x.note),
      a.map((x) => x.onTimeout),
      a.map((x) => JSON.stringify(x.approverRoles)),
      a.map((x) => x.quorum),
      a.map((x) => x.callbackUrl),
      a.map((x) => x.idempotencyKey),
      a.map((x) => (x.metadata === null ? null : JSON.stringify(x.metadata))),
      a.map((x) => x.notify),
      a.map((x) => x.createdAt),
      a.map((x) => x.deadlineAt),
      a.map((x) => x.objectionEndsAt),
      a.map((x) => x.version),
      a.map((x) => x.objectionSeconds),
      ...auditColumns(items.map((i) => ({ approvalId: i.approval.id, audit: i.audit }))),
      ...deliveryColumns(items.map((i) => ({ approvalId: i.approval.id, delivery: i.delivery }))),
    ],
    "signoff_insert_approvals",
  );
  const byId = new Map(rows.map((r) => [r.id, r.delivery_id]));
  return items.map((i) => (byId.has(i.approval.id) ? { deliveryId: byId.get(i.approval.id) ?? null } : undefined));
}

/**
 * Commit transitions; per item in order, the delivery id (or null) when committed, or
 * `undefined` when another writer changed the approval first.
 */
export async function commitTransitions(
  q: Queryable,
  items: ApprovalCommit[],
): Promise<Array<{ deliveryId: string | null } | undefined>> {
  const n = items.map((i) => i.next);
  const decided = items.filter((i) => i.decision);
  const rows = await many<{ id: string; delivery_id: string | null }>(
    q,
    COMMIT_SQL,
    [
      n.map((x) => x.id),
      items.map((i) => i.expectedVersion),
      n.map((x) => x.status),
      n.map((x) => x.decidedBy),
      n.map((x) => x.decidedAt),
      n.map((x) => x.note),
      n.map((x) => x.version),
      n.map((x) => x.effectiveGate),
      n.map((x) => x.deadlineAt),
      n.map((x) => x.onTimeout),
      decided.map((i) => i.next.id),
      decided.map((i) => i.decision!.operator),
      decided.map((i) => i.decision!.verdict),
      decided.map((i) => i.decision!.note),
      decided.map((i) => i.decision!.channel),
      decided.map((i) => i.decision!.at),
      ...auditColumns(items.map((i) => ({ approvalId: i.next.id, audit: i.audit }))),
      ...deliveryColumns(items.map((i) => ({ approvalId: i.next.id, delivery: i.delivery }))),
    ],
    "signoff_commit_transitions",
  );
  const byId = new Map(rows.map((r) => [r.id, r.delivery_id]));
  return items.map((i) => (byId.has(i.next.id) ? { deliveryId: byId.get(i.next.id) ?? null } : undefined));
}
