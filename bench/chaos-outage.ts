/**
 * Dependency outages: Redis stopped for 30 s, PostgreSQL stopped for a few seconds under
 * ~75 creates/s. What clients see while it is down, and what is stored once it is back.
 */
import { startFakeBotApi } from "../test/fakes/fake-bot-api.js";
import { countBy, loadRows } from "./chaos-crash.js";
import { type ChaosContext, type ChaosResult, check, secondsSince } from "./chaos-report.js";
import { call, type CallResult, sleep, startSignoffOnTelegram, startSignoffProcess } from "./chaos-signoff.js";

interface Timed extends CallResult {
  at: number;
}

/** Poll `/api/health` every `everyMs` until `stop()` is called. */
function pollHealth(url: string, everyMs = 250) {
  const seen: Timed[] = [];
  let on = true;
  const done = (async () => {
    while (on) {
      const at = Date.now();
      seen.push({ ...(await call(url, "GET", "/api/health", { token: null, timeoutMs: 5_000 })), at });
      await sleep(everyMs);
    }
  })();
  return {
    seen,
    stop: async () => {
      on = false;
      await done;
    },
  };
}

/**
 * Redis down 30 s: health 503 within 2 s and 200 again on its own; creates answer 201 within
 * 5 s; a low request created meanwhile is not approved by its objection window; nothing lost.
 */
