/**
 * The start-up reconcile runs in the background: a restart with a backlog answers HTTP and
 * health at once, health says how far the walk got, and creates during it are served.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, cleanupTestInstance, eventually, startTestSignoff, uniqueName } from "../helpers/harness.js";
import { sql } from "../helpers/sql.js";

const schema = uniqueName("t");
const prefix = uniqueName("q");
const BACKLOG = 3_000;

beforeAll(async () => {
  const first = await startTestSignoff({ schema, prefix, webchat: false });
  await first.service.create("forge", { title: "seed", gate: "medium", remind: false });
  await first.close();
  // The backlog, copied from the seed row in one statement (fresh ids, codes unique among pending).
  await sql(
    schema,
    `INSERT INTO approvals
       SELECT (s.*) FROM (
         SELECT (jsonb_populate_record(a, jsonb_build_object(
           'id', gen_random_uuid(),
           'code', 'Z' || lpad(to_hex(g), 5, '0'),
           'idempotency_key', NULL))).*
         FROM approvals a, generate_series(1, ${BACKLOG}) g WHERE a.title = 'seed') s`,
  );
}, 60_000);
afterAll(() => cleanupTestInstance(schema, prefix));

describe("a restart with a backlog", () => {
  it("answers health and creates while the reconcile walks, and health reports its progress", async () => {
    const s = await startTestSignoff({ schema, prefix, webchat: false, reconcileInBackground: true });
    try {
      let finished = false;
      void s.reconcileReport.then(() => {
        finished = true;
      });
      const health = await fetch(`${s.url}/api/health`);
      const body = (await health.json()) as { checks: Record<string, { state?: string; walked?: number }> };
      expect(health.status).toBe(200);
      expect(["reconciling", "waiting", "done"]).toContain(body.checks.reconcile?.state);
      const created = await api(s, "POST", "/api/approvals", { title: "during the walk", gate: "medium" });
      expect(created.status).toBe(201);
      const answeredBeforeTheEnd = !finished;
      const report = await s.reconcileReport;
      expect(report?.pendingApprovals).toBeGreaterThanOrEqual(BACKLOG);
      expect(answeredBeforeTheEnd).toBe(true);
      await eventually(async () => {
        const after = (await (await fetch(`${s.url}/api/health`)).json()) as {
          checks: Record<string, { state?: string }>;
        };
        return after.checks.reconcile?.state === "done";
      }, "health to say the reconcile is done");
    } finally {
      await s.close();
    }
  }, 60_000);
});
