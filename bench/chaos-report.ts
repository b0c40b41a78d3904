/**
 * What a chaos scenario reports: one check per goal (what was measured, whether it was met),
 * plus the raw numbers, printed as a table and written to `bench/chaos.json`.
 */
import type { PrivatePostgres, PrivateRedis } from "../test/helpers/private-services.js";

/** One goal of a scenario. `met: null` is a number worth reporting that has no goal. */
export interface ChaosCheck {
  goal: string;
  measured: string;
  met: boolean | null;
}

/** A scenario's outcome. */
export interface ChaosResult {
  name: string;
  checks: ChaosCheck[];
  numbers: Record<string, unknown>;
  seconds: number;
  /** Set when the scenario itself could not run to the end. */
  error?: string;
}

/** What every scenario gets: the private servers (left running when it ends) and a seed. */
export interface ChaosContext {
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  seed: number;
  log(line: string): void;
}

/** A check from a measured value and whether it meets the goal. */
export function check(goal: string, measured: number | string, met: boolean | null): ChaosCheck {
  const shown = typeof measured === "number" ? String(Math.round(measured * 1000) / 1000) : measured;
  return { goal, measured: shown, met };
}

/** Seconds, rounded to milliseconds. */
export const secondsSince = (t0: number) => Math.round(performance.now() - t0) / 1000;

/** A text table: scenario, goal, measured, met. */
export function formatTable(results: ChaosResult[]): string {
  const rows = [["scenario", "goal", "measured", "met"]];
  for (const r of results) {
    if (r.error) rows.push([r.name, "(scenario ran to the end)", r.error.slice(0, 80), "NO"]);
    for (const c of r.checks) rows.push([r.name, c.goal, c.measured, c.met === null ? "-" : c.met ? "yes" : "NO"]);
  }
  const widths = rows[0]!.map((_, i) => Math.min(70, Math.max(...rows.map((row) => row[i]!.length))));
  const line = (row: string[]) => row.map((cell, i) => cell.slice(0, widths[i]).padEnd(widths[i]!)).join(" | ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("-+-"), ...rows.slice(1).map(line)].join("\n");
}
