/**
 * The batched approval writes on the real PostgreSQL, read back field by field through the store:
 * every column lands in its own place (a title can never end up in `reason`), NULLs stay NULL,
 * times keep their milliseconds, metadata comes back as the same object, audit entries keep their
 * order and exact text, and a transition writes its decision, audit entries and callback with it.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Approval, Decision } from "../../src/domain/approval.js";
import { type ApprovalStore, createApprovalStore } from "../../src/store/approval-store.js";
import { type AuditStore, canonicalJson, createAuditStore } from "../../src/store/audit-store.js";
import { type Database, createDatabase } from "../../src/store/db.js";
import { type DeliveryStore, createDeliveryStore } from "../../src/store/delivery-store.js";
import { migrate } from "../../src/store/migrate.js";
import { approvalFixture } from "../helpers/approval-fixture.js";
import { DATABASE_URL, uniqueName } from "../helpers/harness.js";

let db: Database;
let approvals: ApprovalStore;
let audit: AuditStore;
let deliveries: DeliveryStore;

beforeAll(async () => {
  db = createDatabase({ url: DATABASE_URL, schema: uniqueName("writes"), max: 4 });
  await migrate(db);
  approvals = createApprovalStore(db);
  audit = createAuditStore(db);
  deliveries = createDeliveryStore(db);
});
afterAll(async () => {
  await db?.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`).catch(() => undefined);
  await db?.close();
});

let codes = 0;
/** Every field set, each text field to a value no other field has. */
function everyFieldSet(tag: string): Approval {
  return {
    id: randomUUID(),
    code: `F${(codes++).toString(36).toUpperCase().padStart(3, "0")}`,
    source: `source ${tag}`,
    title: `title ${tag}`,
    reason: `reason ${tag}`,
    agent: `agent ${tag}`,
    gate: "low",
    effectiveGate: "medium",
    preview: `preview ${tag}\nwith "quotes", a backslash \\ and ünïcode ✓`,
    status: "approved",
    decidedBy: `decider ${tag}`,
    decidedAt: new Date("2031-02-03T04:05:06.789Z"),
    note: `note ${tag}`,
    onTimeout: "approve",
    approverRoles: ["owner", `release "manager" ${tag}`, "{braces},commas"],
    quorum: 3,
    callbackUrl: `https://example.test/callback/${tag}`,
    idempotencyKey: `key ${tag}`,
    metadata: { ticket: `T-${tag}`, nested: { list: [1, 2.5, "x", null, true], empty: {} }, ключ: "значение" },
    notify: true,
    action: `action:${tag.replace(/\W/g, "_")}`,
    // Keys out of order and unicode: json (not jsonb) keeps them exactly as sent.
    payload: { z: [3, { b: "ß", a: null }], a: "€ ✓", m: 1.5 },
    payloadSha256: "ab".repeat(32),
    requestedBy: `requester ${tag}`,
    allowSelfApproval: true,
    decisions: [],
    createdAt: new Date("2031-02-03T04:00:00.123Z"),
    deadlineAt: new Date("2031-02-04T00:00:00.456Z"),
    objectionEndsAt: new Date("2031-02-03T04:10:00.001Z"),
    objectionSeconds: 12.75,
    noticeDeliveredAt: null,
    remind: false,
    remindAt: [new Date("2031-02-03T12:00:00.321Z"), new Date("2031-02-03T23:45:00.654Z")],
    remindersSent: 1,
    escalation: [{ afterSeconds: 600, roles: [`ops "lead" ${tag}`, "{braces},commas"] }],
    escalationLevel: 1,
    version: 7,
  };
}

/** Every optional field null (and the booleans and lists at their empty values). */
function everyOptionalNull(): Approval {
  return approvalFixture({
    id: randomUUID(),
    code: `N${(codes++).toString(36).toUpperCase().padStart(3, "0")}`,
    title: "bare",
    approverRoles: [],
    createdAt: new Date("2031-05-06T07:08:09.010Z"),
    deadlineAt: null,
    version: 0,
  });
}

/** The stored `data` text and `at` (microseconds, UTC) of an approval's audit entries. */
async function rawAudit(subject: string) {
  const { rows } = await db.pool.query<{ data: string; at: string }>(
    `SELECT data, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
       FROM audit_log WHERE subject = $1 ORDER BY id`,
    [subject],
  );
  return rows;
}

