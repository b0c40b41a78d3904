/**
 * Pure view builders for the chat-ops answers (status, queue, spend, failures, digest): data in,
 * the fields of the `prompts/` template out, formatted for one reader (their timezone, locale).
 * No I/O, so every reply can be checked against fixed data and a fixed clock.
 */
import type { Approval } from "../../domain/approval.js";
import {
  type HealthResult,
  type Heartbeat,
  type Money,
  type SpendLine,
  type Task,
  TASK_STATES,
  type TaskState,
} from "../../domain/operations.js";
import { formatClock, formatDuration } from "../../lib/time-format.js";
import { formatDay, formatMoney, formatMoneyList } from "../../lib/zoned-time.js";

/** Who reads the answer: where dates and money are formatted for. */
export interface Reader {
  timezone: string;
  locale?: string | undefined;
}

/** Settings the views need. */
export interface ViewSettings {
  currency: string;
  locale: string;
  stuckAfterMs: number;
}

/** An agent as status sees it. */
export interface AgentView {
  name: string;
  down: boolean;
  /** Why it is down: "silent 12m", "reports error". */
  why: string | null;
}

/** A configured health check and its last result (null before the first run). */
export interface ServiceView {
  name: string;
  result: HealthResult | null;
}

/** A dead-lettered delivery with a human label (the approval code, or the command and task). */
export interface DeadLetter {
  kind: "callback" | "command";
  label: string;
  lastError: string | null;
  at: Date;
}

const STATE_WORDS: Record<TaskState, string> = {
  backlog: "backlog",
  ready: "ready",
  "in-progress": "in progress",
  review: "review",
  done: "done",
  failed: "failed",
};
const DOWN_STATUSES = new Set(["down", "error", "failed", "failing", "dead", "stopped", "crashed", "unhealthy"]);

/** Whether each agent is up: silent longer than its interval, or reporting a down status, is down. */
export function agentStates(
  heartbeats: readonly Heartbeat[],
  now: Date,
  intervalMsOf: (agent: string) => number,
): AgentView[] {
  return heartbeats.map((h) => {
    const silentMs = now.getTime() - h.lastSeen.getTime();
    if (silentMs > intervalMsOf(h.agent))
      return { name: h.agent, down: true, why: `silent ${formatDuration(silentMs)}` };
    if (h.status && DOWN_STATUSES.has(h.status.toLowerCase()))
      return { name: h.agent, down: true, why: `reports ${h.status}${h.detail ? `: ${h.detail}` : ""}` };
    return { name: h.agent, down: false, why: null };
  });
}

const withLast = <T extends object>(items: T[]) => items.map((item, i) => ({ ...item, last: i === items.length - 1 }));
const money = (m: Money[], s: ViewSettings, r: Reader) => formatMoneyList(m, s.currency, r.locale ?? s.locale);
const clip = (text: string | null, max = 120) => (text && text.length > max ? `${text.slice(0, max - 1)}…` : text);

function taskCounts(counts: Partial<Record<TaskState, number>>, includeZero: boolean): string {
  const parts = TASK_STATES.filter((s) => includeZero || (counts[s] ?? 0) > 0).map(
    (s) => `${counts[s] ?? 0} ${STATE_WORDS[s]}`,
  );
  return parts.length ? parts.join(" · ") : "none reported";
}

function servicesSummary(services: readonly ServiceView[], reader: Reader, now: Date) {
  if (services.length === 0) return null;
  const down = services.filter((s) => s.result && !s.result.ok);
  return {
    up: services.filter((s) => s.result?.ok).length,
    down: down.length,
    downNames: down.map((s) => s.name).join(", "),
    unknown: services.filter((s) => !s.result).length,
    list: down.map((s) => ({
      name: s.name,
      since: formatClock(s.result!.since, reader.timezone, now),
      detail: clip(s.result!.detail, 80),
    })),
  };
}

function pauseView(pause: { paused: boolean; by: string | null; at: Date | null }, reader: Reader, now: Date) {
  return pause.paused
    ? { by: pause.by ?? "someone", since: pause.at ? formatClock(pause.at, reader.timezone, now) : "a while" }
    : null;
}

/** The `status` template's fields. */
export function buildStatusView(input: {
  now: Date;
  reader: Reader;
  settings: ViewSettings;
  pending: number;
  counts: Partial<Record<TaskState, number>>;
  spendToday: Money[];
  agents: readonly AgentView[];
  services: readonly ServiceView[];
  pause: { paused: boolean; by: string | null; at: Date | null };
}) {
  const { now, reader } = input;
  const down = input.agents.filter((a) => a.down);
  const services = servicesSummary(input.services, reader, now);
  return {
    at: formatClock(now, reader.timezone, now),
    pending: input.pending,
    tasks: taskCounts(input.counts, false),
    spendToday: money(input.spendToday, input.settings, reader),
    agents: input.agents.length
      ? { up: input.agents.length - down.length, down: down.length, downNames: down.map((a) => a.name).join(", ") }
      : null,
    services,
    paused: pauseView(input.pause, reader, now),
  };
}

const taskLine = (t: Task, now: Date) => ({
  id: t.id,
  title: t.title,
  agent: t.agent,
  age: formatDuration(now.getTime() - t.stateSince.getTime()),
});

