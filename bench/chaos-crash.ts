/**
 * Crash scenarios: kill -9 with 1,000 objection windows open, FLUSHALL of Redis with timers
 * pending, and SIGTERM under load or with a callback receiver that never answers.
 */
import { type ChaosContext, type ChaosResult, check, secondsSince } from "./chaos-report.js";
import { call, inParallel, sleep, startReceiver, startSignoffProcess, type SignoffProcess } from "./chaos-signoff.js";

interface Row {
  id: string;
  status: string;
  decided_by: string | null;
  decided_at: Date | null;
  due_at: Date | null;
  effective_gate: string;
  /** Null also on code that predates notice tracking. */
  notice_delivered_at: string | null;
  created_at: Date;
  decided_entries: number;
  escalated_entries: number;
  escalated_at: Date | null;
}

/** The approvals with these ids, their due time (deadline or objection end) and how often they were decided. */
export async function loadRows(p: SignoffProcess, ids: string[]): Promise<Row[]> {
  const { rows } = await p.pool.query<Row>(
    `SELECT a.id, a.status, a.decided_by, a.decided_at, a.effective_gate, a.created_at,
            CASE WHEN a.effective_gate = 'low' THEN a.objection_ends_at ELSE a.deadline_at END AS due_at,
            to_jsonb(a) ->> 'notice_delivered_at' AS notice_delivered_at,
            (SELECT count(*)::int FROM audit_log l WHERE l.subject = a.id::text AND l.action = 'approval.decided') AS decided_entries,
            (SELECT count(*)::int FROM audit_log l WHERE l.subject = a.id::text AND l.action = 'approval.escalated') AS escalated_entries,
            (SELECT max(l.at) FROM audit_log l WHERE l.subject = a.id::text AND l.action = 'approval.escalated') AS escalated_at
       FROM approvals a WHERE a.id = ANY($1::uuid[])`,
    [ids],
  );
  return rows;
}

/** A `low` window is over when its request is decided, or escalated to medium (its notice reached nobody in time). */
const windowOver = (r: Row) => r.status !== "pending" || (r.effective_gate === "medium" && r.escalated_entries > 0);
const isDecided = (r: Row) => r.status !== "pending";

async function untilDecided(
  p: SignoffProcess,
  ids: string[],
  timeoutMs: number,
  settled: (r: Row) => boolean = isDecided,
): Promise<Row[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const rows = await loadRows(p, ids).catch(() => null);
    if (rows && rows.length === ids.length && rows.every(settled)) return rows;
    if (Date.now() > end) return rows ?? [];
    await sleep(250);
  }
}

async function createMany(
  p: SignoffProcess,
  count: number,
  body: (i: number) => Record<string, unknown>,
  concurrency = 25,
): Promise<{ ids: string[]; failed: number }> {
  const ids: string[] = [];
  let failed = 0;
  await inParallel(count, concurrency, async (i) => {
    const r = await call(p.url, "POST", "/api/approvals", { body: body(i), timeoutMs: 10_000 });
    if (r.status === 201) ids.push(r.body.id as string);
    else failed++;
  });
  return { ids, failed };
}

/**
 * kill -9 with 1,000 low windows open → restart → each window ends exactly once (approved, or
 * escalated to medium when its notice had not reached anyone in time), within 15 s of the
 * restart; callbacks counted by `X-Signoff-Delivery`.
 */
