/**
 * What an operator says about themselves — `away until <date> [delegate to <name>]`, `back`,
 * `digest on` / `digest off` — and an owner's `unpair <name>`. Each change is stored with its
 * audit entry and confirmed in chat.
 */
import type { InboundText } from "../../domain/channel.js";
import type { Intent } from "../../domain/intent.js";
import type { AuditEntry } from "../../store/audit-store.js";
import type { PresenceStore } from "../../store/presence-store.js";
import type { PairingStore } from "../../store/pairing-store.js";
import type { Operator, OperatorDirectory } from "../chat/operators.js";
import { AWAY_EXAMPLES, formatAwayUntil, parseAwayUntil, routeAround } from "../chat/presence.js";

/** `digest on` for a paired operator: every day at 08:00 their time, as `digest: true` in the config. */
const PAIRED_DIGEST_CRON = "0 8 * * *";

/** Injected dependencies of {@link createSelfCommands}. */
export interface SelfCommandDeps {
  presence: Pick<PresenceStore, "setAway" | "back" | "active">;
  directory: Pick<OperatorDirectory, "all" | "byName" | "removePaired" | "addPaired">;
  pairing: Pick<PairingStore, "unpair" | "setDigest">;
  /** Start or stop one operator's digest schedule (BullMQ job scheduler), and tell the digest service. */
  digestSchedule: {
    set(operator: Operator, cron: string): Promise<void>;
    clear(operator: string): Promise<void>;
  };
  now: () => Date;
}

/** Says a template back to the speaker. */
export type Say = (event: InboundText, template: string, view: Record<string, unknown>) => Promise<void>;

type SelfIntent = Extract<Intent, { kind: "away" | "back" | "digest-switch" | "unpair" }>;

/** Build the handler of these commands; `mayUnpair` is checked by the caller. */
export function createSelfCommands(deps: SelfCommandDeps) {
  const audit = (actor: string, action: string, subject: string, data: Record<string, unknown>): AuditEntry => ({
    actor,
    action,
    subject,
    at: deps.now(),
    data,
  });
  const examples = AWAY_EXAMPLES.map((e) => `"${e}"`).join(", ");

  async function away(event: InboundText, operator: Operator, intent: Extract<SelfIntent, { kind: "away" }>, say: Say) {
    if (intent.until === null) return say(event, "away-changed", { usage: true, examples: AWAY_EXAMPLES[1] });
    const now = deps.now();
    const until = parseAwayUntil(intent.until, operator.timezone, now);
    if (!until) return say(event, "away-changed", { badDate: true, typed: intent.until, examples });
    const delegate = intent.delegate
      ? deps.directory.all().find((o) => o.name.toLowerCase() === intent.delegate!.toLowerCase())
      : undefined;
    if (intent.delegate && !delegate)
      return say(event, "away-changed", { unknownDelegate: true, name: intent.delegate });
    if (delegate?.name === operator.name) return say(event, "away-changed", { selfDelegate: true });
    await deps.presence.setAway(
      { operator: operator.name, until, delegate: delegate?.name ?? null, setBy: operator.name, setAt: now },
      [
        audit(operator.name, "operator.away", `operator:${operator.name}`, {
          until: until.toISOString(),
          delegate: delegate?.name ?? null,
          channel: event.channel,
        }),
      ],
    );
    // Would a request only they can answer still reach them? (Their own roles, nobody else holding them.)
    const away = await deps.presence.active(now);
    const alone = operator.roles.some((role) => {
      const holders = deps.directory.all().filter((o) => o.roles.includes(role));
      const routed = routeAround(holders, away, deps.directory.byName);
      return routed.some((o) => o.name === operator.name);
    });
    await say(event, "away-changed", {
      away: {
        until: formatAwayUntil(until, operator.timezone, now),
        delegate: delegate?.name ?? null,
        nobody: alone,
      },
    });
  }

  async function back(event: InboundText, operator: Operator, say: Say) {
    const ended = await deps.presence.back(
      operator.name,
      [audit(operator.name, "operator.back", `operator:${operator.name}`, { channel: event.channel })],
      deps.now(),
    );
    await say(event, "away-changed", ended ? { back: true } : { notAway: true });
  }

  async function digestSwitch(event: InboundText, operator: Operator, on: boolean, say: Say) {
    // A configured operator's digest belongs to the config file: one source of truth for it.
    if (!operator.paired) return say(event, "digest-switched", { configured: true });
    const cron = on ? PAIRED_DIGEST_CRON : null;
    await deps.pairing.setDigest(operator.name, cron, [
      audit(operator.name, on ? "digest.on" : "digest.off", `operator:${operator.name}`, { channel: event.channel }),
    ]);
    const updated: Operator = { ...operator, digest: cron ?? undefined };
    if (!on) delete updated.digest;
    deps.directory.addPaired([updated]);
    if (cron) await deps.digestSchedule.set(updated, cron);
    else await deps.digestSchedule.clear(operator.name);
    await say(event, "digest-switched", on ? { on: true, at: "08:00" } : { off: true });
  }

  async function unpair(event: InboundText, operator: Operator, name: string | null, say: Say) {
    if (name === null) return say(event, "unpaired", { usage: true });
    const target = deps.directory.all().find((o) => o.name.toLowerCase() === name.toLowerCase());
    if (target && !target.paired) return say(event, "unpaired", { configured: true, name: target.name });
    const removed = await deps.pairing.unpair(target?.name ?? name, [
      audit(operator.name, "operator.unpaired", `operator:${target?.name ?? name}`, {
        channel: event.channel,
        roles: target?.roles ?? null,
      }),
    ]);
    if (!removed) return say(event, "unpaired", { unknown: true, name });
    deps.directory.removePaired(target?.name ?? name);
    await deps.digestSchedule.clear(target?.name ?? name);
    await say(event, "unpaired", { done: true, name: target?.name ?? name });
  }

  return {
    /** Answer one of these intents for `operator`. */
    handle(event: InboundText, operator: Operator, intent: SelfIntent, say: Say): Promise<void> {
      switch (intent.kind) {
        case "away":
          return away(event, operator, intent, say);
        case "back":
          return back(event, operator, say);
        case "digest-switch":
          return digestSwitch(event, operator, intent.on, say);
        case "unpair":
          return unpair(event, operator, intent.name, say);
      }
    },
  };
}

/** The handler's interface, for injection into the ops handler. */
export type SelfCommands = ReturnType<typeof createSelfCommands>;
