/**
 * The chat-ops queries and commands, plugged into the chat handler as its {@link TextIntentHandler}:
 * queries (status, queue, spend, failures, digest, help) for every operator, and commands
 * (kill / retry / prioritise a task, pause, resume, pair) for the roles configured for each.
 * Every command is audited, refused ones too, and confirmed in chat; task commands reach the
 * task's source by signed webhook (the delivery queue) and by pull (`GET /api/commands`).
 */
import type { InboundText } from "../../domain/channel.js";
import type { Task, TaskCommand, TaskState } from "../../domain/operations.js";
import type { AuditStore } from "../../store/audit-store.js";
import type { CommandStore } from "../../store/command-store.js";
import type { SettingsStore } from "../../store/settings-store.js";
import type { TaskStore } from "../../store/task-store.js";
import type { Broadcaster } from "../chat/broadcast.js";
import type { EnqueueOutbox } from "../../domain/outbox.js";
import type { TextIntentHandler } from "../../domain/operator.js";
import type { DigestService } from "../digests/digest-service.js";
import {
  type CommandKind,
  INTENT_USAGE,
  type Intent,
  QUERY_KINDS,
  type QueryKind,
  suggestIntents,
} from "../chat/intent-parser.js";
import type { OpsQueries } from "./ops-queries.js";
import type { Operator } from "../chat/operators.js";
import type { PairingService } from "../pairing/pairing-service.js";
import type { Renderer } from "../chat/render.js";
import { createReply } from "../chat/reply.js";
import { formatClock } from "../../lib/time-format.js";
import { formatAwayUntil } from "../chat/presence.js";
import type { PresenceStore } from "../../store/presence-store.js";
import { BREAKER_ACTOR } from "../approvals/breaker.js";
import type { SelfCommands } from "./self-commands.js";

/** Which roles may say each command. */
export type CommandRoles = Readonly<Record<CommandKind, readonly string[]>>;

/** Injected dependencies of {@link createOpsHandler}. */
export interface OpsHandlerDeps {
  queries: OpsQueries;
  digests: Pick<DigestService, "digestNow">;
  tasks: Pick<TaskStore, "matchingId">;
  commands: Pick<CommandStore, "apply">;
  settings: Pick<SettingsStore, "pauseState" | "setPaused">;
  audit: Pick<AuditStore, "append">;
  pairing: Pick<PairingService, "pair">;
  broadcaster: Pick<Broadcaster, "toOperators">;
  /** Queue a command's webhook delivery (the delivery queue's `enqueue`). */
  deliver(deliveryId: string): Promise<void>;
  /** The webhook of a source, or null when it pulls. */
  commandUrl(source: string): string | null;
  renderer: Pick<Renderer, "render" | "formatOf">;
  enqueue: EnqueueOutbox;
  commandRoles: CommandRoles;
  now: () => Date;
  logger: { warn(o: object, m?: string): void };
  /** away / back / digest on|off / unpair; absent: those say "I didn't understand". */
  self?: SelfCommands;
  /** Who is away, for `status`. */
  presence?: Pick<PresenceStore, "active">;
}

/** States from which each task command may act. */
export const COMMAND_STATES: Record<TaskCommand, readonly TaskState[]> = {
  kill: ["backlog", "ready", "in-progress", "review"],
  retry: ["failed", "in-progress"],
  prioritise: ["backlog", "ready", "in-progress", "review"],
};

const DONE: Record<TaskCommand, { icon: string; done: string }> = {
  kill: { icon: "🛑", done: "Killed" },
  retry: { icon: "🔁", done: "Retrying" },
  prioritise: { icon: "⏫", done: "Prioritised" },
};

/**
 * Which task an operator meant by `typed`, among the tasks whose id matches it ignoring case:
 * the exact id wins, a single match is it, several are `ambiguous` (never a guess).
 */
export function pickTask(
  typed: string,
  matches: readonly Task[],
): { task: Task } | { ambiguous: readonly Task[] } | { task: null } {
  const exact = matches.find((t) => t.id === typed);
  if (exact) return { task: exact };
  if (matches.length > 1) return { ambiguous: matches };
  return { task: matches[0] ?? null };
}

/** Whether `operator` may say `command`. */
export function mayCommand(operator: Pick<Operator, "roles">, command: CommandKind, roles: CommandRoles): boolean {
  return operator.roles.some((r) => roles[command].includes(r));
}

