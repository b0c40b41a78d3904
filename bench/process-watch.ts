/**
 * What a child process costs, read from /proc (Linux): resident memory sampled every 100 ms,
 * its high-water mark, and CPU time used; plus a poll of `/api/health` that notes when it first
 * answered at all and when it first answered 200.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";

// Clock ticks per second of /proc/<pid>/stat; 100 on every Linux this runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100;

/** Resident and peak resident memory (VmRSS, VmHWM) in MB, or null once the process is gone. */
export function readMemory(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/** User + system CPU seconds the process has used so far (0 once it is gone). */
export function readCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used so far by every process on this machine whose command name is one of `names`
 * (e.g. the PostgreSQL and Redis servers a benchmark talks to): take it twice and subtract.
 */
export function cpuSecondsOf(names: readonly string[]): Record<string, number> {
  const totals = Object.fromEntries(names.map((n) => [n, 0]));
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!(name in totals)) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      totals[name]! += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // Gone meanwhile.
    }
  }
  return totals;
}

/**
 * Wait until the process used less than `busyShare` of one CPU over each of two consecutive
 * seconds (work left over from start-up is done), or `timeoutMs` passed; resolves with the ms waited.
 */
export async function waitForQuiet(pid: number, options: { busyShare?: number; timeoutMs?: number } = {}) {
  const { busyShare = 0.15, timeoutMs = 120_000 } = options;
  const began = performance.now();
  let quietSeconds = 0;
  let cpu = readCpuSeconds(pid);
  while (quietSeconds < 2 && performance.now() - began < timeoutMs) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = readCpuSeconds(pid);
    quietSeconds = now - cpu < busyShare ? quietSeconds + 1 : 0;
    cpu = now;
  }
  return performance.now() - began;
}

/** A resident-memory sample: ms since the watch began, and MB. */
export interface RssSample {
  atMs: number;
  rssMb: number;
}

/** Sample VmRSS every `everyMs` until stopped; `max(fromMs, toMs)` reads a window of the samples. */
export function watchMemory(pid: number, everyMs = 100) {
  const began = performance.now();
  const samples: RssSample[] = [];
  const take = () => {
    const memory = readMemory(pid);
    if (memory) samples.push({ atMs: performance.now() - began, rssMb: memory.rssMb });
  };
  take();
  const timer = setInterval(take, everyMs);
  const within = (fromMs: number, toMs: number) => samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs);
  return {
    samples,
    /** ms since the watch began. */
    now: () => performance.now() - began,
    max: (fromMs = 0, toMs = Infinity) => Math.max(...within(fromMs, toMs).map((s) => s.rssMb)),
    median: (fromMs = 0, toMs = Infinity) => {
      const values = within(fromMs, toMs)
        .map((s) => s.rssMb)
        .sort((a, b) => a - b);
      return values[Math.floor(values.length / 2)] ?? NaN;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * Poll `${url}/api/health` every `everyMs` from now on: when (ms from now) it first answered
 * anything, and when it first answered 200. Resolves once it answered 200 or `timeoutMs` passed.
 */
export async function pollHealth(
  url: string,
  options: { everyMs?: number; timeoutMs?: number } = {},
): Promise<{ firstAnswerMs: number; firstOkMs: number }> {
  const { everyMs = 50, timeoutMs = 120_000 } = options;
  const began = performance.now();
  let firstAnswerMs = NaN;
  while (performance.now() - began < timeoutMs) {
    try {
      const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      const at = performance.now() - began;
      if (Number.isNaN(firstAnswerMs)) firstAnswerMs = at;
      if (response.status === 200) return { firstAnswerMs, firstOkMs: at };
    } catch {
      // Not listening yet, or too busy to answer within 2 s.
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return { firstAnswerMs, firstOkMs: NaN };
}

/** A TCP port free right now on 127.0.0.1 (the child binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
