/**
 * Use cases behind the source API for what sources report and the commands they pull: tasks,
 * spend (with the once-a-day alert to owners), heartbeats, notices to operators, and the command
 * pull with acknowledgements.
 */
import type { HeartbeatBody, NotifyBody, SpendBody, TaskBody } from "../../domain/requests/report-requests.js";
import type { CommandStore } from "../../store/command-store.js";
import type { AuditStore } from "../../store/audit-store.js";
import type { MonitorStore } from "../../store/monitor-store.js";
import type { SpendStore } from "../../store/spend-store.js";
import type { TaskStore, UpsertOutcome } from "../../store/task-store.js";
import type { Broadcaster } from "../chat/broadcast.js";
import { formatDay, formatMoney, localDateKey, startOfLocalDay } from "../../lib/zoned-time.js";

/** Injected dependencies of {@link createReportService}. */
export interface ReportServiceDeps {
  tasks: Pick<TaskStore, "upsert">;
  spend: Pick<SpendStore, "record" | "totals" | "claimAlert">;
  monitor: Pick<MonitorStore, "beat">;
  commands: Pick<CommandStore, "listUnacknowledged" | "acknowledge">;
  audit: Pick<AuditStore, "append">;
  broadcaster: Pick<Broadcaster, "toOperators">;
  /** The spend alert: its threshold (none: no alert), currency, and the day's timezone. */
  spendAlert: { threshold?: number | undefined; currency: string; timezone: string; locale: string };
  now: () => Date;
  logger: { warn(o: object, m?: string): void };
}

const SEVERITY_ICON = { info: "ℹ️", warning: "⚠️", critical: "🚨" } as const;

/** Build the report service; see the module comment. */
export function createReportService(deps: ReportServiceDeps) {
  /** Tell owners once a day when today's spend reaches the threshold. */
  async function checkSpendAlert(): Promise<boolean> {
    const { threshold, currency, timezone, locale } = deps.spendAlert;
    if (threshold === undefined) return false;
    const now = deps.now();
    const totals = await deps.spend.totals(startOfLocalDay(now, timezone), new Date(now.getTime() + 1));
    const total = totals.find((m) => m.currency === currency)?.amount ?? 0;
    if (total < threshold) return false;
    if (!(await deps.spend.claimAlert(localDateKey(now, timezone), currency, total, threshold))) return false;
    await deps.audit.append([
      { actor: "signoff", action: "spend.alert", subject: "spend", at: now, data: { total, threshold, currency } },
    ]);
    await deps.broadcaster.toOperators(
      (o) => o.roles.includes("owner"),
      "spend-alert",
      (o) => ({
        total: formatMoney(total, currency, o.locale ?? locale),
        threshold: formatMoney(threshold, currency, o.locale ?? locale),
        date: formatDay(now, timezone),
      }),
    );
    return true;
  }

  return {
    upsertTask: (source: string, input: TaskBody): Promise<UpsertOutcome> =>
      deps.tasks.upsert(source, input, deps.now()),

    /** Store a spend record; returns whether it set off today's alert. */
    async recordSpend(source: string, input: SpendBody) {
      const at = input.at ?? deps.now();
      await deps.spend.record(source, {
        amount: input.amount,
        currency: input.currency ?? deps.spendAlert.currency,
        agent: input.agent,
        model: input.model,
        at,
      });
      let alerted = false;
      try {
        alerted = await checkSpendAlert();
      } catch (error) {
        // The record is stored; the next one checks again.
        deps.logger.warn({ err: (error as Error).message }, "spend alert check failed");
      }
      return { alerted };
    },

    heartbeat: (source: string, input: HeartbeatBody) => deps.monitor.beat(source, input, deps.now()),

    /** Push a source's message to every operator; returns how many chats it was queued for. */
    async notify(source: string, input: NotifyBody): Promise<number> {
      const severity = input.severity ?? "info";
      await deps.audit.append([
        {
          actor: source,
          action: "source.notify",
          subject: null,
          at: deps.now(),
          data: { severity, text: input.text.slice(0, 500) },
        },
      ]);
      // Info and warnings wait for a reader's quiet hours to end; a critical one never waits.
      return deps.broadcaster.toOperators(
        () => true,
        "source-notify",
        { icon: SEVERITY_ICON[severity], source, text: input.text },
        severity === "critical" ? "loud" : "hold",
      );
    },

    listCommands: (source: string, after: string, limit: number) =>
      deps.commands.listUnacknowledged(source, after, limit),
    acknowledgeCommands: (source: string, ids: readonly string[]) => deps.commands.acknowledge(source, ids, deps.now()),
  };
}

/** The report service's interface, for injection. */
export type ReportService = ReturnType<typeof createReportService>;
