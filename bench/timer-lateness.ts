/**
 * Low-gate approvals (10,000 by default) whose objection windows end spread over 10 s: how late
 * is each decision (decidedAt − objectionEndsAt)? The whole pipeline runs: timer claimed →
 * worker → state machine → compare-and-set + audit in PostgreSQL → card refresh queued. Also the
 * CPU this process (signoff runs in it) spent while the windows ended, per 1,000 decisions.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { cleanupTestInstance, startTestSignoff, DATABASE_URL } from "../test/helpers/harness.js";
import type { ApprovalService } from "../src/handlers/approvals/approval-service.js";
import { cpuSecondsOf } from "./process-watch.js";
import type { BenchResult } from "./run.js";
import { percentile, runPool } from "./stats.js";

/** How many windows end, over how long, and the section's name in the results. */
export interface TimerLatenessOptions {
  name: string;
  count: number;
  spreadMs: number;
  /** Time allowed per create before the first window ends. @defaultValue 1.5 */
  msPerCreate?: number;
}

/** Approvals created before waiting for their notices to be delivered. */
const CREATE_CHUNK = 1000;
/** Timers the worker runs at once; unset, signoff's own default. */
const TIMER_CONCURRENCY = process.env.BENCH_TIMER_CONCURRENCY ? Number(process.env.BENCH_TIMER_CONCURRENCY) : undefined;
/** The servers whose CPU the decisions cost too (as named in /proc). */
const SERVERS = ["postgres", "redis-server"] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DEFAULTS: TimerLatenessOptions = {
  name: "timers",
  count: Number(process.env.BENCH_TIMER_COUNT ?? 10_000),
  spreadMs: 10_000,
};

export async function benchTimerLateness(options: TimerLatenessOptions = DEFAULTS): Promise<BenchResult> {
  const { name, count, spreadMs } = options;
  const s = await startTestSignoff({
    file: { operators: [{ name: "adam", roles: ["owner", "approver"] }] },
    ...(TIMER_CONCURRENCY ? { timerConcurrency: TIMER_CONCURRENCY } : {}),
  });
  const trace = traceTimers(s.service);
  try {
    // Windows start ending well after creation (and the notices it queues: a low window counts
    // from its delivered notice) finishes, so what is measured is the timers under the load of
    // the decisions themselves. 35 s for 10,000 at the default 1.5 ms a create.
    const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${s.schema}` });
    await client.connect();
    try {
      // Web chat notices go out in process, not through the outbox queue: ask PostgreSQL.
      const undelivered = async () =>
        (
          await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM approvals WHERE status = 'pending' AND notice_delivered_at IS NULL",
          )
        ).rows[0]!.n;
      const createStart = Date.now();
      const firstDue = createStart + 20_000 + count * (options.msPerCreate ?? 1.5);
      // In chunks, each once most notices of the one before were delivered: creating faster than
      // notices go out would deliver later ones late, moving their windows' ends later than planned.
      for (let from = 0; from < count; from += CREATE_CHUNK) {
        while ((await undelivered()) > CREATE_CHUNK / 2 && Date.now() < firstDue) await sleep(50);
        await runPool(Math.min(CREATE_CHUNK, count - from), 32, async (j) => {
          const i = from + j;
          const due = firstDue + (i * spreadMs) / count;
          await s.service.create("bench", {
            title: `bench ${i}`,
            gate: "low",
            objectionSeconds: (due - Date.now()) / 1000,
          });
        });
      }
      const createMs = Date.now() - createStart;
      if (Date.now() > firstDue)
        throw new Error(`creation took ${createMs} ms, past the first window; lower the count`);
      while ((await undelivered()) > 0 && Date.now() < firstDue - 1000) await sleep(200);
      const undeliveredAtFirstDue = await undelivered();

      while (Date.now() < firstDue) await sleep(50);
      const cpuAtFirstDue = process.cpuUsage();
      const serversAtFirstDue = cpuSecondsOf(SERVERS);
      const queries = process.env.BENCH_DEBUG ? countQueries() : null;
      const profile = process.env.BENCH_PROFILE ? await startProfile() : null;

      for (;;) {
        const { rows } = await client.query<{ n: number; last_end: Date | null }>(
          "SELECT count(*)::int AS n, max(objection_ends_at) AS last_end FROM approvals WHERE status = 'pending'",
        );
        if (rows[0]!.n === 0) break;
        // A window ends a minute after its planned end at the latest, or later if its notice was late.
        const giveUpAt = Math.max(firstDue + spreadMs, rows[0]!.last_end?.getTime() ?? 0) + 60_000;
        if (Date.now() > giveUpAt) {
          const { rows: left } = await client.query(
            `SELECT effective_gate, notice_delivered_at IS NOT NULL AS notice_delivered, count(*)::int AS n
               FROM approvals WHERE status = 'pending' GROUP BY 1, 2`,
          );
          throw new Error(`${rows[0]!.n} approvals never decided: ${JSON.stringify(left)}`);
        }
        await sleep(250);
      }
      const cpu = process.cpuUsage(cpuAtFirstDue);
      const serversAtEnd = cpuSecondsOf(SERVERS);
      if (profile) process.stdout.write(`CPU profile of the windows' end: ${await profile.stop()}\n`);
      if (queries) process.stdout.write(`queries per 1,000 decisions: ${JSON.stringify(queries.per1000(count))}\n`);
      const { rows } = await client.query<{ id: string; late: number; decided_by: string; ends: Date }>(
        "SELECT id, extract(epoch FROM (decided_at - objection_ends_at)) * 1000 AS late, decided_by, objection_ends_at AS ends FROM approvals",
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
      const busiest = busiestSecond(rows.map((r) => ({ end: r.ends.getTime(), late: Number(r.late) })));
      const byWindow = rows.filter((r) => r.decided_by === "objection-window").length;
      const ends = new Map(rows.map((r) => [r.id, r.ends.getTime()]));
      const stages = trace.stages(ends);
      const metrics = {
        approvals: rows.length,
        decidedByWindow: byWindow,
        createPerSecond: count / (createMs / 1000),
        noticesUndeliveredAtFirstDue: undeliveredAtFirstDue,
        latenessP50Ms: percentile(lateness, 50),
        latenessP99Ms: percentile(lateness, 99),
        latenessMaxMs: extremes(lateness).max,
        // Windows end when each notice was delivered plus its length: the spread they really had.
        windowsEndOverMs: spanOf(rows.map((r) => r.ends.getTime())),
        // The spread stretches when notices arrive late; the busiest whole second shows the peak rate met.
        busiestSecondWindows: busiest.count,
        busiestSecondP99Ms: busiest.p99,
        cpuSecondsPer1000: ((cpu.user + cpu.system) / 1e6 / rows.length) * 1000,
        // The servers' share (everything they did meanwhile, this benchmark's own polling included).
        postgresCpuSecondsPer1000: ((serversAtEnd.postgres! - serversAtFirstDue.postgres!) / rows.length) * 1000,
        redisCpuSecondsPer1000:
          ((serversAtEnd["redis-server"]! - serversAtFirstDue["redis-server"]!) / rows.length) * 1000,
        ...stages,
      };
      return {
        name,
        metrics,
        targets: { latenessP99Ms: "≤ 50", latenessMaxMs: "≤ 250", decidedByWindow: `= ${count}` },
        met: metrics.latenessP99Ms <= 50 && metrics.latenessMaxMs <= 250 && byWindow === count,
      };
    } finally {
      await client.end();
    }
  } finally {
    await s.close();
    await cleanupTestInstance(s.schema, s.prefix);
  }
}