export async function scenarioRedisDown(ctx: ChaosContext, downSeconds = 30): Promise<ChaosResult> {
  const t0 = performance.now();
  // Operators on (fake) Telegram, whose sends go through Redis like in production: while Redis is
  // down no notice can reach anyone. (The web chat is delivered in-process; see test/chaos.)
  const telegram = await startFakeBotApi();
  const p = await startSignoffOnTelegram(ctx, telegram);
  try {
    const before = await call(p.url, "GET", "/api/health", { token: null });
    const health = pollHealth(p.url);
    await sleep(500);
    const stoppedAt = Date.now();
    await ctx.redis.stop();
    const creates: Array<Timed & { gate: string }> = [];
    const inFlight: Promise<void>[] = [];
    for (let i = 0; Date.now() < stoppedAt + downSeconds * 1000; i++) {
      const gate = i % 3 === 0 ? "low" : "medium";
      const at = Date.now();
      inFlight.push(
        call(p.url, "POST", "/api/approvals", {
          body: {
            title: `while redis down ${String(i).padStart(3, "0")}`,
            gate,
            objectionSeconds: 3,
            deadlineSeconds: 600,
          },
          timeoutMs: 10_000,
        }).then((r) => void creates.push({ ...r, at, gate })),
      );
      await sleep(1_500); // 20 requests: Telegram then shows them at ≤ 1 message/s per chat
    }
    await Promise.all(inFlight);
    const startedAt = Date.now();
    await ctx.redis.start();
    let healthyAt: number | null = null;
    const end = Date.now() + 30_000;
    while (!healthyAt && Date.now() < end) {
      await sleep(100);
      healthyAt = health.seen.find((h) => h.at >= startedAt && h.status === 200)?.at ?? null;
    }
    // Give the low requests their window (3 s), and Telegram time to show every card at its pace.
    await sleep(5_000);
    const titles = creates.filter((c) => c.status === 201).map((c) => c.body.title as string);
    const shownBy = Date.now() + titles.length * 1_200 + 10_000;
    const unshown = () => {
      const shown = telegram
        .sent(1001)
        .map((m) => m.text)
        .join("\n");
      return titles.filter((t) => !shown.includes(t)).length;
    };
    while (unshown() > 0 && Date.now() < shownBy) await sleep(250);
    const allShownAfter = (Date.now() - startedAt) / 1000;
    await health.stop();

    const whileDown = health.seen.filter((h) => h.at >= stoppedAt + 1_000 && h.at + h.ms < startedAt);
    const firstDown = health.seen.find((h) => h.at >= stoppedAt && h.status === 503);
    const ok = creates.filter((c) => c.status === 201);
    const ids = ok.map((c) => c.body.id as string);
    const rows = await loadRows(p, ids);
    const lowIds = new Set(ok.filter((c) => c.gate === "low").map((c) => c.body.id as string));
    const lowRows = rows.filter((r) => lowIds.has(r.id));
    const windowApproved = lowRows.filter((r) => r.decided_by === "objection-window");
    // The rule is "no one can object to what they never saw": a window may only end in approval
    // when its notice was delivered (the web chat is delivered in-process, without Redis).
    const unseenApproved = windowApproved.filter((r) => !r.notice_delivered_at).length;
    const noticeDelivered = lowRows.filter((r) => r.notice_delivered_at).length;
    const escalated = lowRows.filter((r) => r.effective_gate === "medium" && r.escalated_entries > 0).length;
    const pendingMedium = rows.filter((r) => r.status === "pending" && r.effective_gate !== "low");
    const notShown = unshown();
    const missingTimers = (
      await Promise.all(
        pendingMedium.map(async (r) =>
          (await ctx.redis.command("ZSCORE", `${p.schema}:timer-set:due`, `deadline:${r.id}`)) !== null ||
          (await ctx.redis.command("ZSCORE", `${p.schema}:timer-set:claimed`, `deadline:${r.id}`)) !== null
            ? 0
            : 1,
        ),
      )
    ).reduce<number>((n, x) => n + x, 0);
    return {
      name: "redis-down",
      checks: [
        check("health 200 before the outage", before.status, before.status === 200),
        check(
          "stop → first 503 (s)",
          firstDown ? (firstDown.at + firstDown.ms - stoppedAt) / 1000 : -1,
          Boolean(firstDown) && firstDown!.at + firstDown!.ms - stoppedAt <= 2_000,
        ),
        check(
          "health while down: all 503",
          `${whileDown.filter((h) => h.status === 503).length}/${whileDown.length}`,
          whileDown.length > 0 && whileDown.every((h) => h.status === 503),
        ),
        check(
          "health while down: slowest answer ≤ 2 s (ms)",
          Math.max(0, ...whileDown.map((h) => h.ms)),
          whileDown.every((h) => h.status !== 0 && h.ms <= 2_000),
        ),
        check(
          "Redis back → health 200 on its own (s)",
          healthyAt ? (healthyAt - startedAt) / 1000 : -1,
          healthyAt !== null,
        ),
        check(
          "creates while down answered 201",
          `${ok.length}/${creates.length}`,
          creates.length > 0 && ok.length === creates.length,
        ),
        check(
          "creates while down: slowest ≤ 5 s (ms)",
          Math.max(0, ...creates.map((c) => c.ms)),
          creates.every((c) => c.status !== 0 && c.ms <= 5_000),
        ),
        check("acknowledged (201) missing from PostgreSQL = 0", ids.length - rows.length, rows.length === ids.length),
        check(
          "low made while down: window-approved, notice undelivered = 0",
          `${unseenApproved}/${lowRows.length}`,
          lowRows.length > 0 && unseenApproved === 0,
        ),
        check("low made while down: notice delivered (info)", `${noticeDelivered}/${lowRows.length}`, null),
        check(
          "low made while down: approved by objection-window (info)",
          `${windowApproved.length}/${lowRows.length}`,
          null,
        ),
        check(
          "low made while down, notice undelivered → medium (audited)",
          `${escalated}/${lowRows.length - noticeDelivered}`,
          lowRows.length > 0 && escalated === lowRows.length - noticeDelivered,
        ),
        check(
          "pending medium with no timer once Redis is back = 0",
          `${missingTimers}/${pendingMedium.length}`,
          pendingMedium.length > 0 && missingTimers === 0,
        ),
        check(
          "acknowledged while down and never shown on Telegram = 0",
          `${notShown}/${ok.length}`,
          ok.length > 0 && notShown === 0,
        ),
        check("Redis back → every card or notice on Telegram (s) (info)", allShownAfter, null),
      ],
      numbers: {
        downSeconds,
        creates: countBy(creates.map((c) => c.status)),
        healthWhileDown: countBy(whileDown.map((h) => h.status)),
        lowOutcomes: countBy(lowRows.map((r) => `${r.status}/${r.decided_by ?? "-"}/${r.effective_gate}`)),
      },
      seconds: secondsSince(t0),
    };
  } finally {
    if (!ctx.redis.running()) await ctx.redis.start();
    await p.remove();
    await telegram.close();
  }
}

/**
 * PostgreSQL out under ~75 creates/s, three times (two clean stops, one kill -9 with crash
 * recovery): 503 + Retry-After (never 500) while down, 201 again after; every 201 stored;
 * the process stays up throughout.
 */
