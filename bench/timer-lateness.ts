/**
 * 10,000 low-gate approvals whose objection windows end spread over 10 s: how late is each
 * decision (decidedAt − objectionEndsAt)? The whole pipeline runs: BullMQ delayed job → worker →
 * state machine → compare-and-set + audit in PostgreSQL → card refresh queued.
 */
import { Queue } from "bullmq";
import pg from "pg";
import { OUTBOX_QUEUE } from "../src/jobs/outbox-queue.js";
import { cleanupTestInstance, startTestSignoff, DATABASE_URL, REDIS_URL } from "../test/helpers/harness.js";
import type { BenchResult } from "./run.js";
import { percentile, runPool } from "./stats.js";

const COUNT = Number(process.env.BENCH_TIMER_COUNT ?? 10_000);
const SPREAD_MS = 10_000;

export async function benchTimerLateness(): Promise<BenchResult> {
  const s = await startTestSignoff({
    file: { operators: [{ name: "adam", roles: ["owner", "approver"] }] },
    timerConcurrency: 100,
  });
  try {
    // Windows start ending well after creation (and the 10,000 notices it queues) finishes, so
    // what is measured is the timers under the load of the decisions themselves.
    const createStart = Date.now();
    const firstDue = createStart + 35_000;
    await runPool(COUNT, 32, async (i) => {
      const due = firstDue + (i * SPREAD_MS) / COUNT;
      await s.service.create("bench", {
        title: `bench ${i}`,
        gate: "low",
        objectionSeconds: (due - Date.now()) / 1000,
      });
    });
    const createMs = Date.now() - createStart;
    if (Date.now() > firstDue)
      throw new Error(`creation took ${createMs} ms, past the first window; lower BENCH_TIMER_COUNT`);
    const outbox = new Queue(OUTBOX_QUEUE, { connection: { url: REDIS_URL }, prefix: s.prefix });
    while ((await outbox.getWaitingCount()) + (await outbox.getActiveCount()) > 0 && Date.now() < firstDue - 1000) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const backlogAtFirstDue = (await outbox.getWaitingCount()) + (await outbox.getActiveCount());
    await outbox.close();

    const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${s.schema}` });
    await client.connect();
    try {
      for (;;) {
        const { rows } = await client.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM approvals WHERE status = 'pending'",
        );
        if (rows[0]!.n === 0) break;
        if (Date.now() > firstDue + SPREAD_MS + 60_000) throw new Error(`${rows[0]!.n} approvals never decided`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const { rows } = await client.query<{ late: number; decided_by: string }>(
        "SELECT extract(epoch FROM (decided_at - objection_ends_at)) * 1000 AS late, decided_by FROM approvals",
      );
      const lateness = rows.map((r) => Number(r.late));
      if (process.env.BENCH_DEBUG) {
        const { rows: perSecond } = await client.query(
          `SELECT floor(extract(epoch FROM objection_ends_at - $1::timestamptz))::int AS s, count(*)::int AS n,
                  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - objection_ends_at) * 1000)) AS p50,
                  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - objection_ends_at) * 1000)) AS p99
             FROM approvals GROUP BY 1 ORDER BY 1`,
          [new Date(firstDue)],
        );
        process.stdout.write(`${JSON.stringify(perSecond)}\n`);
      }
      const byWindow = rows.filter((r) => r.decided_by === "objection-window").length;
      const metrics = {
        approvals: rows.length,
        decidedByWindow: byWindow,
        createPerSecond: COUNT / (createMs / 1000),
        outboxBacklogAtFirstDue: backlogAtFirstDue,
        latenessP50Ms: percentile(lateness, 50),
        latenessP99Ms: percentile(lateness, 99),
        latenessMaxMs: Math.max(...lateness),
      };
      return {
        name: "timers",
        metrics,
        targets: { latenessP99Ms: "≤ 50", latenessMaxMs: "≤ 250", decidedByWindow: `= ${COUNT}` },
        met: metrics.latenessP99Ms <= 50 && metrics.latenessMaxMs <= 250 && byWindow === COUNT,
      };
    } finally {
      await client.end();
    }
  } finally {
    await s.close();
    await cleanupTestInstance(s.schema, s.prefix);
  }
}
