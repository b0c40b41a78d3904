/**
 * Digests: 08:00 on the operator's wall clock on both sides of a DST change (Pacific/
 * Auckland, Europe/Berlin), computed by our schedule code and by BullMQ's job scheduler alike;
 * schedulers follow the config across restarts; a digest missed while signoff was down is sent
 * once on start within the grace window, never twice, and not at all after it.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { CronExpressionParser } from "cron-parser";
import { digestSlotAt } from "../../src/handlers/digests/digest-schedule.js";
import { createOpsQueue } from "../../src/jobs/ops-queue.js";
import { REDIS_URL, api, cleanupTestInstance, eventually, uniqueName } from "../helpers/harness.js";
import { type OpsSignoff, botMessages, settle, startOpsSignoff, testClock } from "./chatops-harness.js";

/** The next `count` fire times of a cron in a timezone: what the digest schedule must match. */
function nextDigestRuns(cron: string, timezone: string, from: Date, count: number): Date[] {
  const interval = CronExpressionParser.parse(cron, { currentDate: from, tz: timezone });
  return Array.from({ length: count }, () => interval.next().toDate());
}

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe("digest schedule", () => {
  it("Pacific/Auckland: 08:00 local on both sides of the April 2026 DST end (NZDT +13 → NZST +12)", () => {
    expect(iso(nextDigestRuns("0 8 * * *", "Pacific/Auckland", new Date("2026-04-02T12:00:00Z"), 4))).toEqual([
      "2026-04-02T19:00:00.000Z", // Fri 3 Apr 08:00 NZDT
      "2026-04-03T19:00:00.000Z", // Sat 4 Apr 08:00 NZDT
      "2026-04-04T20:00:00.000Z", // Sun 5 Apr 08:00 NZST (clocks went back at 03:00)
      "2026-04-05T20:00:00.000Z",
    ]);
  });

  it("Pacific/Auckland: and across the September 2026 DST start (NZST → NZDT)", () => {
    expect(iso(nextDigestRuns("0 8 * * *", "Pacific/Auckland", new Date("2026-09-25T12:00:00Z"), 3))).toEqual([
      "2026-09-25T20:00:00.000Z", // Sat 26 Sep 08:00 NZST
      "2026-09-26T19:00:00.000Z", // Sun 27 Sep 08:00 NZDT (clocks went forward at 02:00)
      "2026-09-27T19:00:00.000Z",
    ]);
  });

  it("Europe/Berlin: weekdays at 07:30 local across the March 2026 change (CET → CEST)", () => {
    expect(iso(nextDigestRuns("30 7 * * 1-5", "Europe/Berlin", new Date("2026-03-26T12:00:00Z"), 3))).toEqual([
      "2026-03-27T06:30:00.000Z", // Fri 07:30 CET
      "2026-03-30T05:30:00.000Z", // Mon 07:30 CEST (the weekend is skipped)
      "2026-03-31T05:30:00.000Z",
    ]);
  });

  it("a run slightly early or hours late belongs to its slot", () => {
    const slot = new Date("2026-04-04T20:00:00Z");
    expect(digestSlotAt("0 8 * * *", "Pacific/Auckland", new Date(slot.getTime() - 30_000))).toEqual(slot);
    expect(digestSlotAt("0 8 * * *", "Pacific/Auckland", new Date(slot.getTime() + 3 * 3_600_000))).toEqual(slot);
  });

  it("BullMQ's job scheduler computes the same times from the same cron and tz", async () => {
    const prefix = uniqueName("q");
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const ops = createOpsQueue(redis, prefix);
    cleanups.push(async () => {
      await ops.queue.close();
      await redis.quit();
      await cleanupTestInstance(uniqueName("none"), prefix);
    });
    // What signoff registers: the next run is what our schedule code says.
    await ops.sync(
      [
        { operator: "adam", cron: "0 8 * * *", timezone: "Pacific/Auckland" },
        { operator: "eve", cron: "30 7 * * 1-5", timezone: "Europe/Berlin" },
      ],
      [],
    );
    const now = Date.now();
    for (const [id, cron, tz] of [
      ["digest:adam", "0 8 * * *", "Pacific/Auckland"],
      ["digest:eve", "30 7 * * 1-5", "Europe/Berlin"],
    ] as const) {
      const scheduler = (await ops.queue.getJobScheduler(id))!;
      expect(scheduler).toMatchObject({ pattern: cron, tz });
      expect(scheduler.next).toBe(nextDigestRuns(cron, tz, new Date(now - 5_000), 1)[0]!.getTime());
    }
    // And on both sides of a DST change (NZ, April 2030), from fixed start dates.
    for (const [start, next] of [
      ["2030-04-05T12:00:00Z", "2030-04-05T19:00:00.000Z"],
      ["2030-04-06T12:00:00Z", "2030-04-06T20:00:00.000Z"],
    ] as const) {
      await ops.queue.upsertJobScheduler(
        `dst-${start}`,
        { pattern: "0 8 * * *", tz: "Pacific/Auckland", startDate: start },
        { name: "digest", data: { kind: "digest", operator: "x" } },
      );
      expect(new Date((await ops.queue.getJobScheduler(`dst-${start}`))!.next!).toISOString()).toBe(next);
      expect(nextDigestRuns("0 8 * * *", "Pacific/Auckland", new Date(start), 1)[0]!.toISOString()).toBe(next);
    }
  });
});

