/**
 * The read side of chat-ops: loads what `status`, `queue`, `spend`, `failures` and the digest
 * show, and returns the template name and view for one reader. Stores are injected (narrowed
 * with `Pick<>`) and the clock is a parameter, so answers are reproducible in tests.
 */
import type { Approval } from "../../domain/approval.js";
import type { MonitorStore } from "../../store/monitor-store.js";
import type { SettingsStore } from "../../store/settings-store.js";
import type { SpendStore } from "../../store/spend-store.js";
import type { TaskStore } from "../../store/task-store.js";
import {
  type AgentView,
  type Reader,
  type ServiceView,
  type ViewSettings,
  agentStates,
  buildDigestView,
  buildFailuresView,
  buildQueueView,
  buildSpendView,
  buildStatusView,
} from "./ops-views.js";
import { startOfLocalDay } from "../../lib/zoned-time.js";
import { singleFlight } from "../../lib/single-flight.js";

/** A rendered answer: which `prompts/` template, with which fields. */
export interface Answer {
  template: string;
  view: Record<string, unknown>;
}

/** Injected dependencies of {@link createOpsQueries}. */
export interface OpsQueriesDeps {
  tasks: Pick<TaskStore, "countByState" | "oldestIn" | "enteredBetween" | "countEnteredBetween" | "stuck">;
  spend: Pick<SpendStore, "totals" | "summary">;
  monitor: Pick<MonitorStore, "listHeartbeats" | "listHealth" | "listDeadLetters">;
  settings: Pick<SettingsStore, "pauseState">;
  /** Pending approvals, newest first (the first `limit`), and how many there are. */
  pendingApprovals(limit: number): Promise<Approval[]>;
  countPending(): Promise<number>;
  /** Names of the configured health checks, in config order. */
  healthChecks: readonly string[];
  /** An agent's heartbeat interval in ms (its own, or the default). */
  heartbeatMsOf(agent: string): number;
  view: ViewSettings;
}

/** Shown in lists before "…and N more". */
const LIST_LIMIT = 5;
const DAY_MS = 86_400_000;
/** How far back `failures` looks for failed tasks and dead letters. */
export const FAILURES_LOOKBACK_MS = 7 * DAY_MS;

/** Build the query side; see the module comment. */
export function createOpsQueries(deps: OpsQueriesDeps) {
  // Many operators asking "status" at once share each underlying read (see single-flight.ts).
  const listHeartbeats = singleFlight(() => deps.monitor.listHeartbeats());
  const listHealth = singleFlight(() => deps.monitor.listHealth());
  const countPending = singleFlight(() => deps.countPending());
  const countByState = singleFlight(() => deps.tasks.countByState());
  const pauseState = singleFlight(() => deps.settings.pauseState());
  const spendTotals = singleFlight(
    (from: Date, to: Date) => deps.spend.totals(from, to),
    (from, to) => `${from.getTime()}-${to.getTime()}`,
  );

  async function agents(now: Date): Promise<AgentView[]> {
    return agentStates(await listHeartbeats(), now, deps.heartbeatMsOf);
  }

  async function services(): Promise<ServiceView[]> {
    const results = new Map((await listHealth()).map((r) => [r.name, r]));
    return deps.healthChecks.map((name) => ({ name, result: results.get(name) ?? null }));
  }

  /** Totals of the 7 full local days before `now`'s day. */
  const week = (now: Date, reader: Reader) =>
    deps.spend.totals(startOfLocalDay(now, reader.timezone, -7), startOfLocalDay(now, reader.timezone, 0));

  return {
    async status(reader: Reader, now: Date): Promise<Answer> {
      const [pending, counts, spendToday, agentList, serviceList, pause] = await Promise.all([
        countPending(),
        countByState(),
        // Up to the next whole second, so status requests in the same second share one read.
        spendTotals(startOfLocalDay(now, reader.timezone), new Date(Math.floor(now.getTime() / 1000) * 1000 + 1000)),
        agents(now),
        services(),
        pauseState(),
      ]);
      return {
        template: "status",
        view: buildStatusView({
          now,
          reader,
          settings: deps.view,
          pending,
          counts,
          spendToday,
          agents: agentList,
          services: serviceList,
          pause,
        }),
      };
    },

    async queue(_reader: Reader, now: Date): Promise<Answer> {
      const [counts, ready, inProgress] = await Promise.all([
        deps.tasks.countByState(),
        deps.tasks.oldestIn("ready", 3),
        deps.tasks.oldestIn("in-progress", 3),
      ]);
      return { template: "queue", view: buildQueueView({ now, settings: deps.view, counts, ready, inProgress }) };
    },

    async spend(reader: Reader, now: Date, day: "today" | "yesterday"): Promise<Answer> {
      const dayStart = startOfLocalDay(now, reader.timezone, day === "today" ? 0 : -1);
      const dayEnd = day === "today" ? new Date(now.getTime() + 1) : startOfLocalDay(now, reader.timezone, 0);
      const [summary, weekTotals] = await Promise.all([deps.spend.summary(dayStart, dayEnd), week(now, reader)]);
      return {
        template: "spend",
        view: buildSpendView({ reader, settings: deps.view, day, dayStart, summary, week: weekTotals }),
      };
    },

    async failures(reader: Reader, now: Date): Promise<Answer> {
      const since = new Date(now.getTime() - FAILURES_LOOKBACK_MS);
      const [failed, dead, serviceList, agentList] = await Promise.all([
        deps.tasks.enteredBetween("failed", since, new Date(now.getTime() + 1), LIST_LIMIT),
        deps.monitor.listDeadLetters(since, LIST_LIMIT),
        services(),
        agents(now),
      ]);
      return {
        template: "failures",
        view: buildFailuresView({ now, reader, failed, dead, services: serviceList, agents: agentList }),
      };
    },

    /** The digest for the period [since, now). */
    async digest(reader: Reader, now: Date, since: Date): Promise<Answer> {
      const end = new Date(now.getTime() + 1);
      const [done, failed, stuck, spendYesterday, weekTotals, dead, agentList, serviceList, pending, pause] =
        await Promise.all([
          deps.tasks.countEnteredBetween("done", since, end),
          deps.tasks.enteredBetween("failed", since, end, LIST_LIMIT),
          deps.tasks.stuck(new Date(now.getTime() - deps.view.stuckAfterMs), LIST_LIMIT),
          deps.spend.totals(startOfLocalDay(now, reader.timezone, -1), startOfLocalDay(now, reader.timezone, 0)),
          week(now, reader),
          deps.monitor.listDeadLetters(since, LIST_LIMIT),
          agents(now),
          services(),
          Promise.all([deps.pendingApprovals(LIST_LIMIT), deps.countPending()]),
          deps.settings.pauseState(),
        ]);
      const view = buildDigestView({
        now,
        reader,
        settings: deps.view,
        since,
        done,
        failed: failed.tasks,
        stuck: stuck.tasks,
        spendYesterday,
        week: weekTotals,
        dead: dead.items,
        agents: agentList,
        services: serviceList,
        pending: pending[0],
        morePending: Math.max(0, pending[1] - pending[0].length),
        pause,
      });
      return { template: "digest", view };
    },
  };
}

/** The query side's interface, for injection. */
export type OpsQueries = ReturnType<typeof createOpsQueries>;
