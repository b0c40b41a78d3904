import { describe, expect, it } from "vitest";
import { type BreakerEvent, createBreaker } from "../../../../src/handlers/approvals/breaker.js";
import type { PauseState } from "../../../../src/store/settings-store.js";

const NOW = new Date("2026-06-10T12:00:00Z");

function setup(options: { counts?: Partial<Record<BreakerEvent, number>>; pause?: PauseState; wins?: boolean } = {}) {
  const asked: Array<{ event: BreakerEvent; since: Date }> = [];
  const told: Array<Record<string, unknown>> = [];
  const paused: Array<{ by: string; audit: unknown[] }> = [];
  const count = (event: BreakerEvent) => async (since: Date) => {
    asked.push({ event, since });
    return options.counts?.[event] ?? 0;
  };
  const breaker = createBreaker({
    rules: { failedTasks: 5, deadLetters: 2, windowSeconds: 600 },
    counts: { rejections: count("rejections"), failedTasks: count("failedTasks"), deadLetters: count("deadLetters") },
    settings: {
      pauseState: async () => options.pause ?? { paused: false, by: null, at: null },
      async pauseIfRunning(by, audit) {
        paused.push({ by, audit });
        return options.wins ?? true;
      },
    },
    broadcaster: {
      async toOperators(filter, template, view) {
        told.push({
          template,
          ...(view as Record<string, unknown>),
          owner: filter({ name: "a", roles: ["owner"], timezone: "UTC", webchat: true }),
        });
        return 1;
      },
    },
    now: () => NOW,
    logger: { warn() {} },
  });
  return { breaker, asked, told, paused };
}

describe("circuit breaker", () => {
  it("at the limit it pauses as the breaker, audits the rule with its numbers and tells the owners", async () => {
    const { breaker, told, paused } = setup({ counts: { deadLetters: 2 } });
    expect(await breaker.check("deadLetters")).toEqual({ rule: "deadLetters", count: 2, limit: 2, windowSeconds: 600 });
    expect(paused).toHaveLength(1);
    expect(paused[0]!.by).toBe("breaker");
    expect(paused[0]!.audit).toMatchObject([
      { actor: "breaker", action: "autonomy.paused", data: { rule: "deadLetters", count: 2 } },
    ]);
    expect(told).toEqual([
      { template: "breaker-tripped", count: 2, what: "dead letters", window: "10 min", limit: 2, owner: true },
    ]);
  });

  it("under the limit, for a rule not configured, or when already paused, nothing happens", async () => {
    const under = setup({ counts: { failedTasks: 4 } });
    expect(await under.breaker.check("failedTasks")).toBeNull();
    expect(under.paused).toHaveLength(0);
    const unwatched = setup({ counts: { rejections: 99 } });
    expect(await unwatched.breaker.check("rejections")).toBeNull();
    expect(unwatched.asked).toHaveLength(0);
    const already = setup({ counts: { failedTasks: 9 }, pause: { paused: true, by: "adam", at: NOW } });
    expect(await already.breaker.check("failedTasks")).toBeNull();
    expect(already.told).toHaveLength(0);
  });

  it("counts from the last resume when that is inside the window, so one crossing trips once", async () => {
    const resumedAt = new Date(NOW.getTime() - 60_000);
    const { breaker, asked } = setup({ pause: { paused: false, by: "adam", at: resumedAt } });
    await breaker.check("failedTasks");
    expect(asked[0]!.since).toEqual(resumedAt);
    const old = setup({ pause: { paused: false, by: "adam", at: new Date(NOW.getTime() - 3_600_000) } });
    await old.breaker.check("failedTasks");
    expect(old.asked[0]!.since).toEqual(new Date(NOW.getTime() - 600_000));
  });

  it("when another process paused first, this one stays quiet", async () => {
    const { breaker, told } = setup({ counts: { failedTasks: 5 }, wins: false });
    expect(await breaker.check("failedTasks")).toBeNull();
    expect(told).toHaveLength(0);
  });
});
