/**
 * Strangers and pairing. A stranger learns nothing about the system: at most one reply
 * per day, carrying a pairing code that expires (default 1 h). An owner admits them with
 * `pair <code> as <role>`; the new operator is stored in PostgreSQL, joins the directory at once
 * (in every process: an unknown sender is looked up in PostgreSQL before being called a
 * stranger), and everything is audited.
 */
import { randomInt } from "node:crypto";
import type { ChannelName, InboundEvent, PlatformFacts } from "../../domain/channel.js";
import type { AuditStore } from "../../store/audit-store.js";
import type { PairedOperator, PairingStore } from "../../store/pairing-store.js";
import { CODE_ALPHABET } from "../approvals/approval-codes.js";
import type { Broadcaster } from "../chat/broadcast.js";
import type { EnqueueOutbox } from "../../domain/outbox.js";
import type { Operator, OperatorDirectory } from "../chat/operators.js";
import type { Renderer } from "../chat/render.js";

/** Injected dependencies of {@link createPairingService}. */
export interface PairingServiceDeps {
  store: Pick<PairingStore, "issueCode" | "findCode" | "admit" | "listPaired" | "findPaired">;
  directory: Pick<OperatorDirectory, "addPaired" | "bySender" | "byName" | "all" | "removePaired">;
  audit: Pick<AuditStore, "append">;
  renderer: Pick<Renderer, "render" | "formatOf">;
  enqueue: EnqueueOutbox;
  broadcaster: Pick<Broadcaster, "toOperator">;
  /** Each platform's group rule and how a paired chat becomes a configured identity. */
  platforms: PairingPlatforms;
  defaultTimezone: string;
  codeTtlMs: number;
  /** A stranger gets at most one reply in this window (default 24 h). */
  replyWindowMs?: number;
  now: () => Date;
}

/** What pairing needs to know of each platform. */
export type PairingPlatforms = Readonly<Record<ChannelName, Pick<PlatformFacts, "isGroup" | "identityOf">>>;

/** The outcome of `pair`, as the template `paired` / `pairing-failed` shows it. */
export type PairResult =
  | { ok: true; operator: Operator; role: string; channel: string }
  | { ok: false; reason: "unknown" | "expired" | "used" | "nameTaken" | "alreadyPaired"; code: string; name?: string };

const NAME = /^[\p{L}\p{N}_.-]{1,64}$/u;