describe("insert", () => {
  it("stores every field in its own column and reads each back", async () => {
    const approval = everyFieldSet("one");
    const delivery = { kind: "callback" as const, subjectId: approval.id, url: "https://cb.test/x", body: '{"a":1}' };
    const entries = [
      {
        actor: "forge",
        action: "approval.created",
        subject: approval.id,
        data: { b: 2, a: [1, "ü"] },
        at: new Date("2031-02-03T04:00:00.124Z"),
      },
      {
        actor: "policy",
        action: "approval.decided",
        subject: approval.id,
        data: {},
        at: new Date("2031-02-03T04:00:00.125Z"),
      },
    ];

    const outcome = await approvals.insert(approval, entries, delivery);
    expect(outcome.inserted).toBe(true);
    const stored = await approvals.get(approval.id);

    expect(stored).not.toBeNull();
    for (const field of Object.keys(approval) as Array<keyof Approval>)
      expect(stored?.[field], `field ${field}`).toEqual(approval[field]);
    expect(stored).toEqual(approval);
    expect(Object.keys(stored?.payload as object), "payload keys in the order sent").toEqual(["z", "a", "m"]);

    const rows = await audit.listBySubject(approval.id);
    expect(rows.map((r) => [r.actor, r.action, r.subject, r.data, r.at])).toEqual(
      entries.map((e) => [e.actor, e.action, e.subject, e.data, e.at]),
    );
    expect(await rawAudit(approval.id)).toEqual([
      { data: canonicalJson(entries[0]!.data), at: "2031-02-03T04:00:00.124000Z" },
      { data: "{}", at: "2031-02-03T04:00:00.125000Z" },
    ]);

    const [stored_delivery] = await deliveries.listBySubject(approval.id);
    expect(outcome.inserted && outcome.deliveryId).toBe(stored_delivery?.id);
    expect(stored_delivery).toMatchObject({ ...delivery, status: "pending", attempts: 0, lastError: null });
  });

  it("stores every optional field as NULL and reads it back as null", async () => {
    const approval = everyOptionalNull();
    const outcome = await approvals.insert(approval, [], null);
    expect(outcome).toMatchObject({ inserted: true, deliveryId: null });

    const stored = await approvals.get(approval.id);
    for (const field of Object.keys(approval) as Array<keyof Approval>)
      expect(stored?.[field], `field ${field}`).toEqual(approval[field]);
    const { rows } = await db.pool.query(
      `SELECT reason IS NULL AND agent IS NULL AND preview IS NULL AND decided_by IS NULL AND decided_at IS NULL
              AND note IS NULL AND callback_url IS NULL AND idempotency_key IS NULL AND metadata IS NULL
              AND deadline_at IS NULL AND objection_ends_at IS NULL AND objection_seconds IS NULL
              AND action IS NULL AND payload IS NULL AND payload_sha256 IS NULL AND requested_by IS NULL AS all_null
         FROM approvals WHERE id = $1`,
      [approval.id],
    );
    expect(rows[0]?.all_null, "SQL NULL, not JSON null or empty text").toBe(true);
    expect(await deliveries.listBySubject(approval.id)).toEqual([]);
  });

  it("stores a JSON null payload as JSON null, apart from no payload at all", async () => {
    const approval = { ...everyOptionalNull(), payload: null, payloadSha256: "cd".repeat(32) };
    await approvals.insert(approval, [], null);
    expect(await approvals.get(approval.id)).toEqual(approval);
    const { rows } = await db.pool.query("SELECT payload::text AS text FROM approvals WHERE id = $1", [approval.id]);
    expect(rows[0]?.text).toBe("null");
  });

  it("keeps each row of a shared batch with its own audit entries and delivery", async () => {
    const batch = Array.from({ length: 12 }, (_, i) => everyFieldSet(`batch ${i}`));
    const outcomes = await Promise.all(
      batch.map((a, i) =>
        approvals.insert(
          a,
          [{ actor: `actor ${i}`, action: "approval.created", subject: a.id, data: { i } }],
          i % 2 ? null : { kind: "callback", subjectId: a.id, url: `https://cb.test/${i}`, body: `{"i":${i}}` },
        ),
      ),
    );

    for (const [i, a] of batch.entries()) {
      expect(outcomes[i]?.inserted).toBe(true);
      expect(await approvals.get(a.id), `approval ${i}`).toEqual(a);
      const rows = await audit.listBySubject(a.id);
      expect(rows.map((r) => [r.actor, r.data])).toEqual([[`actor ${i}`, { i }]]);
      const own = await deliveries.listBySubject(a.id);
      expect(own.map((d) => d.url)).toEqual(i % 2 ? [] : [`https://cb.test/${i}`]);
    }
  });

  it("returns the stored approval on a replay and writes nothing else", async () => {
    const first = everyFieldSet("replay");
    await approvals.insert(first, [{ actor: "forge", action: "approval.created", subject: first.id }], null);
    const again = { ...everyFieldSet("replay"), id: randomUUID(), title: "a different title" };

    const outcome = await approvals.insert(again, [{ actor: "forge", action: "approval.created", subject: again.id }], {
      kind: "callback",
      subjectId: again.id,
      url: "https://cb.test/replay",
      body: "{}",
    });

    expect(outcome).toMatchObject({ inserted: false, reason: "idempotent_replay", approval: first });
    expect(await approvals.get(again.id)).toBeNull();
    expect(await audit.listBySubject(again.id)).toEqual([]);
    expect(await deliveries.listBySubject(again.id)).toEqual([]);
  });
});

