/**
 * The code length rule: how many codes each length holds, the pending counts where codes grow,
 * codes drawn uniformly over those with a digit, and the cached pending count behind the rule.
 */
import { describe, expect, it } from "vitest";
import {
  CODE_ALPHABET,
  MAX_CODE_LENGTH,
  TARGET_COLLISION,
  codeLengthFor,
  codeSpace,
  createPendingCodeLengths,
  generateCode,
  longerCode,
} from "../../../../src/handlers/approvals/approval-codes.js";
import { looksLikeCode } from "../../../../src/handlers/chat/answer-parser.js";

describe("code space and thresholds", () => {
  it("counts the codes of each length that hold a digit (31^n - 23^n)", () => {
    expect(codeSpace(4)).toBe(643_680);
    expect(codeSpace(5)).toBe(22_192_808);
    expect(codeSpace(6)).toBe(739_467_792);
  });

  it("keeps 4 characters up to 6,436 pending, 5 up to 221,928, then 6", () => {
    expect(codeLengthFor(0)).toBe(4);
    expect(codeLengthFor(6_436)).toBe(4);
    expect(codeLengthFor(6_437)).toBe(5);
    expect(codeLengthFor(100_000)).toBe(5);
    expect(codeLengthFor(221_928)).toBe(5);
    expect(codeLengthFor(221_929)).toBe(6);
    expect(codeLengthFor(1e9)).toBe(MAX_CODE_LENGTH);
  });

  it("holds a try's chance of hitting a pending code under 1 % up to the 6-character space", () => {
    for (let pending = 0; pending < 7_394_677; pending += 997) {
      const length = codeLengthFor(pending);
      expect(pending / codeSpace(length), `${pending} pending`).toBeLessThan(TARGET_COLLISION);
      // The shortest length that does: a shorter one would pass 1 %.
      if (length > 4) expect(pending / codeSpace(length - 1)).toBeGreaterThanOrEqual(TARGET_COLLISION);
    }
  });

  it("retries one character longer, never past 6", () => {
    expect([4, 5, 6].map(longerCode)).toEqual([5, 6, 6]);
  });
});

describe("generateCode", () => {
  it("makes codes of the asked length from the alphabet, each with a digit, that chat accepts", () => {
    for (const length of [4, 5, 6])
      for (let i = 0; i < 2000; i++) {
        const code = generateCode(length);
        expect(code).toHaveLength(length);
        expect([...code].every((c) => CODE_ALPHABET.includes(c))).toBe(true);
        expect(code).toMatch(/[2-9]/);
        expect(looksLikeCode(code)).toBe(true);
      }
  });

  it("draws a code without a digit again instead of patching one in (so every code is as likely)", () => {
    const letterA = CODE_ALPHABET.indexOf("A");
    const draws = [letterA, letterA, letterA, letterA, letterA, 0, letterA, letterA];
    const code = generateCode(4, () => draws.shift()!);
    expect(code).toBe("A2AA");
    expect(draws).toEqual([]);
  });
});

/** A count the test answers by hand, and a clock it moves. */
function fakeCount() {
  const asked: Array<(n: number) => void> = [];
  const failures: Array<(e: Error) => void> = [];
  const clock = { t: 1_000 };
  const warnings: object[] = [];
  const rule = createPendingCodeLengths({
    countPending: () =>
      new Promise<number>((resolve, reject) => {
        asked.push(resolve);
        failures.push(reject);
      }),
    refreshMs: 2000,
    recountAfterCollisionMs: 250,
    now: () => clock.t,
    logger: { warn: (obj) => warnings.push(obj) },
  });
  const answer = async (n: number) => {
    asked.at(-1)!(n);
    await new Promise((r) => setImmediate(r));
  };
  return { rule, asked, failures, clock, warnings, answer };
}

describe("createPendingCodeLengths", () => {
  it("waits for the first count once, then answers from the cache until it is stale", async () => {
    const f = fakeCount();
    const first = [f.rule.firstLength(), f.rule.firstLength()];
    expect(f.asked).toHaveLength(1);
    await f.answer(100_000);
    expect(await Promise.all(first)).toEqual([5, 5]);
    f.clock.t += 1999;
    expect(await f.rule.firstLength()).toBe(5);
    expect(f.asked).toHaveLength(1);
  });

  it("recounts in the background when stale, answering from the old count meanwhile", async () => {
    const f = fakeCount();
    const first = f.rule.firstLength();
    await f.answer(10);
    expect(await first).toBe(4);
    f.clock.t += 2000;
    expect(await f.rule.firstLength()).toBe(4);
    expect(f.asked).toHaveLength(2);
    await f.answer(250_000);
    expect(await f.rule.firstLength()).toBe(6);
  });

  it("adds this process's creates to the count, so a burst grows the codes before the next count", async () => {
    const f = fakeCount();
    const first = f.rule.firstLength();
    await f.answer(6_000);
    expect(await first).toBe(4);
    for (let i = 0; i < 437; i++) f.rule.created();
    expect(await f.rule.firstLength()).toBe(5);
    // A count that already includes them replaces them, not adds to them.
    f.clock.t += 2000;
    await f.rule.firstLength();
    await f.answer(6_436);
    expect(await f.rule.firstLength()).toBe(4);
  });

  it("recounts soon after a collision, but not for every collision", async () => {
    const f = fakeCount();
    const first = f.rule.firstLength();
    await f.answer(0);
    await first;
    f.rule.collided(4);
    expect(f.asked).toHaveLength(1);
    f.clock.t += 250;
    f.rule.collided(4);
    f.rule.collided(4);
    expect(f.asked).toHaveLength(2);
    await f.answer(7_000);
    expect(await f.rule.firstLength()).toBe(5);
  });

  it("a failing count is logged and codes go on from what is known", async () => {
    const f = fakeCount();
    const first = f.rule.firstLength();
    f.failures.at(-1)!(new Error("connection refused"));
    expect(await first).toBe(4);
    expect(f.warnings).toEqual([{ err: "connection refused" }]);
    // It is not asked again on every create, only when stale.
    await f.rule.firstLength();
    expect(f.asked).toHaveLength(1);
    f.clock.t += 2000;
    await f.rule.firstLength();
    expect(f.asked).toHaveLength(2);
  });
});
