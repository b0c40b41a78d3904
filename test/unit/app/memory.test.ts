/**
 * The heap growth step, in real child processes: the same churn of short-lived objects over a
 * live set peaks far lower with the default step (50 %) than with V8's own rule (0).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const tsx = pathToFileURL(join(root, "node_modules", "tsx", "dist", "esm", "index.mjs")).href;
const memory = pathToFileURL(join(root, "src", "app", "memory.ts")).href;

// A live set that stays (like the process's own state), and rows parsed and dropped (like a walk).
const churn = `
import { limitHeapGrowth } from ${JSON.stringify(memory)};
limitHeapGrowth(Number(process.argv[2]));
const live = Array.from({ length: 200000 }, (_, i) => ({ id: "x" + i, text: "abcdefghij".repeat(10) + i }));
let kept = [];
let peak = 0;
for (let round = 0; round < 40; round++) {
  for (let i = 0; i < 20000; i++) kept.push(JSON.parse(JSON.stringify({ id: i, title: "t".repeat(200), n: [1, 2, 3] })));
  if (kept.length > 40000) kept = kept.slice(-20000);
  await new Promise((r) => setImmediate(r));
  peak = Math.max(peak, process.memoryUsage().rss);
}
process.stdout.write(String(Math.round(peak / 1e6) + live.length * 0));
`;

function peakMb(percent: number): number {
  const dir = mkdtempSync(join(tmpdir(), "signoff-heap-"));
  const file = join(dir, "churn.mjs");
  writeFileSync(file, churn);
  return Number(execFileSync(process.execPath, ["--import", tsx, file, String(percent)], { encoding: "utf8" }));
}

describe("limitHeapGrowth", () => {
  it("keeps the peak resident memory well below V8's own rule under the same churn", () => {
    const own = peakMb(0);
    const limited = peakMb(50);
    expect(limited, `peak ${limited} MB with 50 %, ${own} MB with V8's rule`).toBeLessThan(own * 0.75);
  }, 60_000);
});
