/**
 * What `signoff ask` says while it waits: who was asked, then the time left: one line rewritten in
 * place on a terminal, a line a minute elsewhere, and nothing after stop.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startProgress } from "../../../src/cli/wait-progress.js";
import type { ApprovalRecord } from "../../../src/client/index.js";

const record = {
  code: "K7QF",
  title: "deploy api",
  effectiveGate: "hard",
  approvers: { roles: ["ops-lead"], quorum: 2 },
  deadlineAt: null,
} as unknown as ApprovalRecord;

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

function sink(tty: boolean) {
  const lines: string[] = [];
  const writes: string[] = [];
  return { lines, writes, tty, write: (t: string) => writes.push(t), line: (l: string) => lines.push(l) };
}

describe("wait progress", () => {
  it("says once who was asked, then a line a minute when stderr is not a terminal", () => {
    const out = sink(false);
    const progress = startProgress(out, record, 600_000);
    vi.advanceTimersByTime(10 * 60_000 - 1);
    progress.stop();
    vi.advanceTimersByTime(10 * 60_000);
    expect(out.lines[0]).toBe('asked K7QF "deploy api" of ops-lead (2 needed, gate hard)');
    expect(out.lines.slice(1)).toEqual(Array.from({ length: 9 }, (_, i) => `K7QF: still waiting, ${9 - i}m 00s left`));
    expect(out.writes).toEqual([]);
  });

  it("rewrites one line on a terminal, counting down to the request's deadline when it comes first, and clears it", () => {
    const out = sink(true);
    const progress = startProgress(out, { ...record, deadlineAt: new Date(90_000).toISOString() }, 600_000);
    vi.advanceTimersByTime(3000);
    progress.stop();
    expect(out.lines).toHaveLength(1);
    expect(out.writes.slice(0, -1)).toEqual(
      ["1m 30s", "1m 29s", "1m 28s", "1m 27s"].map((left) => `\r\x1b[2KK7QF: waiting, ${left} left`),
    );
    expect(out.writes.at(-1)).toBe("\r\x1b[2K");
  });
});