export async function scenarioKill9(ctx: ChaosContext): Promise<ChaosResult> {
  const t0 = performance.now();
  // A receiver that takes 100 ms per callback keeps ~20 deliveries in flight when the kill lands.
  const receiver = await startReceiver({ delayMs: 100 });
  const windowSeconds = 5;
  const p = await startSignoffProcess({ postgres: ctx.postgres, redis: ctx.redis });
  try {
    const createdAt = Date.now();
    const { ids, failed } = await createMany(p, 1_000, (i) => ({
      title: `crash window ${i}`,
      gate: "low",
      objectionSeconds: windowSeconds,
      callbackUrl: receiver.url,
    }));
    ctx.log(`kill9: created ${ids.length} in ${((Date.now() - createdAt) / 1000).toFixed(1)} s`);
    // Kill as the first windows end, so some timers and callbacks are mid-flight.
    await sleep(Math.max(0, createdAt + windowSeconds * 1000 + 300 - Date.now()));
    await p.kill9();
    const decidedBeforeKill = (await loadRows(p, ids)).filter((r) => r.status !== "pending").length;
    const restartAt = Date.now();
    await p.start();
    const rows = await untilDecided(p, ids, 40_000, windowOver); // past 15 s only to show how late
    const waitCallbacksUntil = Date.now() + 10_000;
    const decided = rows.filter(isDecided);
    while (
      Date.now() < waitCallbacksUntil &&
      new Set(receiver.received.map((r) => JSON.parse(r.body).id)).size < decided.length
    )
      await sleep(250);
    const escalated = rows.filter((r) => !isDecided(r) && windowOver(r));
    const over = rows.filter(windowOver);
    // When each window ended (decision or escalation), relative to its due time or the restart.
    const endedAt = (r: Row) => (isDecided(r) ? r.decided_at! : r.escalated_at!).getTime();
    const late = over.map((r) => (endedAt(r) - Math.max(r.due_at?.getTime() ?? 0, restartAt)) / 1000);
    const calledBack = new Set(receiver.received.map((r) => JSON.parse(r.body).id as string));
    const counts = receiver.counts();
    const withoutHeader = receiver.received.filter((r) => !r.delivery).length;
    const repeatsByDelivery =
      receiver.received.length - withoutHeader - [...counts.byId.keys()].filter((id) => id !== "(none)").length;
    const repeatsByApproval = receiver.received.length - calledBack.size;
    const once = rows.filter((r) => r.decided_entries + r.escalated_entries === 1 && windowOver(r)).length;
    const many = rows.filter((r) => r.decided_entries > 1 || r.escalated_entries > 1).length;
    const unseenApproved = decided.filter((r) => r.decided_by === "objection-window" && !r.notice_delivered_at).length;
    const lastEnd = Math.max(...over.map(endedAt), restartAt);
    const lag = rows
      .filter((r) => r.notice_delivered_at)
      .map((r) => (new Date(r.notice_delivered_at!).getTime() - r.created_at.getTime()) / 1000);
    return {
      name: "kill9",
      checks: [
        check("1,000 low requests acknowledged (201)", ids.length, ids.length === 1_000 && failed === 0),
        check("decided before the kill (info)", decidedBeforeKill, null),
        check(
          "each window ended exactly once (one decision or escalation)",
          `${once}/${ids.length}`,
          once === ids.length,
        ),
        check("decided or escalated more than once = 0", many, many === 0),
        check(
          "approved by objection-window (info)",
          decided.filter((r) => r.decided_by === "objection-window").length,
          null,
        ),
        check("escalated to medium, notice not delivered in time (info)", escalated.length, null),
        check("approved by window with no delivered notice = 0", unseenApproved, unseenApproved === 0),
        check("windows still open 40 s after restart = 0", ids.length - over.length, over.length === ids.length),
        check(
          "latest window end ≤ 15 s after restart (s)",
          late.length ? Math.max(...late) : -1,
          over.length === ids.length && Math.max(...late) <= 15,
        ),
        check("restart → last window end (s)", (lastEnd - restartAt) / 1000, null),
        check("notice delivered after create, slowest (s) (info)", lag.length ? Math.max(...lag) : -1, null),
        check(
          "decided requests with no callback = 0",
          decided.filter((r) => !calledBack.has(r.id)).length,
          decided.length > 0 && decided.every((r) => calledBack.has(r.id)),
        ),
        check(
          "callbacks without X-Signoff-Delivery = 0",
          `${withoutHeader}/${receiver.received.length}`,
          withoutHeader === 0,
        ),
        check("repeats of one X-Signoff-Delivery (allowed) (info)", repeatsByDelivery, null),
        check("callback repeats of one approval (info)", repeatsByApproval, null),
        check(
          "one X-Signoff-Delivery per approval (repeats reuse it)",
          `${counts.distinct} ids / ${calledBack.size} approvals`,
          withoutHeader === 0 && counts.distinct === calledBack.size,
        ),
      ],
      numbers: {
        stuck: rows.filter((r) => !windowOver(r)).slice(0, 5),
        escalatedSample: escalated.slice(0, 2),
        created: ids.length,
        decidedBeforeKill,
        restartSeconds: p.startTimes.at(-1),
        callbackRequests: counts.requests,
        callbackDistinct: counts.distinct,
        repeatsByDelivery,
        repeatsByApproval,
        withoutHeader,
      },
      seconds: secondsSince(t0),
    };
  } finally {
    await p.remove();
    await receiver.close();
  }
}

/** FLUSHALL while medium and low timers wait → none lost, each ≤ 30 s late; health noted. */
export async function scenarioFlushall(ctx: ChaosContext): Promise<ChaosResult> {
  const t0 = performance.now();
  const p = await startSignoffProcess({ postgres: ctx.postgres, redis: ctx.redis });
  try {
    const dueSeconds = 6;
    const createdAt = Date.now();
    const medium = await createMany(p, 200, (i) => ({
      title: `flush medium ${i}`,
      gate: "medium",
      deadlineSeconds: dueSeconds,
      onTimeout: "deny",
    }));
    const low = await createMany(p, 200, (i) => ({
      title: `flush low ${i}`,
      gate: "low",
      objectionSeconds: dueSeconds,
    }));
    const ids = [...medium.ids, ...low.ids];
    const flushedAt = Date.now();
    await ctx.redis.command("FLUSHALL");
    const health: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        health.push((await call(p.url, "GET", "/api/health", { token: null, timeoutMs: 3_000 })).status);
        await sleep(250);
      }
    })();
    const rows = await untilDecided(p, ids, dueSeconds * 1000 + 32_000);
    polling = false;
    await poller;
    const decided = rows.filter((r) => r.status !== "pending");
    const late = decided.map((r) => (r.decided_at!.getTime() - r.due_at!.getTime()) / 1000);
    const lost = ids.length - decided.length;
    return {
      name: "flushall",
      checks: [
        check("400 timers acknowledged (200 medium, 200 low)", ids.length, ids.length === 400),
        check("timers lost after FLUSHALL (not fired by due + 30 s) = 0", lost, lost === 0),
        check(
          "latest timer ≤ 30 s late (s)",
          late.length ? Math.max(...late) : -1,
          lost === 0 && Math.max(...late) <= 30,
        ),
        check(
          "decided more than once = 0",
          rows.filter((r) => r.decided_entries > 1).length,
          rows.every((r) => r.decided_entries <= 1),
        ),
        check(
          "health answers 503 after FLUSHALL (info)",
          `${health.filter((s) => s === 503).length}/${health.length} polls 503`,
          null,
        ),
      ],
      numbers: {
        lost,
        firstDueAfterFlushSeconds: (createdAt + dueSeconds * 1000 - flushedAt) / 1000,
        healthStatuses: countBy(health),
      },
      seconds: secondsSince(t0),
    };
  } finally {
    await p.remove();
  }
}