describe("schedulers follow the config", () => {
  it("a restart with another config re-creates changed schedules and removes dropped ones", async () => {
    const first = await startOpsSignoff({
      file: {
        operators: [
          { name: "adam", roles: ["owner"], timezone: "Pacific/Auckland", digest: "0 8 * * *" },
          { name: "eve", roles: ["approver"], timezone: "Europe/Berlin", digest: true },
        ],
        healthChecks: [{ name: "db", tcp: "127.0.0.1:5432", everySeconds: 3600 }],
      },
    });
    const { schema, prefix } = first;
    cleanups.push(() => cleanupTestInstance(schema, prefix));
    const schedulers = async (s: OpsSignoff) =>
      (await s.ops.queue.queue.getJobSchedulers())
        .map((j) => ({ key: j.key, pattern: j.pattern, tz: j.tz, every: j.every }))
        .sort((a, b) => a.key.localeCompare(b.key));
    expect(await schedulers(first)).toEqual([
      { key: "digest:adam", pattern: "0 8 * * *", tz: "Pacific/Auckland", every: undefined },
      { key: "digest:eve", pattern: "0 8 * * *", tz: "Europe/Berlin", every: undefined }, // `digest: true` = 08:00 local
      { key: "health:db", pattern: undefined, tz: undefined, every: 3_600_000 },
    ]);
    await first.close();

    const second = await startOpsSignoff({
      schema,
      prefix,
      file: {
        operators: [
          { name: "adam", roles: ["owner"], timezone: "Pacific/Auckland", digest: "30 7 * * 1-5" },
          { name: "eve", roles: ["approver"] },
        ],
      },
    });
    try {
      expect(await schedulers(second)).toEqual([
        { key: "digest:adam", pattern: "30 7 * * 1-5", tz: "Pacific/Auckland", every: undefined },
      ]);
    } finally {
      await second.close();
    }
  });
});

describe("missed digests", () => {
  it("a restart within the grace window sends one copy; a second restart none; the scheduler's run none", async () => {
    // Sun 5 Apr 2026 09:30 in Auckland, the morning DST ended: the 08:00 NZST digest was missed.
    const clock = testClock(new Date("2026-04-04T21:30:00Z"));
    const file = {
      operators: [
        { name: "adam", roles: ["owner"], timezone: "Pacific/Auckland", digest: "0 8 * * *" },
        { name: "eve", roles: ["approver"], timezone: "Europe/Berlin", digest: "0 8 * * *" }, // 15.5 h ago: too late
      ],
    };
    const first = await startOpsSignoff({ now: clock.now, file });
    const { schema, prefix } = first;
    cleanups.push(() => cleanupTestInstance(schema, prefix));
    try {
      expect(await settle(first, "adam")).toEqual([
        "🌙 Digest · Sun 5 Apr: all quiet since Sat 4 Apr 08:00. Nothing to report.",
      ]);
      expect(await first.ops.digestStore.sentVia("adam", new Date("2026-04-04T20:00:00Z"))).toBe("catch-up");
      expect(botMessages(first, "eve")).toEqual([]);
      expect(await first.ops.digests.sendScheduled("eve", "catch-up")).toBe("too_late");
    } finally {
      await first.close();
    }

    clock.advance(20 * 60_000);
    const second = await startOpsSignoff({ schema, prefix, now: clock.now, file });
    try {
      expect(await settle(second, "adam")).toEqual([]); // restarted again within the window: no second copy
      expect(await second.ops.digests.sendScheduled("adam", "schedule")).toBe("already_sent");
    } finally {
      await second.close();
    }
  });

  it("the scheduled job sends the digest with its sections, once per slot", async () => {
    const clock = testClock(new Date("2026-03-11T21:00:20Z"));
    const s = await startOpsSignoff({
      now: clock.now,
      file: { operators: [{ name: "bob", roles: ["approver"], timezone: "UTC", digest: "0 21 * * *" }] },
    });
    cleanups.push(async () => {
      await s.close();
      await cleanupTestInstance(s.schema, s.prefix);
    });
    await settle(s, "bob"); // the start's catch-up already sent 21:00's digest (20 s late)
    expect(botMessages(s, "bob").map((m) => m.text)).toEqual([
      "🌙 Digest · Wed 11 Mar: all quiet since Tue 10 Mar 21:00. Nothing to report.",
    ]);

    clock.advance(86_400_000); // next evening: the BullMQ job (as its scheduler would add it) runs
    await api(s, "POST", "/api/tasks", { id: "D-1", title: "Ship it", state: "done" });
    await s.ops.queue.queue.add("digest", { kind: "digest", operator: "bob" });
    await eventually(() => botMessages(s, "bob").length === 2, "the scheduled digest");
    expect(botMessages(s, "bob")[1]!.text.split("\n")).toEqual([
      "☀️ Digest · Thu 12 Mar (since Wed 11 Mar 21:00)",
      "✅ 1 task done",
    ]);
    await s.ops.queue.queue.add("digest", { kind: "digest", operator: "bob" }); // a duplicate run of the slot
    expect(await settle(s, "bob", 500)).toHaveLength(2);
  });
});
