/**
 * The write batcher without any I/O: each flush is a promise the test settles by hand, so what
 * went out together, how many flushes ran at once and who saw which outcome are all observable.
 */
import { describe, expect, it } from "vitest";
import { createBatcher, type BatcherOptions } from "../../../src/lib/batcher.js";

interface Flush<In> {
  items: In[];
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/** A batcher whose flushes wait for the test; the result for `x` is `"x:done"`. */
function controlled<In extends number | string>(options: BatcherOptions<In> = {}) {
  const flushes: Array<Flush<In>> = [];
  let running = 0;
  let mostRunning = 0;
  const call = createBatcher<In, string>((items) => {
    running++;
    mostRunning = Math.max(mostRunning, running);
    return new Promise<string[]>((resolve, reject) => {
      const flush: Flush<In> = {
        items: [...items],
        settled: false,
        resolve: () => {
          flush.settled = true;
          running--;
          resolve(items.map((i) => `${i}:done`));
        },
        reject: (error) => {
          flush.settled = true;
          running--;
          reject(error);
        },
      };
      flushes.push(flush);
    });
  }, options);
  return { call, flushes, mostRunning: () => mostRunning, running: () => running };
}

/** Let settled flushes hand out results and the batcher start its next flushes. */
const settle = () => new Promise((r) => setTimeout(r, 0));

/** Settle every flush, oldest first, until none is left. */
async function drain<In>(flushes: Array<Flush<In>>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const open = flushes.find((f) => !f.settled);
    if (!open) return;
    open.resolve();
    await settle();
  }
  throw new Error("flushes never ended");
}

