/**
 * The two hot writes of approvals, each one SQL statement for a whole batch: inserting new
 * approvals, and committing state transitions with a compare-and-set on `version`. Each row
 * travels with its audit entries, decision and callback delivery, so they commit together.
 *
 * Every batch travels as JSON arrays of objects keyed by column name, read back with
 * `json_to_recordset` (as pg-boss does), so no value can land in another column by position.
 *
 * insertApprovals parameters: $1 approvals, $2 audit entries, $3 deliveries.
 * commitTransitions parameters: $1 transitions, $2 decisions, $3 audit entries, $4 deliveries.
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

type SqlType =
  | "uuid"
  | "text"
  | "timestamptz"
  | "timestamptz[]"
  | "int"
  | "float8"
  | "boolean"
  | "text[]"
  | "jsonb"
  | "json";
/**
 * The JSON value each column type is sent as (timestamps as ISO text with milliseconds). A `json`
 * column travels as its JSON text: the recordset would turn a JSON `null` into SQL NULL, and a
 * payload may be JSON null.
 */
type JsonOf<T extends SqlType> = T extends "int" | "float8"
  ? number | null
  : T extends "boolean"
    ? boolean
    : T extends "text[]" | "timestamptz[]"
      ? readonly string[]
      : T extends "jsonb"
        ? Record<string, unknown> | readonly unknown[] | null
        : string | null;
/** One row of a recordset: every column by name, so a missing or misspelt one is a type error. */
type RowOf<C extends Record<string, SqlType>> = { [K in keyof C]: JsonOf<C[K]> };

/** `json_to_recordset($n::json) AS alias(column type, ...)`: a JSON array parameter as rows. */
function recordset(param: number, alias: string, columns: Record<string, SqlType>): string {
  const definition = Object.entries(columns).map(([name, type]) => `${name} ${type === "json" ? "text" : type}`);
  return `json_to_recordset($${param}::json) AS ${alias}(${definition.join(", ")})`;
}

/** A recordset column as the value to store (a `json` column's text read as json). */
const storedValue = (alias: string, name: string, type: SqlType) =>
  type === "json" ? `${alias}.${name}::json` : `${alias}.${name}`;

/** The approval columns inserted (every column but `notice_delivered_at`, null at birth). */
const APPROVAL_COLUMNS = {
  id: "uuid",
  code: "text",
  source: "text",
  title: "text",
  reason: "text",
  agent: "text",
  gate: "text",
  effective_gate: "text",
  preview: "text",
  status: "text",
  decided_by: "text",
  decided_at: "timestamptz",
  note: "text",
  on_timeout: "text",
  approver_roles: "text[]",
  quorum: "int",
  callback_url: "text",
  idempotency_key: "text",
  metadata: "jsonb",
  notify: "boolean",
  created_at: "timestamptz",
  deadline_at: "timestamptz",
  objection_ends_at: "timestamptz",
  version: "int",
  objection_seconds: "float8",
  action: "text",
  payload: "json",
  payload_sha256: "text",
  requested_by: "text",
  allow_self_approval: "boolean",
  remind: "boolean",
  remind_at: "timestamptz[]",
  reminders_sent: "int",
  escalation: "jsonb",
  escalation_level: "int",
} as const satisfies Record<string, SqlType>;

/** What a transition changes, and the version it expects to find. */
const TRANSITION_COLUMNS = {
  id: "uuid",
  expected: "int",
  status: "text",
  decided_by: "text",
  decided_at: "timestamptz",
  note: "text",
  version: "int",
  effective_gate: "text",
  deadline_at: "timestamptz",
  on_timeout: "text",
  remind_at: "timestamptz[]",
  reminders_sent: "int",
  escalation_level: "int",
} as const satisfies Record<string, SqlType>;

const DECISION_COLUMNS = {
  approval_id: "uuid",
  operator: "text",
  verdict: "text",
  note: "text",
  channel: "text",
  at: "timestamptz",
} as const satisfies Record<string, SqlType>;

/** `ord` keeps entries in the order they were written, which the audit chain follows. */
const AUDIT_COLUMNS = {
  approval_id: "uuid",
  at: "timestamptz",
  actor: "text",
  action: "text",
  subject: "text",
  data: "text",
  ord: "int",
} as const satisfies Record<string, SqlType>;