/** A 6-character pairing code of the card alphabet (no 0/O, 1/I/L). */
export function generatePairingCode(): string {
  let code = "";
  for (let i = 0; i < 6; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** A paired operator as the directory holds them. */
export function toOperator(p: PairedOperator, defaultTimezone: string, platforms: PairingPlatforms): Operator {
  const identity = (channel: ChannelName) => (p.channel === channel ? platforms[channel].identityOf(p) : undefined);
  return {
    name: p.name,
    roles: [...p.roles],
    timezone: defaultTimezone,
    telegram: identity("telegram"),
    whatsapp: identity("whatsapp"),
    webchat: p.channel === "webchat",
    paired: true,
    ...(p.digest ? { digest: p.digest } : {}),
  };
}

/** Build the pairing service; see the module comment. */
export function createPairingService(deps: PairingServiceDeps) {
  const windowMs = deps.replyWindowMs ?? 86_400_000;

  function nameFor(
    channel: string,
    senderId: string,
    displayName: string | null,
    wanted: string | null,
  ): { name: string; explicit: boolean } {
    // In the web chat the chat id is the operator's name, so the name is the sender's.
    if (channel === "webchat") return { name: senderId, explicit: true };
    if (wanted) return { name: wanted, explicit: true };
    const slug = (displayName ?? "")
      .toLowerCase()
      .normalize("NFKC")
      .replace(/[^\p{L}\p{N}_.-]+/gu, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40);
    return {
      name: slug && NAME.test(slug) ? slug : `${channel}-${senderId.replace(/\D/g, "").slice(0, 20) || "guest"}`,
      explicit: false,
    };
  }

  return {
    /** Load every paired operator into the directory (on start, and now and then for other processes' pairings). */
    async load(): Promise<number> {
      const paired = await deps.store.listPaired();
      deps.directory.addPaired(paired.map((p) => toOperator(p, deps.defaultTimezone, deps.platforms)));
      // Unpaired in another process: forget them here too.
      const kept = new Set(paired.map((p) => p.name));
      for (const op of deps.directory.all()) if (op.paired && !kept.has(op.name)) deps.directory.removePaired(op.name);
      return paired.length;
    },

    /** An unknown sender paired in another process: add them and return them. */
    async recognise(event: InboundEvent): Promise<Operator | null> {
      const ids = [event.sender.id, ...(event.sender.altIds ?? [])];
      const found = await deps.store.findPaired(event.channel, ids);
      if (!found) return null;
      deps.directory.addPaired([toOperator(found, deps.defaultTimezone, deps.platforms)]);
      return deps.directory.bySender(event.channel, ids) ?? null;
    },

    /** A stranger's text: their one reply of the day, with a pairing code. Nothing else. */
    async greet(event: InboundEvent): Promise<boolean> {
      if (event.kind !== "text") return false;
      // In a group everyone would read the code (and could pair as this person): say nothing there.
      if (deps.platforms[event.channel].isGroup(event.chatId)) return false;
      const now = deps.now();
      for (let attempt = 0; attempt < 5; attempt++) {
        const result = await deps.store.issueCode({
          code: generatePairingCode(),
          channel: event.channel,
          senderId: event.sender.id,
          chatId: event.chatId,
          displayName: event.sender.displayName ?? null,
          now,
          expiresAt: new Date(now.getTime() + deps.codeTtlMs),
          notBefore: new Date(now.getTime() - windowMs),
        });
        if (result.outcome !== "issued") {
          if (result.outcome === "replied_recently") return false;
          continue; // code collision: draw another
        }
        await deps.audit.append([
          {
            actor: `${event.channel}:${event.sender.id}`,
            action: "stranger.pairing_code",
            subject: null,
            at: now,
            data: { channel: event.channel, chatId: event.chatId, expiresAt: result.code.expiresAt.toISOString() },
          },
        ]);
        const text = deps.renderer.render("pairing-code", deps.renderer.formatOf(event.channel), {
          code: result.code.code,
          minutes: Math.round(deps.codeTtlMs / 60_000),
        });
        await deps.enqueue({ op: "text", channel: event.channel, chatId: event.chatId, text });
        return true;
      }
      return false;
    },

    /** `pair <code> as <role> [named <name>]` by an operator already allowed to pair. */
    async pair(by: Operator, code: string, role: string, wantedName: string | null): Promise<PairResult> {
      const now = deps.now();
      const pending = await deps.store.findCode(code);
      if (!pending) return { ok: false, reason: "unknown", code };
      if (pending.usedBy) return { ok: false, reason: "used", code };
      if (pending.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: "expired", code };
      let { name, explicit } = nameFor(pending.channel, pending.senderId, pending.displayName, wantedName);
      if (!explicit)
        for (let n = 2; deps.directory.byName(name) && n < 100; n++) name = `${name.replace(/-\d+$/, "")}-${n}`;
      if (deps.directory.byName(name)) return { ok: false, reason: "nameTaken", code, name };
      const outcome = await deps.store.admit({
        code,
        at: now,
        operator: {
          name,
          roles: [role],
          channel: pending.channel,
          senderId: pending.senderId,
          chatId: pending.chatId,
          displayName: pending.displayName,
          pairedBy: by.name,
        },
        audit: [
          {
            actor: by.name,
            action: "operator.paired",
            subject: name,
            at: now,
            data: { channel: pending.channel, senderId: pending.senderId, roles: [role] },
          },
        ],
      });
      if (outcome.outcome === "code_used") return { ok: false, reason: "used", code };
      if (outcome.outcome === "name_taken") return { ok: false, reason: "nameTaken", code, name };
      if (outcome.outcome === "already_paired") return { ok: false, reason: "alreadyPaired", code };
      const operator = toOperator(outcome.operator, deps.defaultTimezone, deps.platforms);
      deps.directory.addPaired([operator]);
      const added = deps.directory.byName(name) ?? operator;
      await deps.broadcaster.toOperator(added, "pairing-welcome", { name, role, by: by.name });
      return { ok: true, operator: added, role, channel: pending.channel as ChannelName };
    },
  };
}

/** The pairing service's interface, for injection. */
export type PairingService = ReturnType<typeof createPairingService>;