/** The whole second (counted from the first end) in which most windows ended, and their p99 lateness. */
function busiestSecond(windows: Array<{ end: number; late: number }>): { count: number; p99: number } {
  const first = extremes(windows.map((w) => w.end)).min;
  const bySecond = new Map<number, number[]>();
  for (const w of windows) {
    const second = Math.floor((w.end - first) / 1000);
    const lates = bySecond.get(second) ?? [];
    lates.push(w.late);
    bySecond.set(second, lates);
  }
  let most: number[] = [];
  for (const lates of bySecond.values()) if (lates.length > most.length) most = lates;
  return { count: most.length, p99: most.length ? percentile(most, 99) : 0 };
}

/** Smallest and largest, without spreading a long list into arguments. */
function extremes(values: number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

const spanOf = (values: number[]) => {
  const { min, max } = extremes(values);
  return max - min;
};

/**
 * Where a timer's lateness comes from: wraps the service's `fireTimer` (the worker calls it on
 * this object), so each run is seen when the worker picks it up and when its decision is
 * committed; runs that come too early (the window moved when its notice was delivered) count apart.
 */
function traceTimers(service: Pick<ApprovalService, "fireTimer">) {
  const picked = new Map<string, { at: number; ms: number }>();
  let early = 0;
  const fire = service.fireTimer.bind(service);
  service.fireTimer = async (approvalId, kind) => {
    const at = Date.now();
    const result = await fire(approvalId, kind);
    if (result.outcome === "ignored" && result.reason === "timer_not_due") early++;
    else picked.set(approvalId, { at, ms: Date.now() - at });
    return result;
  };
  return {
    /** Due → picked up, picked up → committed, due → committed, and early runs, given each real end. */
    stages(ends: ReadonlyMap<string, number>) {
      const wait: number[] = [];
      const run: number[] = [];
      const committed: number[] = [];
      for (const [id, p] of picked) {
        const end = ends.get(id);
        if (end === undefined) continue;
        wait.push(p.at - end);
        run.push(p.ms);
        committed.push(p.at + p.ms - end);
      }
      return {
        pickedLateP50Ms: percentile(wait, 50),
        pickedLateP99Ms: percentile(wait, 99),
        fireMsP50: percentile(run, 50),
        fireMsP99: percentile(run, 99),
        // decided_at is taken before the commit: this is when the decision really took effect.
        committedLateP99Ms: percentile(committed, 99),
        earlyRuns: early,
      };
    },
  };
}

/** A V8 CPU profile of this process from now until `stop`, which writes it and names the file. */
async function startProfile() {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      const file = join(tmpdir(), `signoff-timers-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      return file;
    },
  };
}

/** Counts the SQL statements every client of this process sends from now on, by their first words. */
function countQueries() {
  const counts = new Map<string, number>();
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; name?: string };
    const text = typeof first === "string" ? first : (first.name ?? first.text ?? "?");
    const key = text.replace(/\s+/g, " ").trim().slice(0, 70);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return {
    per1000(decisions: number) {
      pg.Client.prototype.query = original;
      return Object.fromEntries(
        [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, Math.round((n / decisions) * 1000)]),
      );
    },
  };
}
