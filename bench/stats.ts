/** Percentiles over a list of numbers (nearest-rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Run `task(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function runPool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await task(next++);
  });
  await Promise.all(lanes);
}

/** Whether `value` meets a target written as "≤ 50", "≥ 0.95" or "= 0". */
export function meets(value: number, target: string): boolean {
  const m = /^(≤|≥|=)\s*([\d.]+)$/.exec(target.trim());
  if (!m) return false;
  const limit = Number(m[2]);
  return m[1] === "≤" ? value <= limit : m[1] === "≥" ? value >= limit : value === limit;
}

/** Whether every targeted metric is present and meets its target. */
export function meetsAll(metrics: Record<string, number>, targets: Record<string, string>): boolean {
  return Object.entries(targets).every(([metric, target]) => {
    const value = metrics[metric];
    return value !== undefined && meets(value, target);
  });
}