/** SIGTERM under create load and long polls, then with a callback receiver that hangs: exit 0 within 10 s. */
export async function scenarioSigterm(ctx: ChaosContext): Promise<ChaosResult> {
  const t0 = performance.now();
  const checks = [];
  const numbers: Record<string, unknown> = {};
  {
    const p = await startSignoffProcess({ postgres: ctx.postgres, redis: ctx.redis });
    try {
      const pending = await createMany(p, 20, (i) => ({ title: `long poll ${i}`, gate: "medium" }));
      const polls = pending.ids.map((id) => call(p.url, "GET", `/api/approvals/${id}?wait=30`, { timeoutMs: 40_000 }));
      let loading = true;
      const creates: Array<{ at: number; status: number }> = [];
      const sent: Promise<void>[] = [];
      const load = (async () => {
        for (let i = 0; loading; i++) {
          const at = Date.now();
          const body = { title: `load ${i}`, gate: i % 2 ? "medium" : "low", objectionSeconds: 2 };
          sent.push(
            call(p.url, "POST", "/api/approvals", { body, timeoutMs: 15_000 }).then(
              (r) => void creates.push({ at, status: r.status }),
            ),
          );
          await sleep(1000 / 75);
        }
      })();
      await sleep(3_000);
      const termAt = Date.now();
      const exit = await p.terminate(20_000);
      loading = false;
      await load;
      await Promise.all(sent);
      const pollStatuses = (await Promise.all(polls)).map((r) => r.status);
      // Requests sent before the signal were in flight (or queued on a socket): they deserve an answer.
      const cut = creates.filter((c) => c.at < termAt && c.status === 0).length;
      checks.push(check("under load: exit code 0", String(exit.code ?? exit.signal), exit.code === 0));
      checks.push(check("under load: exit within 10 s (ms)", exit.ms, exit.ms <= 10_000));
      checks.push(
        check(
          "under load: 5xx answers other than 503 = 0",
          creates.filter((c) => c.status >= 500 && c.status !== 503).length,
          creates.every((c) => c.status < 500 || c.status === 503),
        ),
      );
      checks.push(check("under load: creates sent before SIGTERM cut without an answer = 0", cut, cut === 0));
      checks.push(
        check(
          "under load: long polls (?wait=30) cut without an answer = 0",
          `${pollStatuses.filter((s) => s === 0).length}/${pollStatuses.length}`,
          pollStatuses.every((s) => s !== 0),
        ),
      );
      numbers.load = { exit, creates: countBy(creates.map((c) => c.status)), longPolls: countBy(pollStatuses) };
    } finally {
      await p.remove();
    }
  }
  {
    const hanging = await startReceiver({ hang: true });
    const p = await startSignoffProcess({
      postgres: ctx.postgres,
      redis: ctx.redis,
      file: { approvals: { callbackTimeoutMs: 10_000, callbackAttempts: 6, callbackBackoffMs: 200 } },
    });
    try {
      await createMany(p, 5, (i) => ({ title: `hung callback ${i}`, gate: "auto", callbackUrl: hanging.url }));
      const end = Date.now() + 10_000;
      while (hanging.received.length === 0 && Date.now() < end) await sleep(50);
      const exit = await p.terminate(20_000);
      checks.push(
        check("hung receiver: callbacks in flight at SIGTERM", hanging.received.length, hanging.received.length > 0),
      );
      checks.push(check("hung receiver: exit code 0", String(exit.code ?? exit.signal), exit.code === 0));
      checks.push(check("hung receiver: exit within 10 s (ms)", exit.ms, exit.ms <= 10_000));
      numbers.hung = { exit, inFlight: hanging.received.length };
    } finally {
      await p.remove();
      await hanging.close();
    }
  }
  return { name: "sigterm", checks, numbers, seconds: secondsSince(t0) };
}

/** Count equal values: `{ "201": 10, "503": 2 }`. */
export function countBy(values: Array<string | number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
