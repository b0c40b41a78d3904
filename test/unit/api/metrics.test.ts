import { describe, expect, it } from "vitest";
import { createMetrics, readAtScrape, type ScrapeSources } from "../../../src/api/metrics.js";
import { sampleValue } from "../../helpers/prometheus-text.js";

const never = <T>() => new Promise<T>(() => {});

function sources(overrides: Partial<ScrapeSources> = {}): ScrapeSources {
  return {
    countPending: async () => 7,
    queues: [{ name: "timers", getJobCounts: async () => ({ waiting: 2, delayed: 5 }) }],
    channels: () => [{ name: "telegram", health: () => ({ ok: true }) }],
    dependencies: [
      { name: "postgres", check: async () => ({ ok: true }) },
      { name: "redis", check: async () => ({ ok: true }) },
    ],
    ...overrides,
  };
}

describe("scrape-time gauges", () => {
  it("read pending approvals, queue counts, channels and dependencies when scraped", async () => {
    const { registry } = createMetrics();
    let pending = 7;
    readAtScrape(registry, sources({ countPending: async () => pending }));
    const first = await registry.metrics();
    expect(sampleValue(first, "signoff_pending_approvals")).toBe(7);
    expect(sampleValue(first, "signoff_queue_jobs", { queue: "timers", state: "delayed" })).toBe(5);
    expect(sampleValue(first, "signoff_queue_jobs", { queue: "timers", state: "active" })).toBe(0);
    expect(sampleValue(first, "signoff_channel_up", { channel: "telegram" })).toBe(1);
    expect(sampleValue(first, "signoff_dependency_up", { dependency: "redis" })).toBe(1);
    pending = 3;
    expect(sampleValue(await registry.metrics(), "signoff_pending_approvals")).toBe(3); // read again, not cached
  });

  it("a dependency that never answers does not hold the scrape: it counts as down, gauges keep their last value", async () => {
    const { registry } = createMetrics();
    let hang = false;
    readAtScrape(
      registry,
      sources({
        countPending: () => (hang ? never() : Promise.resolve(4)),
        queues: [{ name: "outbox", getJobCounts: () => (hang ? never() : Promise.resolve({ waiting: 9 })) }],
        dependencies: [
          { name: "postgres", check: () => (hang ? never() : Promise.resolve({ ok: true })) },
          { name: "redis", check: () => Promise.reject(new Error("ECONNREFUSED")) },
        ],
        channels: () => [
          {
            name: "whatsapp",
            health: () => {
              throw new Error("socket gone");
            },
          },
        ],
      }),
      { timeoutMs: 20 },
    );
    expect(sampleValue(await registry.metrics(), "signoff_pending_approvals")).toBe(4);
    hang = true;
    const text = await registry.metrics(); // resolves: every read is bounded
    expect(sampleValue(text, "signoff_pending_approvals")).toBe(4);
    expect(sampleValue(text, "signoff_queue_jobs", { queue: "outbox", state: "waiting" })).toBe(9);
    expect(sampleValue(text, "signoff_dependency_up", { dependency: "postgres" })).toBe(0);
    expect(sampleValue(text, "signoff_dependency_up", { dependency: "redis" })).toBe(0);
    expect(sampleValue(text, "signoff_channel_up", { channel: "whatsapp" })).toBe(0);
  });
});

describe("counters", () => {
  it("count decisions by status and kind, and never report a negative time", async () => {
    const metrics = createMetrics();
    metrics.approvalDecided("approved", "operator", 12);
    metrics.timerRan(-0.004);
    const text = await metrics.registry.metrics();
    expect(sampleValue(text, "signoff_decisions_total", { status: "approved", decided_by_kind: "operator" })).toBe(1);
    expect(sampleValue(text, "signoff_decision_seconds_sum")).toBe(12);
    expect(sampleValue(text, "signoff_timer_lateness_seconds_sum")).toBe(0);
    expect(sampleValue(text, "signoff_timer_lateness_seconds_bucket", { le: "0.005" })).toBe(1);
    // Every callback result is exported from the start, so a rate over "dead" is 0, not absent.
    expect(text).toMatch(/signoff_callbacks_total\{result="dead"\} 0/);
  });
});