describe("commit a transition", () => {
  it("stores every changed field, the decision, audit entries and callback", async () => {
    const pending = { ...everyOptionalNull(), approverRoles: ["owner"], callbackUrl: "https://cb.test/t" };
    await approvals.insert(pending, [], null);
    const decision: Decision = {
      operator: "adam",
      verdict: "reject",
      note: "the decision note",
      channel: "webchat",
      at: new Date("2031-05-06T08:00:00.321Z"),
    };
    const next: Approval = {
      ...pending,
      status: "rejected",
      decidedBy: "adam",
      decidedAt: new Date("2031-05-06T08:00:00.322Z"),
      note: "the approval note",
      effectiveGate: "hard",
      deadlineAt: new Date("2031-05-07T00:00:00.999Z"),
      onTimeout: "approve",
      // An escalation gives a request reminder times it did not have.
      remindAt: [new Date("2031-05-06T12:00:00.001Z"), new Date("2031-05-06T23:45:00.999Z")],
      remindersSent: 1,
      version: 1,
    };
    const entry = { actor: "adam", action: "approval.decided", subject: pending.id, data: { verdict: "reject" } };
    const callback = { kind: "callback" as const, subjectId: pending.id, url: "https://cb.test/t", body: '{"d":1}' };

    const result = await approvals.commitTransition(next, 0, decision, [entry], callback);
    expect(result.committed).toBe(true);

    const stored = await approvals.get(pending.id);
    const expected = { ...next, decisions: [decision] };
    for (const field of Object.keys(expected) as Array<keyof Approval>)
      expect(stored?.[field], `field ${field}`).toEqual(expected[field]);
    expect((await audit.listBySubject(pending.id)).map((r) => [r.actor, r.action, r.data])).toEqual([
      ["adam", "approval.decided", { verdict: "reject" }],
    ]);
    const [row] = await deliveries.listBySubject(pending.id);
    expect(result.committed && result.deliveryId).toBe(row?.id);
    expect(row).toMatchObject({ url: callback.url, body: callback.body, kind: "callback" });
  });

  it("writes nothing when the approval moved on since the expected version", async () => {
    const pending = everyOptionalNull();
    await approvals.insert(pending, [], null);
    const next = { ...pending, status: "approved" as const, decidedBy: "eve", version: 1 };
    const decision: Decision = { operator: "eve", verdict: "approve", note: null, channel: "webchat", at: new Date() };

    const result = await approvals.commitTransition(
      next,
      5,
      decision,
      [{ actor: "eve", action: "approval.decided", subject: pending.id }],
      { kind: "callback", subjectId: pending.id, url: "https://cb.test/late", body: "{}" },
    );

    expect(result).toEqual({ committed: false });
    expect(await approvals.get(pending.id)).toEqual(pending);
    expect(await audit.listBySubject(pending.id)).toEqual([]);
    expect(await deliveries.listBySubject(pending.id)).toEqual([]);
  });
});
