/**
 * Codes that do not slow down, on the real PostgreSQL: with the pending count just under the
 * 4-character limit codes stay 4 characters, at 100,000 pending (15 % of the 4-character space
 * taken) they are 5 characters, and either way a create needs ~1 insert. A collision inside a
 * shared batch retries only the create it hit.
 *
 * Pending codes are seeded with one SQL statement (every 4-character code holding a digit, in
 * order): for codes drawn uniformly the chance of a hit is taken / space whichever are taken.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODE_ALPHABET, createPendingCodeLengths, generateCode } from "../../src/handlers/approvals/approval-codes.js";
import { createApprovalService } from "../../src/handlers/approvals/approval-service.js";
import { CreateApprovalBodySchema } from "../../src/domain/requests/approval-requests.js";
import { type ApprovalStore, createApprovalStore } from "../../src/store/approval-store.js";
import { createAuditStore } from "../../src/store/audit-store.js";
import { type Database, createDatabase } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { DATABASE_URL, uniqueName } from "../helpers/harness.js";

let db: Database;
let approvals: ApprovalStore;

beforeAll(async () => {
  db = createDatabase({ url: DATABASE_URL, schema: uniqueName("codes"), max: 8 });
  await migrate(db);
  approvals = createApprovalStore(db);
});
afterAll(async () => {
  await db?.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`).catch(() => undefined);
  await db?.close();
});

/** Make the first `total` 4-character codes (in alphabet order) pending, as another source's. */
async function seedPending4(total: number): Promise<void> {
  await db.pool.query(
    `WITH a(c) AS (SELECT unnest(string_to_array($1::text, NULL)))
     INSERT INTO approvals (id, code, source, title, gate, effective_gate, status, on_timeout, approver_roles, quorum, created_at)
     SELECT gen_random_uuid(), code, 'seed', 'seeded', 'medium', 'medium', 'pending', 'deny', '{approver}', 1, now()
       FROM (SELECT a1.c || a2.c || a3.c || a4.c AS code FROM a a1, a a2, a a3, a a4) codes
      WHERE code ~ '[2-9]'
      ORDER BY code
      LIMIT $2
     ON CONFLICT (code) WHERE status = 'pending' DO NOTHING`,
    [CODE_ALPHABET, total],
  );
  const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM approvals WHERE status = 'pending'");
  expect(rows[0].n).toBeGreaterThanOrEqual(total);
}

/** A service on the real store and the real length rule, counting every code it draws. */
function serviceCountingTries(generate: (length: number, tries: number) => string = (length) => generateCode(length)) {
  const tries = { count: 0 };
  const service = createApprovalService({
    approvals,
    audit: createAuditStore(db),
    settings: { isPaused: async () => false },
    timers: { schedule: async () => undefined, cancel: async () => undefined },
    callbacks: { enqueue: async () => undefined },
    presenter: { announce: async () => undefined, refresh: async () => undefined, remind: async () => 0 },
    decisions: { publish: async () => undefined },
    defaults: { deadlineSeconds: 3600, objectionSeconds: 60 },
    operators: { byName: () => undefined },
    logger: { warn: () => undefined, error: () => undefined },
    codes: {
      lengths: createPendingCodeLengths({ countPending: approvals.countPending, logger: { warn: () => undefined } }),
      generate: (length) => generate(length, ++tries.count),
    },
  });
  return { service, tries };
}

const request = CreateApprovalBodySchema.parse({ title: "Deploy", gate: "medium" });

/** Create `n` requests at once (more than the batches in flight, so they share statements). */
async function createMany(service: ReturnType<typeof serviceCountingTries>["service"], n: number) {
  const made = await Promise.all(Array.from({ length: n }, () => service.create("forge", request)));
  expect(made.every((m) => m.created)).toBe(true);
  return made.map((m) => m.approval.code);
}

describe("code length under a growing backlog", () => {
  it("stays 4 characters at ~1 insert while the pending count is just under the 4-character limit", async () => {
    await seedPending4(6_000); // 0.93 % of the 4-character space
    const { service, tries } = serviceCountingTries();
    const codes = await createMany(service, 300);
    const lengths = codes.map((c) => c.length);
    // A create that collided retries one character longer; at ~1 % that is a handful.
    expect(lengths.filter((l) => l === 4).length).toBeGreaterThanOrEqual(290);
    expect(tries.count / codes.length).toBeLessThan(1.04);
  });

  it("grows to 5 characters at 100,000 pending and still needs ~1 insert per create", async () => {
    await seedPending4(100_000); // 15.5 % of the 4-character space: 4 characters would retry ~1 in 6
    const { service, tries } = serviceCountingTries();
    const codes = await createMany(service, 300);
    expect(tries.count / codes.length).toBeLessThan(1.04);
    expect(new Set(codes.map((c) => c.length))).toEqual(new Set([5]));
  });

  it("retries only the create whose code was taken when a shared batch collides", async () => {
    const taken = (await db.pool.query("SELECT code FROM approvals WHERE source = 'seed' LIMIT 1")).rows[0].code;
    // The 30th draw of 60 concurrent creates (past the first flushes, inside a shared batch) is taken.
    const { service, tries } = serviceCountingTries((length, n) => (n === 30 ? taken : generateCode(length)));
    const before = await approvals.countPending();
    const codes = await createMany(service, 60);
    expect(tries.count).toBe(61);
    expect(codes).not.toContain(taken);
    expect(new Set(codes).size).toBe(60);
    expect(await approvals.countPending()).toBe(before + 60);
    // The one that collided went one character longer: at this count that is 6.
    expect(codes.filter((c) => c.length === 6)).toHaveLength(1);
  });
});