/** The `queue` template's fields. */
export function buildQueueView(input: {
  now: Date;
  settings: ViewSettings;
  counts: Partial<Record<TaskState, number>>;
  ready: readonly Task[];
  inProgress: readonly Task[];
}) {
  const { now } = input;
  const total = Object.values(input.counts).reduce((a, b) => a + (b ?? 0), 0);
  return {
    empty: total === 0,
    counts: taskCounts(input.counts, true),
    ready: input.ready.map((t) => taskLine(t, now)),
    inProgress: input.inProgress.map((t) => ({
      ...taskLine(t, now),
      stuck: now.getTime() - t.stateSince.getTime() > input.settings.stuckAfterMs,
    })),
  };
}

/** The `spend` template's fields; `week` is the 7 full days before today. */
export function buildSpendView(input: {
  reader: Reader;
  settings: ViewSettings;
  day: "today" | "yesterday";
  dayStart: Date;
  summary: { totals: Money[]; byAgent: SpendLine[]; byModel: SpendLine[] };
  week: Money[];
}) {
  const { reader, settings } = input;
  const locale = reader.locale ?? settings.locale;
  const lines = (items: SpendLine[], none: string) =>
    withLast(items.map((l) => ({ name: l.key ?? none, amount: formatMoney(l.amount, l.currency, locale) })));
  return {
    day: input.day,
    date: formatDay(input.dayStart, reader.timezone),
    total: money(input.summary.totals, settings, reader),
    byAgent: lines(input.summary.byAgent, "(no agent)"),
    byModel: lines(input.summary.byModel, "(no model)"),
    average: money(averageOf(input.week), settings, reader),
  };
}

/** Daily average of 7 days' totals. */
export function averageOf(week: readonly Money[]): Money[] {
  return week.map((m) => ({ amount: m.amount / 7, currency: m.currency }));
}

const deadLine = (d: DeadLetter, reader: Reader, now: Date) => ({
  kind: d.kind,
  label: d.label,
  error: clip(d.lastError, 80),
  when: formatClock(d.at, reader.timezone, now),
});

/** The `failures` template's fields. */
export function buildFailuresView(input: {
  now: Date;
  reader: Reader;
  failed: { total: number; tasks: readonly Task[] };
  dead: { total: number; items: readonly DeadLetter[] };
  services: readonly ServiceView[];
  agents: readonly AgentView[];
}) {
  const { now, reader } = input;
  const services = servicesSummary(input.services, reader, now);
  const failedTasks = input.failed.tasks.map((t) => ({
    id: t.id,
    title: t.title,
    agent: t.agent,
    error: clip(t.error),
    when: formatClock(t.stateSince, reader.timezone, now),
  }));
  const deadLetters = input.dead.items.map((d) => deadLine(d, reader, now));
  const servicesDown = services?.list ?? [];
  const agentsDown = input.agents.filter((a) => a.down).map((a) => ({ name: a.name, why: a.why }));
  return {
    none: failedTasks.length + deadLetters.length + servicesDown.length + agentsDown.length === 0,
    failedTasks,
    moreTasks: Math.max(0, input.failed.total - failedTasks.length) || null,
    deadLetters,
    moreDead: Math.max(0, input.dead.total - deadLetters.length) || null,
    servicesDown,
    agentsDown,
  };
}

/** The `digest` template's fields; `quiet` when every section is empty. */
export function buildDigestView(input: {
  now: Date;
  reader: Reader;
  settings: ViewSettings;
  since: Date;
  done: number;
  failed: readonly Task[];
  stuck: readonly Task[];
  spendYesterday: Money[];
  week: Money[];
  dead: readonly DeadLetter[];
  agents: readonly AgentView[];
  services: readonly ServiceView[];
  pending: readonly Approval[];
  /** Pending approvals beyond those listed. */
  morePending?: number;
  pause: { paused: boolean; by: string | null; at: Date | null };
}) {
  const { now, reader, settings } = input;
  const services = servicesSummary(input.services, reader, now);
  const spend = input.spendYesterday.some((m) => m.amount !== 0)
    ? { total: money(input.spendYesterday, settings, reader), average: money(averageOf(input.week), settings, reader) }
    : null;
  const view = {
    date: formatDay(now, reader.timezone),
    since: formatClock(input.since, reader.timezone, now),
    done: input.done ? `${input.done} ${input.done === 1 ? "task" : "tasks"} done` : null,
    failed: input.failed.map((t) => ({ id: t.id, title: t.title, error: clip(t.error, 80) })),
    stuck: input.stuck.map((t) => ({
      id: t.id,
      title: t.title,
      age: formatDuration(now.getTime() - t.stateSince.getTime()),
    })),
    spend,
    deadLetters: input.dead.map((d) => deadLine(d, reader, now)),
    agentsDown: withLast(input.agents.filter((a) => a.down).map((a) => ({ name: a.name, why: a.why }))),
    servicesDown: withLast((services?.list ?? []).map((s) => ({ name: s.name, since: s.since }))),
    pending: input.pending.map((a) => ({
      code: a.code,
      title: a.title,
      left: formatDuration(((a.deadlineAt ?? a.objectionEndsAt)?.getTime() ?? now.getTime()) - now.getTime()),
    })),
    morePending: input.morePending || null,
    paused: pauseView(input.pause, reader, now),
  };
  const quiet =
    !view.done &&
    !view.failed.length &&
    !view.stuck.length &&
    !view.spend &&
    !view.deadLetters.length &&
    !view.agentsDown.length &&
    !view.servicesDown.length &&
    !view.pending.length &&
    !view.paused;
  return { ...view, quiet };
}