/** Build the handler; see the module comment. */
export function createOpsHandler(deps: OpsHandlerDeps): TextIntentHandler {
  const say = createReply(deps);

  const allowedIntents = (operator: Operator): Array<QueryKind | CommandKind> => [
    ...QUERY_KINDS,
    ...(["kill", "retry", "prioritise", "pause", "resume", "pair"] as const).filter((c) =>
      mayCommand(operator, c, deps.commandRoles),
    ),
  ];

  async function refuse(
    event: InboundText,
    operator: Operator,
    command: CommandKind,
    subject: string | null,
  ): Promise<void> {
    await deps.audit.append([
      {
        actor: operator.name,
        action: "command.refused",
        subject,
        at: deps.now(),
        data: { command, channel: event.channel, roles: operator.roles },
      },
    ]);
    await say(event, "not-allowed", { action: command, roles: deps.commandRoles[command].join(", ") });
  }

  async function taskCommand(
    event: InboundText,
    operator: Operator,
    command: TaskCommand,
    typedId: string | null,
  ): Promise<void> {
    if (!mayCommand(operator, command, deps.commandRoles))
      return refuse(event, operator, command, typedId ? `task:${typedId}` : null);
    if (!typedId) return say(event, "task-command-refused", { missing: true, verb: command });
    // Ids match ignoring case ("kill task t-12" finds T-12); the source's own spelling is used from here on.
    const picked = pickTask(typedId, await deps.tasks.matchingId(typedId));
    if ("ambiguous" in picked)
      return say(event, "which-task", {
        id: typedId,
        verb: command,
        items: picked.ambiguous.map((t) => ({ id: t.id, title: t.title, state: t.state, source: t.source })),
      });
    const taskId = picked.task?.id ?? typedId;
    const at = deps.now();
    const result = await deps.commands.apply({
      taskId,
      command,
      by: operator.name,
      at,
      allowedStates: COMMAND_STATES[command],
      commandUrl: deps.commandUrl,
      audit: (before, after, commandId) => [
        {
          actor: operator.name,
          action: `task.${command}`,
          subject: `task:${after.id}`,
          at,
          data: {
            commandId,
            source: after.source,
            from: before.state,
            to: after.state,
            priority: after.priority,
            channel: event.channel,
            webhook: deps.commandUrl(after.source) !== null,
          },
        },
      ],
    });
    if (result.outcome === "not_found")
      return say(event, "task-command-refused", { unknown: true, id: typedId, verb: command });
    if (result.outcome === "wrong_state")
      return say(event, "task-command-refused", {
        wrongState: true,
        id: result.task.id,
        state: result.task.state,
        verb: command,
      });
    if (result.deliveryId) {
      // Committed with the task change; if Redis is down now, the reconciler enqueues it on start.
      await deps
        .deliver(result.deliveryId)
        .catch((err) =>
          deps.logger.warn(
            { err: (err as Error).message, deliveryId: result.deliveryId },
            "command delivery not queued",
          ),
        );
    }
    const t = result.command.task;
    await say(event, "task-command-done", {
      ...DONE[command],
      id: t.id,
      title: t.title,
      state: command === "prioritise" ? `${t.state}, priority ${t.priority}` : t.state,
      source: t.source,
      via: result.deliveryId ? "by webhook" : "when it next pulls its commands",
    });
  }

  async function setPause(event: InboundText, operator: Operator, paused: boolean): Promise<void> {
    const command = paused ? "pause" : "resume";
    if (!mayCommand(operator, command, deps.commandRoles)) return refuse(event, operator, command, "autonomy");
    const state = await deps.settings.pauseState();
    const reader = operator.timezone;
    // The breaker stopped autonomy because something went wrong: an owner decides it is safe again.
    if (!paused && state.paused && state.by === BREAKER_ACTOR && !operator.roles.includes("owner")) {
      await deps.audit.append([
        {
          actor: operator.name,
          action: "command.refused",
          subject: "autonomy",
          at: deps.now(),
          data: { command, channel: event.channel, roles: operator.roles, reason: "breaker" },
        },
      ]);
      return say(event, "breaker-holds", { since: state.at ? formatClock(state.at, reader, deps.now()) : "a while" });
    }
    if (state.paused === paused) {
      return say(event, "pause-changed", {
        paused,
        already: true,
        by: state.by,
        since: state.at ? formatClock(state.at, reader, deps.now()) : "a while",
      });
    }
    const at = deps.now();
    await deps.settings.setPaused(
      paused,
      operator.name,
      [
        {
          actor: operator.name,
          action: paused ? "autonomy.paused" : "autonomy.resumed",
          subject: "autonomy",
          at,
          data: { channel: event.channel },
        },
      ],
      at,
    );
    await say(event, "pause-changed", { paused, already: false });
    await deps.broadcaster.toOperators(
      (o) => o.name !== operator.name,
      "pause-notice",
      (o) => ({ paused, by: operator.name, at: formatClock(at, o.timezone, at) }),
    );
  }

  async function pair(
    event: InboundText,
    operator: Operator,
    intent: Extract<Intent, { kind: "pair" }>,
  ): Promise<void> {
    if (!mayCommand(operator, "pair", deps.commandRoles)) return refuse(event, operator, "pair", "pairing");
    if (intent.code === null) return say(event, "pairing-failed", { usage: true });
    const result = await deps.pairing.pair(operator, intent.code, intent.role, intent.name);
    if (!result.ok)
      return say(event, "pairing-failed", { [result.reason]: true, code: result.code, name: result.name });
    await say(event, "paired", { name: result.operator.name, role: result.role, channel: result.channel });
  }

  /**
   * Never acted on: the operator is shown the command it resembles, to type as an order if meant,
   * and only commands they may use; with none left, a typo is plain unknown text.
   */
  async function nearMiss(
    event: InboundText,
    operator: Operator,
    intent: Extract<Intent, { kind: "near-miss" }>,
    canAnswer: boolean,
    text: string,
  ): Promise<void> {
    const usable = intent.suggestions.filter((s) =>
      s.kind === "approve" || s.kind === "reject" || s.kind === "modify"
        ? canAnswer
        : mayCommand(operator, s.kind, deps.commandRoles),
    );
    if (usable.length === 0 && intent.why !== "negated") return notUnderstood(event, operator, text);
    await say(event, "did-you-mean", {
      [intent.why]: true,
      any: usable.length > 0,
      suggestions: usable.map((s, i) => ({ text: s.text, last: i === usable.length - 1 })),
    });
  }

  function notUnderstood(event: InboundText, operator: Operator, text: string): Promise<void> {
    const suggestions = suggestIntents(text, allowedIntents(operator)).map((k) => INTENT_USAGE[k]);
    return say(event, "not-understood", {
      suggestions: [...suggestions, ...(suggestions.includes("help") ? [] : ["help"])].join(", "),
    });
  }

  async function help(event: InboundText, operator: Operator, canAnswer: boolean): Promise<void> {
    const may = (c: CommandKind) => mayCommand(operator, c, deps.commandRoles);
    await say(event, "help", {
      canAnswer,
      tasks:
        may("kill") || may("retry") || may("prioritise")
          ? { kill: may("kill"), retry: may("retry"), prioritise: may("prioritise") }
          : null,
      canPause: may("pause"),
      canResume: may("resume"),
      canPair: may("pair"),
      paired: operator.paired === true,
    });
  }

  return async ({ operator, text, intent, event, canAnswer }) => {
    const now = deps.now();
    if (!intent) {
      await notUnderstood(event, operator, text);
      return "not_understood";
    }
    switch (intent.kind) {
      case "near-miss":
        await nearMiss(event, operator, intent, canAnswer, text);
        break;
      case "help":
        await help(event, operator, canAnswer);
        break;
      case "status": {
        const [answer, away] = await Promise.all([
          deps.queries.status(operator, now),
          deps.presence ? deps.presence.active(now) : [],
        ]);
        // "eve away until Fri 24 Dec, delegate bob": expired absences are never shown.
        const lines = away.map((a) => {
          const until = formatAwayUntil(a.until, operator.timezone, now);
          return { text: `${a.operator} away until ${until}${a.delegate ? `, delegate ${a.delegate}` : ""}` };
        });
        await say(event, answer.template, { ...answer.view, away: lines });
        break;
      }
      case "queue":
      case "failures": {
        const answer = await deps.queries[intent.kind](operator, now);
        await say(event, answer.template, answer.view);
        break;
      }
      case "spend": {
        const answer = await deps.queries.spend(operator, now, intent.day);
        await say(event, answer.template, answer.view);
        break;
      }
      case "digest": {
        const answer = await deps.digests.digestNow(operator);
        await say(event, answer.template, answer.view);
        break;
      }
      case "kill":
      case "retry":
      case "prioritise":
        await taskCommand(event, operator, intent.kind, intent.taskId);
        break;
      case "pause":
      case "resume":
        await setPause(event, operator, intent.kind === "pause");
        break;
      case "pair":
        await pair(event, operator, intent);
        break;
      case "unpair":
        if (!mayCommand(operator, "pair", deps.commandRoles)) await refuse(event, operator, "pair", "pairing");
        else if (deps.self) await deps.self.handle(event, operator, intent, say);
        else await notUnderstood(event, operator, text);
        break;
      case "away":
      case "back":
      case "digest-switch":
        if (deps.self) await deps.self.handle(event, operator, intent, say);
        else await notUnderstood(event, operator, text);
        break;
    }
    return intent.kind;
  };
}
