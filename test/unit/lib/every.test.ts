import { afterEach, describe, expect, it, vi } from "vitest";
import { every } from "../../../src/lib/every.js";

afterEach(() => vi.useRealTimers());

describe("every", () => {
  it("runs on each tick, never two runs at once, and goes on after a failure", async () => {
    vi.useFakeTimers();
    let running = 0;
    let most = 0;
    let runs = 0;
    const errors: unknown[] = [];
    let release: (() => void) | null = null;
    const stop = every(
      100,
      async () => {
        runs++;
        running++;
        most = Math.max(most, running);
        if (runs === 2) throw new Error("boom");
        if (runs === 3) await new Promise<void>((r) => (release = r)); // longer than several ticks
        running--;
      },
      (e) => errors.push(e),
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toHaveLength(1);
    running--; // the failed run ended
    await vi.advanceTimersByTimeAsync(500); // run 3 hangs: ticks are skipped, not stacked
    expect(runs).toBe(3);
    release!();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(4);
    expect(most).toBe(1);
    stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(4);
  });
});
