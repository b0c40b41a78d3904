/**
 * The circuit breaker: too many rejections, failed tasks or dead letters within a window pause
 * autonomy (the same persisted pause as `pause`, by `breaker`), tell the owners which rule fired
 * with its numbers, and hold until an owner says `resume`. Evaluated on each relevant event with
 * one count in PostgreSQL, so it works across processes; it trips once per crossing: events
 * before the last resume do not count again.
 */
import type { AuditEntry } from "../../store/audit-store.js";
import type { BreakerCounts } from "../../store/breaker-counts.js";
import type { PauseState } from "../../store/settings-store.js";
import type { Broadcaster } from "../chat/broadcast.js";
import { formatDuration } from "../../lib/time-format.js";

/** The actor of a pause the breaker set (an approver's `resume` is refused while it holds). */
export const BREAKER_ACTOR = "breaker";

/** What the breaker watches. */
export type BreakerEvent = keyof BreakerCounts;

/** Thresholds within `windowSeconds`; an absent one is not watched. */
export interface BreakerRules {
  rejections?: number | undefined;
  failedTasks?: number | undefined;
  deadLetters?: number | undefined;
  windowSeconds: number;
}

/** Injected dependencies of {@link createBreaker}. */
export interface BreakerDeps {
  rules: BreakerRules;
  counts: BreakerCounts;
  settings: {
    pauseState(): Promise<PauseState>;
    pauseIfRunning(by: string, audit: AuditEntry[], at: Date): Promise<boolean>;
  };
  broadcaster: Pick<Broadcaster, "toOperators">;
  now: () => Date;
  logger: { warn(o: object, m?: string): void };
}

/** A rule that fired: how many events in how long, against what limit. */
export interface Trip {
  rule: BreakerEvent;
  count: number;
  limit: number;
  windowSeconds: number;
}

const WORDS: Record<BreakerEvent, string> = {
  rejections: "rejections",
  failedTasks: "failed tasks",
  deadLetters: "dead letters",
};

/** Build the breaker; see the module comment. */
export function createBreaker(deps: BreakerDeps) {
  return {
    /**
     * One `event` happened: pause autonomy if its rule is crossed now. Resolves to the trip, or
     * null when nothing fired (no rule, under the limit, already paused, another process won).
     */
    async check(event: BreakerEvent): Promise<Trip | null> {
      const limit = deps.rules[event];
      if (limit === undefined) return null;
      const state = await deps.settings.pauseState();
      if (state.paused) return null;
      const now = deps.now();
      const windowStart = now.getTime() - deps.rules.windowSeconds * 1000;
      // Counted from the last resume at the earliest: what an owner already saw does not trip it again.
      const since = new Date(Math.max(windowStart, state.at?.getTime() ?? 0));
      const count = await deps.counts[event](since);
      if (count < limit) return null;
      const trip: Trip = { rule: event, count, limit, windowSeconds: deps.rules.windowSeconds };
      const audit: AuditEntry = {
        actor: BREAKER_ACTOR,
        action: "autonomy.paused",
        subject: "autonomy",
        at: now,
        data: { ...trip },
      };
      if (!(await deps.settings.pauseIfRunning(BREAKER_ACTOR, [audit], now))) return null;
      await deps.broadcaster
        .toOperators((o) => o.roles.includes("owner"), "breaker-tripped", {
          count,
          what: WORDS[event],
          window: formatDuration(deps.rules.windowSeconds * 1000).replace(/m$/, " min"),
          limit,
        })
        .catch((err) => deps.logger.warn({ err: (err as Error).message }, "breaker notice not queued"));
      return trip;
    },
  };
}

/** The breaker's interface, for injection. */
export type Breaker = ReturnType<typeof createBreaker>;
