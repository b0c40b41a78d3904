/**
 * The Grafana dashboard and the Prometheus alerts name only metrics signoff exports: a renamed or
 * removed metric fails here instead of leaving an empty panel or an alert that can never fire.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetrics, readAtScrape } from "../../../src/api/metrics.js";
import { exportedSeriesNames } from "../../helpers/prometheus-text.js";

const root = new URL("../../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

// Words of PromQL that are not metric names (operators, modifiers); functions are told apart by
// the "(" after them.
const PROMQL_WORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "bool", "offset"]);

/** The metric names in a PromQL expression. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, "") // label matchers
    .replace(/\[[^\]]*\]/g, "") // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ""); // label lists
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const next = bare.slice(m.index! + word.length).trimStart();
    if (next.startsWith("(") || PROMQL_WORDS.has(word)) continue;
    if (/^\d/.test(word) || /^[eE]\d*$/.test(word)) continue;
    names.push(word);
  }
  return names;
}

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
const dashboard = JSON.parse(read("ops/grafana/signoff.json")) as {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string }> };
};
const dashboardExprs = dashboard.panels
  .flatMap((p) => [p, ...(p.panels ?? [])])
  .flatMap((p) => (p.targets ?? []).map((t) => ({ where: `dashboard panel "${p.title}"`, expr: t.expr })));
const alerts = parse(read("ops/prometheus/alerts.yaml")) as {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string }> }>;
};
const alertExprs = alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));

/** What a signoff registry exports, built the way the app builds it. */
async function exported(): Promise<Set<string>> {
  const { registry } = createMetrics();
  readAtScrape(registry, {
    countPending: async () => 0,
    queues: [],
    channels: () => [],
    dependencies: [],
  });
  return exportedSeriesNames(await registry.metrics());
}

describe("ops files", () => {
  it("finds metric names in PromQL and nothing else", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(signoff_timer_lateness_seconds_bucket{job="x"}[5m]))) > 1e3 and min(signoff_pending_approvals) > 20',
      ),
    ).toEqual(["signoff_timer_lateness_seconds_bucket", "signoff_pending_approvals"]);
  });

  it("every metric in every dashboard and alert expression is one signoff exports", async () => {
    const names = await exported();
    const exprs = [...dashboardExprs, ...alertExprs];
    expect(dashboardExprs.length).toBeGreaterThan(10);
    expect(alertExprs.length).toBeGreaterThanOrEqual(6);
    const unknown = exprs.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !names.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    for (const { where, expr } of exprs) expect(metricNames(expr), where).not.toEqual([]);
  });

  it("the dashboard shows every signoff metric and picks its Prometheus data source", async () => {
    const names = await exported();
    // A histogram is one metric with three series: any of them shows it.
    const family = (name: string) => name.replace(/_(bucket|sum|count)$/, "");
    const shown = new Set(dashboardExprs.flatMap(({ expr }) => metricNames(expr).map(family)));
    const missing = [...new Set([...names].filter((n) => n.startsWith("signoff_")).map(family))].filter(
      (n) => !shown.has(n),
    );
    expect(missing).toEqual([]);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: "datasource", type: "datasource", query: "prometheus" }),
    );
  });

  it("alerts cover channel down, dead-lettering, timer lateness, pending growth, PostgreSQL and Redis", () => {
    const byName = new Map(alertExprs.map((a) => [a.where, a.expr]));
    expect(byName.get("alert SignoffChannelDown")).toContain("signoff_channel_up");
    expect(byName.get("alert SignoffCallbacksDeadLettering")).toContain('result="dead"');
    expect(byName.get("alert SignoffTimerLate")).toMatch(/histogram_quantile\(0\.99,.*> 1$/);
    expect(byName.get("alert SignoffPendingGrowing")).toContain("signoff_pending_approvals");
    expect(byName.get("alert SignoffPostgresDown")).toContain('dependency="postgres"');
    expect(byName.get("alert SignoffRedisDown")).toContain('dependency="redis"');
  });
});