describe("createBatcher", () => {
  it("sends the first call at once, alone: light load adds no delay", () => {
    const b = controlled<number>();
    void b.call(1);
    expect(b.flushes.map((f) => f.items)).toEqual([[1]]); // flushed synchronously, before any await
  });

  it("with gather, the first call goes out at once and the rest of its turn (across awaits) share one flush", async () => {
    const b = controlled<number>({ gather: true });
    // A burst of callers that each await something first, as timers claimed together do.
    const results = [1, 2, 3, 4, 5].map(async (n) => {
      await Promise.resolve();
      await Promise.resolve();
      return b.call(n);
    });
    await new Promise((r) => setTimeout(r, 5));
    // Without gather, each of the next three would take a free slot alone: [2], [3], [4].
    expect(b.flushes.map((f) => f.items)).toEqual([[1], [2, 3, 4, 5]]);
    await drain(b.flushes);
    expect(await Promise.all(results)).toEqual(["1:done", "2:done", "3:done", "4:done", "5:done"]);
  });

  it("gives every caller its own result, in order, including callers that shared a flush", async () => {
    const b = controlled<number>({ maxInFlight: 1 });
    const results = [1, 2, 3, 4, 5].map((n) => b.call(n));
    expect(b.flushes.map((f) => f.items)).toEqual([[1]]);
    b.flushes[0]!.resolve();
    await settle();
    expect(b.flushes.map((f) => f.items)).toEqual([[1], [2, 3, 4, 5]]);
    b.flushes[1]!.resolve();
    expect(await Promise.all(results)).toEqual(["1:done", "2:done", "3:done", "4:done", "5:done"]);
  });

  it("puts at most maxBatch items in one flush", async () => {
    const b = controlled<number>({ maxInFlight: 1, maxBatch: 10 });
    const results = Array.from({ length: 26 }, (_, i) => b.call(i));
    await drain(b.flushes);
    expect(b.flushes.map((f) => f.items.length)).toEqual([1, 10, 10, 5]);
    expect(b.flushes.flatMap((f) => f.items)).toEqual(Array.from({ length: 26 }, (_, i) => i));
    expect(await Promise.all(results)).toEqual(Array.from({ length: 26 }, (_, i) => `${i}:done`));
  });

  it("never runs more than maxInFlight flushes at once, and uses all of them under load", async () => {
    const b = controlled<number>({ maxInFlight: 3, maxBatch: 2 });
    const results = Array.from({ length: 40 }, (_, i) => b.call(i));
    expect(b.running()).toBe(3);
    await drain(b.flushes);
    expect(b.mostRunning()).toBe(3);
    expect(await Promise.all(results)).toHaveLength(40);
  });

  it("never puts two items with the same key in one flush, and keeps each key's order", async () => {
    const b = controlled<string>({ maxInFlight: 1, keyOf: (item) => item.split("#")[0]! });
    const items = ["a#1", "a#2", "b#1", "a#3", "b#2", "c#1", "a#4"];
    const results = items.map((i) => b.call(i));
    await drain(b.flushes);
    for (const flush of b.flushes) {
      const keys = flush.items.map((i) => i.split("#")[0]);
      expect(new Set(keys).size).toBe(keys.length);
    }
    expect(b.flushes.map((f) => f.items)).toEqual([["a#1"], ["a#2", "b#1", "c#1"], ["a#3", "b#2"], ["a#4"]]);
    expect(await Promise.all(results)).toEqual(items.map((i) => `${i}:done`));
  });

  it("with many writers per key and several flushes, no flush ever carries a key twice", async () => {
    const b = controlled<string>({ maxInFlight: 4, maxBatch: 50, keyOf: (item) => item.split("#")[0]! });
    // 60 approvals, each answered by two operators at the same moment (the race the guard is for).
    const items = Array.from({ length: 60 }, (_, i) => [`k${i}#approve`, `k${i}#reject`]).flat();
    const results = items.map((i) => b.call(i));
    await drain(b.flushes);
    const shared = b.flushes.filter((f) => new Set(f.items.map((i) => i.split("#")[0])).size !== f.items.length);
    expect(shared).toEqual([]);
    expect(b.flushes.some((f) => f.items.length > 1)).toBe(true); // it did batch
    expect(await Promise.all(results)).toHaveLength(120);
  });

  it("a failing flush rejects only its own callers; later calls still go out", async () => {
    const b = controlled<number>({ maxInFlight: 2 });
    const results = [1, 2, 3, 4, 5].map((n) =>
      b.call(n).then(
        (v) => ({ ok: v }),
        (e: Error) => ({ failed: e.message }),
      ),
    );
    expect(b.flushes.map((f) => f.items)).toEqual([[1], [2]]);
    b.flushes[1]!.reject(new Error("deadlock"));
    await settle();
    expect(b.flushes.map((f) => f.items)).toEqual([[1], [2], [3, 4, 5]]);
    b.flushes[0]!.resolve();
    b.flushes[2]!.reject(new Error("connection lost"));
    const after = b.call(6);
    await settle();
    b.flushes[3]!.resolve();
    expect(await Promise.all(results)).toEqual([
      { ok: "1:done" },
      { failed: "deadlock" },
      { failed: "connection lost" },
      { failed: "connection lost" },
      { failed: "connection lost" },
    ]);
    expect(await after).toBe("6:done");
  });
});

describe("createBatcher with a misbehaving flush", () => {
  it("rejects a batch whose flush returns the wrong number of results, instead of mismatching them", async () => {
    let calls = 0;
    const call = createBatcher<number, number>(async (items) => (++calls === 2 ? items.slice(1) : items), {
      maxInFlight: 1,
    });
    const results = [1, 2, 3].map((n) =>
      call(n).then(
        (v) => ({ ok: v }),
        (e: Error) => ({ failed: e.message }),
      ),
    );
    expect(await Promise.all(results)).toEqual([
      { ok: 1 },
      { failed: "batch flush returned 1 results for 2 items" },
      { failed: "batch flush returned 1 results for 2 items" },
    ]);
  });

  it("a flush that throws before returning a promise rejects its callers and frees its slot", async () => {
    let calls = 0;
    const call = createBatcher<number, number>(
      (items) => {
        if (++calls === 1) throw new Error("bad input");
        return Promise.resolve(items);
      },
      { maxInFlight: 1 },
    );
    await expect(call(1)).rejects.toThrow("bad input");
    expect(await call(2)).toBe(2); // with the slot lost, this would wait forever
  }, 2_000);
});
