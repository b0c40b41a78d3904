/**
 * `npm run bench`: measures signoff on this machine against the real PostgreSQL and Redis and
 * writes `bench/results.json` (merged by section) plus a printed table.
 *
 *   npm run bench                 all benchmarks
 *   npm run bench -- timers api   only these sections
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { benchApiCreate } from "./api-create.js";
import { benchTelegramInbound, benchTelegramOutbound, benchTelegramReaction } from "./telegram.js";
import { benchTimerLateness } from "./timer-lateness.js";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results.json");
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** One benchmark's outcome: numbers, the target, and whether it was met. */
export interface BenchResult {
  name: string;
  metrics: Record<string, number>;
  targets: Record<string, string>;
  met: boolean;
  notes?: string;
}

const SECTIONS: Record<string, () => Promise<BenchResult>> = {
  timers: benchTimerLateness,
  api: benchApiCreate,
  "tg-inbound": benchTelegramInbound,
  "tg-outbound": benchTelegramOutbound,
  "tg-reaction": benchTelegramReaction,
};

/** Whether `value` meets a target written as "≤ 50", "≥ 0.95" or "= 0". */
function meets(value: number, target: string): boolean {
  const m = /^(≤|≥|=)\s*([\d.]+)$/.exec(target.trim());
  if (!m) return false;
  const limit = Number(m[2]);
  return m[1] === "≤" ? value <= limit : m[1] === "≥" ? value >= limit : value === limit;
}

async function main() {
  const wanted = process.argv.slice(2).filter((a) => a in SECTIONS);
  const names = wanted.length ? wanted : Object.keys(SECTIONS);
  const redis = new Redis(REDIS_URL);
  const hz = ((await redis.config("GET", "hz")) as string[])[1];
  await redis.quit();

  const previous = existsSync(RESULTS)
    ? (JSON.parse(readFileSync(RESULTS, "utf8")) as { results?: Record<string, BenchResult> })
    : {};
  const results: Record<string, BenchResult> = { ...(previous.results ?? {}) };
  for (const name of names) {
    process.stdout.write(`running ${name}...\n`);
    results[name] = await SECTIONS[name]!();
  }
  const report = {
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, redisHz: Number(hz) },
    at: new Date().toISOString(),
    results,
  };
  writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);

  const rows = Object.values(results).flatMap((r) =>
    Object.entries(r.metrics).map(([metric, value]) => {
      const target = r.targets[metric];
      return {
        benchmark: r.name,
        metric,
        value: Math.round(value * 100) / 100,
        target: target ?? "",
        met: target ? (meets(value, target) ? "yes" : "NO") : "",
      };
    }),
  );
  console.table(rows); // eslint-disable-line no-console -- the table is this script's output
  process.stdout.write(`redis hz = ${hz}; results in ${RESULTS}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
    process.exit(1);
  },
);
