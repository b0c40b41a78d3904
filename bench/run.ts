/**
 * `npm run bench`: measures signoff on this machine against the real PostgreSQL and Redis and
 * writes `bench/results.local.json` (untracked, merged by section) plus a printed table.
 *
 *   npm run bench                 all benchmarks
 *   npm run bench -- timers api   only these sections
 *   npm run bench -- --help       the sections and the environment they read
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { meets } from "./stats.js";

// Untracked: numbers differ per machine and run; the README keeps the ones worth keeping.
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results.local.json");
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** One benchmark's outcome: numbers, the target, and whether it was met. */
export interface BenchResult {
  name: string;
  metrics: Record<string, number>;
  targets: Record<string, string>;
  met: boolean;
  notes?: string;
}

interface Section {
  about: string;
  // Loaded when run, so --help and a mistyped name answer at once without loading signoff.
  run: () => Promise<BenchResult>;
}

const SECTIONS: Record<string, Section> = {
  timers: {
    about: "lateness of 10,000 low-gate objection windows ending over 10 s (BENCH_TIMER_COUNT)",
    run: async () => (await import("./timer-lateness.js")).benchTimerLateness(),
  },
  api: {
    about: "approvals created over HTTP by 50 concurrent clients: rate and p99 (BENCH_API_COUNT)",
    run: async () => (await import("./api-create.js")).benchApiCreate(),
  },
  "two-process": {
    about: "two processes on one database and Redis vs one: creates/s by 50 clients, low-window lateness",
    run: async () => (await import("./two-process.js")).benchTwoProcess(),
  },
  "tg-inbound": {
    about: 'Telegram "status" messages from 100 chats vs a bare grammY echo bot (BENCH_TG_INBOUND)',
    run: async () => (await import("./telegram.js")).benchTelegramInbound(),
  },
  "tg-outbound": {
    about: "a notice to 600 Telegram chats under the 30 msg/s limit: rate ÷ 30 and 429s",
    run: async () => (await import("./telegram.js")).benchTelegramOutbound(),
  },
  "tg-reaction": {
    about: "a reaction on a card → decision committed → callback queued: p50/p99",
    run: async () => (await import("./telegram.js")).benchTelegramReaction(),
  },
  // The scale sections seed their backlog with one INSERT … SELECT generate_series copying an
  // approval created through the API (scale-backlog.ts), then run signoff as a real process.
  "scale-startup": {
    about: "start-up on 100,000 pending (seeded by SQL): health, peak RSS, reconcile; then after a Redis flush",
    run: async () => (await import("./scale.js")).benchScaleStartup(),
  },
  "scale-idle": {
    about: "RSS idle on 100,000 pending (seeded by SQL), then peak RSS and CPU over 60 s of reconciles every 20 s",
    run: async () => (await import("./scale.js")).benchScaleIdle(),
  },
  "scale-create": {
    about: "create rate of 50 clients on 0 pending vs on 100,000 pending (seeded by SQL): the ratio",
    run: async () => (await import("./scale.js")).benchScaleCreate(),
  },
  "scale-timers": {
    about: "lateness of 50,000 low-gate windows ending over 10 s, and CPU s per 1,000 decisions",
    run: async () => (await import("./scale.js")).benchScaleTimers(),
  },
};

const ENVIRONMENT: Array<[string, string]> = [
  ["TEST_DATABASE_URL", "PostgreSQL; each run makes its own schema (default postgres://postgres@127.0.0.1:5432/test)"],
  ["TEST_REDIS_URL", "Redis; each run uses its own key prefix; set hz 100 (default redis://127.0.0.1:6379)"],
  ["TEST_LOG_LEVEL", "log level of the signoff under test, logs are kept out of the output (default warn)"],
  ["BENCH_TIMER_COUNT", "approvals in timers (default 10000)"],
  ["BENCH_API_COUNT", "creates in api (default 10000)"],
  ["BENCH_TWO_PROCESS_COUNT", "creates per run in two-process; a third as many low windows (default 3000)"],
  ["BENCH_TG_INBOUND", "messages in tg-inbound (default 10000)"],
  ["BENCH_SCALE_PENDING", "pending approvals seeded in scale-startup, scale-idle, scale-create (default 100000)"],
  ["BENCH_SCALE_CREATES", "creates at each backlog size in scale-create (default 10000)"],
  ["BENCH_SCALE_TIMERS", "approvals in scale-timers (default 50000)"],
  ["BENCH_DEBUG", "any value: print progress details from timers and tg-inbound"],
  ["BENCH_PROFILE", "any value: write a CPU profile of the windows' end in timers and scale-timers"],
];

/** The --help text: each section in one line, then the environment read. */
function usage(): string {
  const width = Math.max(...Object.keys(SECTIONS).map((n) => n.length), ...ENVIRONMENT.map(([n]) => n.length)) + 2;
  const rows = (pairs: Array<[string, string]>) => pairs.map(([n, text]) => `  ${n.padEnd(width)}${text}`).join("\n");
  return `usage: npm run bench -- [section...]

Runs the named sections (all when none is named) against the real PostgreSQL and Redis, prints
a table and merges the results into ${relative(process.cwd(), RESULTS)} (untracked).

sections:
${rows(Object.entries(SECTIONS).map(([name, s]) => [name, s.about]))}

environment:
${rows(ENVIRONMENT)}`;
}

/** The sections to run, or what to say instead: help (exit 0) or the first bad argument (exit 2). */
function parseArgs(args: string[]): { names: string[] } | { exit: 0 | 2; text: string } {
  if (args.includes("--help") || args.includes("-h")) return { exit: 0, text: usage() };
  const bad = args.find((a) => !Object.hasOwn(SECTIONS, a));
  if (bad !== undefined) {
    const what = bad.startsWith("-") ? "option" : "section";
    return { exit: 2, text: `bench: unknown ${what} '${bad}' (sections: ${Object.keys(SECTIONS).join(", ")})` };
  }
  return { names: args.length ? [...new Set(args)] : Object.keys(SECTIONS) };
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if ("exit" in parsed) {
    (parsed.exit === 0 ? process.stdout : process.stderr).write(`${parsed.text}\n`);
    return parsed.exit;
  }
  const redis = new Redis(REDIS_URL);
  const hz = ((await redis.config("GET", "hz")) as string[])[1];
  await redis.quit();

  const previous = existsSync(RESULTS)
    ? (JSON.parse(readFileSync(RESULTS, "utf8")) as { results?: Record<string, BenchResult> })
    : {};
  const results: Record<string, BenchResult> = { ...(previous.results ?? {}) };
  const save = () => {
    const report = {
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, redisHz: Number(hz) },
      at: new Date().toISOString(),
      results,
    };
    // Written whole and renamed, so an interrupted run never leaves half a file to merge into.
    writeFileSync(`${RESULTS}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(`${RESULTS}.tmp`, RESULTS);
  };
  for (const name of parsed.names) {
    process.stdout.write(`running ${name}...\n`);
    results[name] = await SECTIONS[name]!.run();
    save(); // after each section: a later one that fails keeps the earlier results
    process.stdout.write(`${name}: ${JSON.stringify(results[name]!.metrics)}\n`);
  }

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
  console.table(rows); // the table is this script's output
  process.stdout.write(`redis hz = ${hz}; results in ${RESULTS}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
    process.exit(1);
  },
);