const DELIVERY_COLUMNS = {
  approval_id: "uuid",
  kind: "text",
  subject_id: "text",
  url: "text",
  body: "text",
} as const satisfies Record<string, SqlType>;

/**
 * The CTEs every write shares: audit entries and deliveries (and, for transitions, decisions),
 * each joined to the rows the write actually changed (`changed`), so a lost compare-and-set
 * writes nothing else.
 */
function sideEffectCtes(changed: "ins" | "upd", params: { decisions?: number; audit: number; deliveries: number }) {
  const decisions =
    params.decisions === undefined
      ? ""
      : `), dec AS (
  INSERT INTO decisions (approval_id, operator, verdict, note, channel, at)
  SELECT d.approval_id, d.operator, d.verdict, d.note, d.channel, d.at
    FROM ${recordset(params.decisions, "d", DECISION_COLUMNS)}
    JOIN ${changed} ON ${changed}.id = d.approval_id
`;
  return `${decisions}), au AS (
  INSERT INTO audit_log (at, actor, action, subject, data)
  SELECT u.at, u.actor, u.action, u.subject, u.data
    FROM ${recordset(params.audit, "u", AUDIT_COLUMNS)}
    JOIN ${changed} ON ${changed}.id = u.approval_id
   ORDER BY u.ord
), dl AS (
  INSERT INTO deliveries (kind, subject_id, url, body, status)
  SELECT l.kind, l.subject_id, l.url, l.body, 'pending'
    FROM ${recordset(params.deliveries, "l", DELIVERY_COLUMNS)}
    JOIN ${changed} ON ${changed}.id = l.approval_id
  ON CONFLICT (kind, subject_id) DO NOTHING
  RETURNING subject_id, id::text AS id
)`;
}

const RESULT_OF = (changed: "ins" | "upd") =>
  `SELECT ${changed}.id::text AS id, dl.id AS delivery_id FROM ${changed} LEFT JOIN dl ON dl.subject_id = ${changed}.id::text`;

const APPROVAL_NAMES = Object.keys(APPROVAL_COLUMNS);
const INSERT_SQL = `
WITH ins AS (
  INSERT INTO approvals (${APPROVAL_NAMES.join(", ")})
  SELECT ${Object.entries(APPROVAL_COLUMNS)
    .map(([name, type]) => storedValue("v", name, type))
    .join(", ")}
    FROM ${recordset(1, "v", { ...APPROVAL_COLUMNS, ord: "int" })}
   ORDER BY v.ord
  ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id
${sideEffectCtes("ins", { audit: 2, deliveries: 3 })}
${RESULT_OF("ins")}`;

const COMMIT_SQL = `
WITH v AS (
  SELECT * FROM ${recordset(1, "v", TRANSITION_COLUMNS)}
), locked AS (
  -- Lock in id order so two batches touching the same rows cannot deadlock.
  SELECT a.id FROM approvals a JOIN v ON v.id = a.id ORDER BY a.id FOR UPDATE OF a
), upd AS (
  UPDATE approvals a
     SET status = v.status, decided_by = v.decided_by, decided_at = v.decided_at, note = v.note, version = v.version,
         effective_gate = v.effective_gate, deadline_at = v.deadline_at, on_timeout = v.on_timeout,
         remind_at = v.remind_at, reminders_sent = v.reminders_sent, escalation_level = v.escalation_level
    FROM v JOIN locked ON locked.id = v.id
   WHERE a.id = v.id AND a.version = v.expected
  RETURNING a.id
${sideEffectCtes("upd", { decisions: 2, audit: 3, deliveries: 4 })}
${RESULT_OF("upd")}`;

/** A time as PostgreSQL reads it back exactly; an invalid date throws instead of writing NULL. */
const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

