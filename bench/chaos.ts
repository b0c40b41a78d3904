/**
 * `npm run chaos`: signoff as a real process against a PRIVATE PostgreSQL and Redis (never the
 * shared 5432 / 6379), put through crashes, outages and hostile input. Prints a table (goal,
 * measured, met) and writes `bench/chaos.json` (merged by scenario).
 *
 *   npm run chaos                        every scenario (about 4–5 minutes)
 *   npm run chaos -- kill9 fuzz-api      only these
 *   npm run chaos -- --seed 7            another fuzz seed (default 1)
 *   SIGNOFF_CHAOS_REPO=/path npm run chaos   run another checkout (e.g. a snapshot of a commit)
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startPrivateServices } from "../test/helpers/private-services.js";
import { scenarioFlushall, scenarioKill9, scenarioSigterm } from "./chaos-crash.js";
import { scenarioFuzzApi, scenarioFuzzChat } from "./chaos-fuzz-run.js";
import { scenarioPostgresRestart, scenarioRedisDown } from "./chaos-outage.js";
import { type ChaosContext, type ChaosResult, formatTable } from "./chaos-report.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, "chaos.json");

const SCENARIOS: Record<string, (ctx: ChaosContext) => Promise<ChaosResult>> = {
  kill9: scenarioKill9,
  flushall: scenarioFlushall,
  "redis-down": scenarioRedisDown,
  "pg-restart": scenarioPostgresRestart,
  sigterm: scenarioSigterm,
  "fuzz-api": scenarioFuzzApi,
  "fuzz-chat": scenarioFuzzChat,
};

function parseArgs(argv: string[]): { names: string[]; seed: number } {
  const names: string[] = [];
  let seed = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--seed") seed = Number(argv[++i]);
    else if (arg in SCENARIOS) names.push(arg);
    else {
      process.stderr.write(`unknown argument ${arg}; scenarios: ${Object.keys(SCENARIOS).join(", ")}; --seed N\n`);
      process.exit(2);
    }
  }
  return { names: names.length ? names : Object.keys(SCENARIOS), seed };
}

/** The checkout's commit, marked `+changes` when its work tree differs from it. */
function commitOf(dir: string): string | null {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? "+changes" : ""}`;
  } catch {
    return null;
  }
}

async function main() {
  const { names, seed } = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const services = await startPrivateServices();
  const startup = {
    allSeconds: services.startSeconds,
    postgresInitdbSeconds: services.postgres.initSeconds,
    postgresStartSeconds: services.postgres.startTimes[0],
    redisStartSeconds: services.redis.startTimes[0],
  };
  process.stdout.write(
    `private PostgreSQL :${services.postgres.port} and Redis :${services.redis.port} up in ${services.startSeconds} s\n`,
  );
  const ctx: ChaosContext = {
    postgres: services.postgres,
    redis: services.redis,
    seed,
    log: (line) => process.stdout.write(`  ${line}\n`),
  };
  const fresh: ChaosResult[] = [];
  try {
    for (const name of names) {
      process.stdout.write(`running ${name}...\n`);
      const s0 = performance.now();
      let result: ChaosResult;
      try {
        result = await SCENARIOS[name]!(ctx);
      } catch (error) {
        result = {
          name,
          checks: [],
          numbers: {},
          seconds: Math.round(performance.now() - s0) / 1000,
          error: (error as Error).stack ?? String(error),
        };
      }
      const failed = result.checks.filter((c) => c.met === false).length;
      process.stdout.write(
        `  ${name}: ${result.error ? "did not finish" : failed ? `${failed} goal(s) missed` : "all goals met"} in ${result.seconds} s\n`,
      );
      fresh.push(result);
    }
  } finally {
    await services.remove();
  }

  const previous = existsSync(RESULTS)
    ? (JSON.parse(readFileSync(RESULTS, "utf8")) as { results?: Record<string, ChaosResult> })
    : {};
  const results: Record<string, ChaosResult> = { ...(previous.results ?? {}) };
  for (const r of fresh) results[r.name] = r;
  const repo = process.env.SIGNOFF_CHAOS_REPO ?? join(HERE, "..");
  const report = {
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    at: new Date().toISOString(),
    code: { repo, commit: process.env.SIGNOFF_CHAOS_COMMIT ?? commitOf(repo) },
    seed,
    startup,
    totalSeconds: Math.round(performance.now() - t0) / 1000,
    results,
  };
  writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${formatTable(fresh)}\n\nresults in ${RESULTS} (${report.totalSeconds} s)\n`);
  return fresh.some((r) => r.error || r.checks.some((c) => c.met === false)) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`chaos failed: ${(error as Error).stack}\n`);
    process.exit(1);
  },
);
