/**
 * One bad request never fails another: concurrent writes share one SQL statement, and when
 * PostgreSQL refuses one row of it the others must still be written and told so, and the refused
 * caller must have nothing half-written (no ghost approval without timer or card).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { cleanupTestInstance, startTestSignoff } from "../helpers/harness.js";
import { sql } from "../helpers/sql.js";

let s: Signoff & { schema: string; prefix: string };
beforeAll(async () => {
  s = await startTestSignoff();
});
afterAll(async () => {
  await s.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

describe("a poisoned row in a batch", () => {
  it("creates: every valid caller gets its own approval; the poisoned one gets an error and leaves no row", async () => {
    // The API refuses NUL with a 400; the service below it must hold even when a row slips through.
    const inputs = Array.from({ length: 40 }, (_, i) => ({
      title: i === 17 ? "bad\u0000title" : `valid ${i}`,
      gate: "medium" as const,
      idempotencyKey: `poison-${i}`,
    }));
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled(
        inputs.map((input) =>
          s.service.create("forge", { ...input, idempotencyKey: `${input.idempotencyKey}-${round}` }),
        ),
      );
      const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
      expect(failed).toEqual([17]);
    }
    const rows = await sql<{ n: number }>(s.schema, "SELECT count(*)::int AS n FROM approvals");
    expect(rows[0]!.n).toBe(39 * 5);
    const audit = await sql<{ n: number }>(
      s.schema,
      "SELECT count(*)::int AS n FROM audit_log WHERE action = 'approval.created'",
    );
    expect(audit[0]!.n).toBe(39 * 5);
  });

  it("decisions: innocent answers in the same batch are committed; the poisoned one fails alone", async () => {
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) => s.service.create("forge", { title: `decide ${i}`, gate: "medium" })),
    );
    const adam = s.directory.byName("adam")!;
    const results = await Promise.allSettled(
      created.map(({ approval }, i) =>
        s.service.answer({
          approvalId: approval.id,
          operator: adam,
          verdict: "reject",
          note: i === 5 ? "no\u0000pe" : "too risky",
          channel: "webchat",
        }),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
    expect(failed).toEqual([5]);
    for (const [i, { approval }] of created.entries()) {
      const now = await s.service.get(approval.id);
      expect(now!.status, `approval ${i}`).toBe(i === 5 ? "pending" : "rejected");
    }
  });
});