function approvalRow(a: Approval, ord: number): RowOf<typeof APPROVAL_COLUMNS> & { ord: number } {
  return {
    id: a.id,
    code: a.code,
    source: a.source,
    title: a.title,
    reason: a.reason,
    agent: a.agent,
    gate: a.gate,
    effective_gate: a.effectiveGate,
    preview: a.preview,
    status: a.status,
    decided_by: a.decidedBy,
    decided_at: iso(a.decidedAt),
    note: a.note,
    on_timeout: a.onTimeout,
    approver_roles: a.approverRoles,
    quorum: a.quorum,
    callback_url: a.callbackUrl,
    idempotency_key: a.idempotencyKey,
    metadata: a.metadata,
    notify: a.notify,
    created_at: iso(a.createdAt),
    deadline_at: iso(a.deadlineAt),
    objection_ends_at: iso(a.objectionEndsAt),
    version: a.version,
    objection_seconds: a.objectionSeconds,
    action: a.action,
    payload: a.payloadSha256 === null ? null : JSON.stringify(a.payload),
    payload_sha256: a.payloadSha256,
    requested_by: a.requestedBy,
    allow_self_approval: a.allowSelfApproval,
    remind: a.remind,
    remind_at: a.remindAt.map((at) => at.toISOString()),
    reminders_sent: a.remindersSent,
    escalation: a.escalation.map((step) => ({ afterSeconds: step.afterSeconds, roles: step.roles })),
    escalation_level: a.escalationLevel,
    ord,
  };
}

function transitionRow(i: ApprovalCommit): RowOf<typeof TRANSITION_COLUMNS> {
  const n = i.next;
  return {
    id: n.id,
    expected: i.expectedVersion,
    status: n.status,
    decided_by: n.decidedBy,
    decided_at: iso(n.decidedAt),
    note: n.note,
    version: n.version,
    effective_gate: n.effectiveGate,
    deadline_at: iso(n.deadlineAt),
    on_timeout: n.onTimeout,
    remind_at: n.remindAt.map((at) => at.toISOString()),
    reminders_sent: n.remindersSent,
    escalation_level: n.escalationLevel,
  };
}

function decisionRow(approvalId: string, d: Decision): RowOf<typeof DECISION_COLUMNS> {
  return {
    approval_id: approvalId,
    operator: d.operator,
    verdict: d.verdict,
    note: d.note,
    channel: d.channel,
    at: iso(d.at),
  };
}

/** Audit rows in write order; the values are the audit store's own encoding (time, canonical data). */
function auditRows(rows: Array<{ approvalId: string; audit: AuditEntry[] }>): Array<RowOf<typeof AUDIT_COLUMNS>> {
  const ids = rows.flatMap((r) => r.audit.map(() => r.approvalId));
  const [at, actor, action, subject, data] = auditArrays(rows.flatMap((r) => r.audit));
  return ids.map((approvalId, ord) => ({
    approval_id: approvalId,
    at: at[ord]!,
    actor: actor[ord]!,
    action: action[ord]!,
    subject: subject[ord]!,
    data: data[ord]!,
    ord,
  }));
}

function deliveryRows(
  rows: Array<{ approvalId: string; delivery: NewDelivery | null }>,
): Array<RowOf<typeof DELIVERY_COLUMNS>> {
  return rows.flatMap(({ approvalId, delivery: d }) =>
    d ? [{ approval_id: approvalId, kind: d.kind, subject_id: d.subjectId, url: d.url, body: d.body }] : [],
  );
}

/**
 * Insert approvals. Returns, per item in order, the delivery id (or null) when inserted, or
 * `undefined` when an approval with the same `(source, idempotencyKey)` already existed.
 */
export async function insertApprovals(
  q: Queryable,
  items: ApprovalInsert[],
): Promise<Array<{ deliveryId: string | null } | undefined>> {
  const rows = await many<{ id: string; delivery_id: string | null }>(
    q,
    INSERT_SQL,
    [
      JSON.stringify(items.map((i, ord) => approvalRow(i.approval, ord))),
      JSON.stringify(auditRows(items.map((i) => ({ approvalId: i.approval.id, audit: i.audit })))),
      JSON.stringify(deliveryRows(items.map((i) => ({ approvalId: i.approval.id, delivery: i.delivery })))),
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
  const rows = await many<{ id: string; delivery_id: string | null }>(
    q,
    COMMIT_SQL,
    [
      JSON.stringify(items.map(transitionRow)),
      JSON.stringify(items.flatMap((i) => (i.decision ? [decisionRow(i.next.id, i.decision)] : []))),
      JSON.stringify(auditRows(items.map((i) => ({ approvalId: i.next.id, audit: i.audit })))),
      JSON.stringify(deliveryRows(items.map((i) => ({ approvalId: i.next.id, delivery: i.delivery })))),
    ],
    "signoff_commit_transitions",
  );
  const byId = new Map(rows.map((r) => [r.id, r.delivery_id]));
  return items.map((i) => (byId.has(i.next.id) ? { deliveryId: byId.get(i.next.id) ?? null } : undefined));
}
