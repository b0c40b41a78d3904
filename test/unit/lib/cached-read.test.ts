/**
 * The short-lived cache of a hot read: fresh values are shared, a lapse sends one read for all
 * who ask, a write here applies at once (a read already on its way cannot cache over it), and a
 * failed read fails its sharers but not the next caller.
 */
import { describe, expect, it } from "vitest";
import { createCachedRead } from "../../../src/lib/cached-read.js";

/** A read whose every call waits until the test answers it. */
function scriptedRead() {
  const calls: Array<{ answer(value: string): void; fail(error: Error): void }> = [];
  const read = () =>
    new Promise<string>((resolve, reject) => {
      calls.push({ answer: resolve, fail: reject });
    });
  return { read, calls };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("createCachedRead", () => {
  it("serves a fresh value without reading, and shares one read at a lapse", async () => {
    const { read, calls } = scriptedRead();
    const cache = createCachedRead(read, 60_000);
    const first = Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(calls).toHaveLength(1);
    calls[0]!.answer("a");
    expect(await first).toEqual(["a", "a", "a"]);
    expect(await cache.get()).toBe("a");
    expect(calls).toHaveLength(1);
  });

  it("reads again once the value has lapsed", async () => {
    const { read, calls } = scriptedRead();
    const cache = createCachedRead(read, 1);
    const first = cache.get();
    calls[0]!.answer("a");
    await first;
    await new Promise((r) => setTimeout(r, 5));
    const second = cache.get();
    expect(calls).toHaveLength(2);
    calls[1]!.answer("b");
    expect(await second).toBe("b");
  });

  it("a value written here is served at once, also to those waiting on an older read", async () => {
    const { read, calls } = scriptedRead();
    const cache = createCachedRead(read, 60_000);
    const waiting = cache.get();
    cache.wrote("written");
    calls[0]!.answer("older");
    expect(await waiting).toBe("written");
    expect(await cache.get()).toBe("written");
    expect(calls).toHaveLength(1);
  });

  it("after a write without a value the next caller reads afresh, and the older read caches nothing", async () => {
    const { read, calls } = scriptedRead();
    const cache = createCachedRead(read, 60_000);
    const older = cache.get();
    cache.wrote();
    const fresh = cache.get();
    expect(calls).toHaveLength(2);
    calls[0]!.answer("older");
    expect(await older).toBe("older");
    await tick();
    // The older read ending must not drop the newer one: a third caller shares it.
    const third = cache.get();
    expect(calls).toHaveLength(2);
    calls[1]!.answer("newer");
    expect(await fresh).toBe("newer");
    expect(await third).toBe("newer");
    expect(await cache.get()).toBe("newer");
  });

  it("a failed read fails those sharing it; the next caller reads again", async () => {
    const { read, calls } = scriptedRead();
    const cache = createCachedRead(read, 60_000);
    const shared = Promise.allSettled([cache.get(), cache.get()]);
    calls[0]!.fail(new Error("connection reset"));
    expect((await shared).map((r) => r.status)).toEqual(["rejected", "rejected"]);
    const next = cache.get();
    expect(calls).toHaveLength(2);
    calls[1]!.answer("back");
    expect(await next).toBe("back");
  });
});