export async function scenarioPostgresRestart(ctx: ChaosContext): Promise<ChaosResult> {
  const t0 = performance.now();
  const p = await startSignoffProcess({ postgres: ctx.postgres, redis: ctx.redis });
  try {
    const rate = 75;
    const calls: Array<Timed & { title: string }> = [];
    const inFlight: Promise<void>[] = [];
    const loadStart = Date.now();
    const outages: Array<{ how: "stop" | "kill"; from: number; to: number }> = [];
    let outagesDone = 0;
    const outage = (async () => {
      for (const [how, downMs] of [
        ["stop", 4_000],
        ["kill", 2_000],
        ["stop", 2_000],
      ] as const) {
        await sleep(3_000);
        const from = Date.now();
        if (how === "stop") await ctx.postgres.stop("fast");
        else await ctx.postgres.kill();
        await sleep(downMs);
        await ctx.postgres.start();
        outages.push({ how, from, to: Date.now() });
      }
      outagesDone = Date.now();
    })();
    // The load runs on for 4 s after the last outage, to see it served normally again.
    for (let i = 0; !outagesDone || Date.now() < outagesDone + 4_000; i++) {
      const title = `pg load ${i}`;
      const at = Date.now();
      inFlight.push(
        call(p.url, "POST", "/api/approvals", { body: { title, gate: "medium" }, timeoutMs: 15_000 }).then(
          (r) => void calls.push({ ...r, at, title }),
        ),
      );
      await sleep(Math.max(0, loadStart + ((i + 1) * 1000) / rate - Date.now()));
    }
    await Promise.all([outage, ...inFlight]);
    const ok = calls.filter((c) => c.status === 201);
    const { rows } = await p.pool.query<{ title: string }>("SELECT title FROM approvals WHERE title LIKE 'pg load %'");
    const stored = new Set(rows.map((r) => r.title));
    const lost = ok.filter((c) => !stored.has(c.title)).length;
    const errors = calls.filter((c) => c.status !== 201);
    const writtenAnyway = errors.filter((c) => stored.has(c.title)).length;
    const during = calls.filter((c) => outages.some((o) => c.at >= o.from && c.at < o.to));
    const after = calls.filter((c) => c.at >= outagesDone + 2_000);
    const served = calls.length / ((Date.now() - loadStart) / 1000);
    return {
      name: "pg-restart",
      checks: [
        check("offered load (creates/s)", served, served >= 60),
        check(
          "process up through 3 outages (2 stops, 1 kill -9)",
          p.alive() ? "up" : p.lastExit().slice(0, 60),
          p.alive(),
        ),
        check(
          "500 answers = 0",
          calls.filter((c) => c.status === 500).length,
          calls.every((c) => c.status !== 500),
        ),
        check(
          "no answer at all (reset, refused, timeout) = 0",
          calls.filter((c) => c.status === 0).length,
          calls.every((c) => c.status !== 0),
        ),
        check(
          "while down: answers other than 503/201",
          during.filter((c) => c.status !== 503 && c.status !== 201).length,
          during.length > 0 && during.every((c) => c.status === 503 || c.status === 201),
        ),
        check(
          "503 without Retry-After = 0",
          calls.filter((c) => c.status === 503 && !c.headers?.get("retry-after")).length,
          calls.every((c) => c.status !== 503 || Boolean(c.headers?.get("retry-after"))),
        ),
        check(
          "2 s after the last return: all 201",
          `${after.filter((c) => c.status === 201).length}/${after.length}`,
          after.length > 0 && after.every((c) => c.status === 201),
        ),
        check("acknowledged (201) missing from PostgreSQL = 0", lost, lost === 0),
        check("errors answered yet stored anyway (info)", writtenAnyway, null),
        check("slowest answer (ms) (info)", Math.max(...calls.map((c) => c.ms)), null),
      ],
      numbers: {
        outages,
        calls: calls.length,
        statuses: countBy(calls.map((c) => c.status)),
        whileDown: countBy(during.map((c) => c.status)),
        errorsSample: errors.slice(0, 3).map((e) => e.error ?? JSON.stringify(e.body).slice(0, 120)),
        exit: p.alive() ? null : p.lastExit(),
      },
      seconds: secondsSince(t0),
    };
  } finally {
    if (!(await ctx.postgres.running())) await ctx.postgres.start();
    await p.remove();
  }
}
