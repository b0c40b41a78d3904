/**
 * The reconcile walks pending approvals and deliveries in keyset pages: every pending one gets
 * its job exactly once across page boundaries, decided ones none, the whole list is never read
 * at once, and no more than one page of calls is in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "../../src/jobs/reconciler.js";
import type { TimerToEnsure } from "../../src/jobs/timer-queue.js";
import type { Signoff } from "../../src/main.js";
import { createPendingPages } from "../../src/store/pending-pages.js";
import { cleanupTestInstance, startTestSignoff } from "../helpers/harness.js";
import { sql } from "../helpers/sql.js";

const PAGE = 10;
const PENDING = 25; // two full pages and a partial one
const DECIDED = 4;

let s: Signoff & { schema: string; prefix: string };
let pendingIds: string[];

beforeAll(async () => {
  s = await startTestSignoff({ webchat: false });
  const created = await Promise.all(
    Array.from({ length: PENDING + DECIDED }, (_, i) =>
      s.service.create("forge", { title: `deploy ${i}`, gate: "medium", deadlineSeconds: 3600, remind: false }),
    ),
  );
  const ids = created.map((c) => c.approval.id);
  await sql(s.schema, "UPDATE approvals SET status = 'cancelled' WHERE id = ANY($1::uuid[])", [ids.slice(PENDING)]);
  pendingIds = ids.slice(0, PENDING);
  // Deliveries 1..(PENDING + DECIDED): ids past 9, so a page boundary compared as text would skip some.
  await sql(
    s.schema,
    `INSERT INTO deliveries (kind, subject_id, url, body, status)
     SELECT 'callback', 'subject-' || g, 'http://127.0.0.1:9/', '{}', CASE WHEN g > $1 THEN 'delivered' ELSE 'pending' END
       FROM generate_series(1, $2::int) g`,
    [PENDING, PENDING + DECIDED],
  );
});
afterAll(async () => {
  await s.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

/** Records every ensure and the most calls that were in flight at once. */
function recorder() {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const track = async (key: string) => {
    calls.push(key);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
  };
  return {
    calls,
    maxInFlight: () => maxInFlight,
    timers: {
      ensureAll: async (timers: readonly TimerToEnsure[]) => {
        await Promise.all(timers.map((t) => track(`${t.kind}:${t.approvalId}`)));
        return 0;
      },
    },
    deliveryQueue: { ensure: (id: string) => track(`delivery:${id}`) },
  };
}

describe("reconcile in keyset pages", () => {
  it("ensures each pending approval's timer and each pending delivery exactly once, reading no whole list", async () => {
    const seen = recorder();
    const noWholeList = async () => {
      throw new Error("read every pending row at once");
    };
    const report = await reconcile({
      approvals: { get: s.approvals.get, listPending: noWholeList },
      deliveries: { listPending: noWholeList },
      pages: createPendingPages(s.db),
      pageSize: PAGE,
      timers: seen.timers,
      deliveryQueue: seen.deliveryQueue,
    });

    expect(report).toMatchObject({ pendingApprovals: PENDING, timersEnsured: PENDING, deliveriesEnsured: PENDING });
    const timers = seen.calls.filter((c) => c.startsWith("deadline:"));
    expect(timers.sort()).toEqual(pendingIds.map((id) => `deadline:${id}`).sort());
    const deliveryIds = seen.calls.filter((c) => c.startsWith("delivery:")).map((c) => Number(c.split(":")[1]));
    expect(deliveryIds.sort((a, b) => a - b)).toEqual(Array.from({ length: PENDING }, (_, i) => i + 1));
    // A page's calls go out together (pipelined), never more than one page of them.
    expect(seen.maxInFlight()).toBeGreaterThan(1);
    expect(seen.maxInFlight()).toBeLessThanOrEqual(PAGE);
  });

  it("skips an approval decided after its page of ids was read", async () => {
    const seen = recorder();
    const [decidedMeanwhile] = [...pendingIds].sort();
    const pages = createPendingPages(s.db);
    const report = await reconcile({
      approvals: {
        // The first id is decided between the page's read and its rows' read.
        get: async (id) => {
          const approval = await s.approvals.get(id);
          return approval && id === decidedMeanwhile ? { ...approval, status: "cancelled" } : approval;
        },
        listPending: s.approvals.listPending,
      },
      deliveries: s.deliveries,
      pages,
      pageSize: PAGE,
      timers: seen.timers,
      deliveryQueue: seen.deliveryQueue,
    });
    expect(report.pendingApprovals).toBe(PENDING - 1);
    expect(seen.calls).not.toContain(`deadline:${decidedMeanwhile}`);
  });

  it("waits for each page's announcements to go out before reading the next page", async () => {
    const log: string[] = [];
    await reconcile({
      approvals: s.approvals,
      deliveries: s.deliveries,
      pages: createPendingPages(s.db),
      pageSize: PAGE,
      timers: { ensureAll: async () => 0 },
      deliveryQueue: { ensure: async () => undefined },
      cards: {
        listCardRefs: async () => [], // shown nowhere: announced again
        announce: async (approval) => void log.push(approval.id),
        settle: async () => {
          await new Promise((r) => setTimeout(r, 5));
          log.push("settled");
        },
      },
    });
    const settledAt = log.flatMap((entry, i) => (entry === "settled" ? [i] : []));
    // 10 announcements, settled, 10 more, settled, the last 5, settled.
    expect(settledAt).toEqual([PAGE, 2 * PAGE + 1, PENDING + 2]);
  });
});
