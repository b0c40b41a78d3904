/**
 * Handles every inbound chat event, whatever the channel: once-only processing, who is
 * speaking, and turning answers (reaction, reply, button, `approve K7QF`, bare yes/no)
 * into decisions, with a one-line confirmation or a polite "already decided".
 * Other text goes to the injected chat-ops intents. Strangers change nothing and
 * learn nothing but, once a day, a pairing code.
 */
import type { TextIntentHandler } from "../../domain/operator.js";
import { type Approval, DEFAULT_APPROVER_ROLES, type Verdict } from "../../domain/approval.js";
import { AppError } from "../../domain/errors.js";
import type {
  ChannelName,
  InboundButton,
  InboundEvent,
  InboundReaction,
  InboundText,
  MessageRef,
} from "../../domain/channel.js";
import type { ChatStore } from "../../store/chat-store.js";
import type { AuditStore } from "../../store/audit-store.js";
import { isEligible } from "../approvals/approval-machine.js";
import type { AlwaysResult, ApplyResult, ApprovalService } from "../approvals/approval-service.js";
import { parseAnswer, verdictOfReaction } from "./answer-parser.js";
import { parseIntent } from "./intent-parser.js";
import type { EnqueueOutbox } from "../../domain/outbox.js";
import { describeOutcome, parseButtonData } from "../approvals/card-presenter.js";
import type { Operator, OperatorDirectory } from "./operators.js";
import type { Renderer } from "./render.js";
import { createReply } from "./reply.js";
import { formatClock, formatDuration } from "../../lib/time-format.js";
import { alwaysReply } from "../approvals/rule-replies.js";

/** How unknown senders are treated: paired elsewhere (recognised) or greeted with a pairing code. */
export interface StrangerHandler {
  /** The operator behind a sender paired in another process since this one loaded, if any. */
  recognise(event: InboundEvent): Promise<Operator | null>;
  /** Reply at most once a day, with a pairing code. */
  greet(event: InboundEvent): Promise<unknown>;
}

/** Requests one `pending` answer lists (newest first); the rest are counted. */
const PENDING_LISTED = 20;
/** Newest pending requests read to find an operator's own (the count says "+" when all were theirs to see). */
const PENDING_SCAN = 1_000;

/** Injected dependencies of {@link createChatHandler}. */
export interface ChatHandlerDeps {
  /** Without `approveAlways` (no standing rules), "✅ always" is a plain approval and says no rule was saved. */
  service: Pick<ApprovalService, "answer" | "get" | "getByCode" | "list"> &
    Partial<Pick<ApprovalService, "approveAlways">>;
  directory: OperatorDirectory;
  chat: Pick<ChatStore, "claimInbound" | "findCardRef">;
  audit: Pick<AuditStore, "append">;
  renderer: Renderer;
  enqueue: EnqueueOutbox;
  logger: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  now?: () => Date;
  /** How long a 📝 button waits for the note (default 10 min). */
  noteWaitMs?: number;
  /** Queries and commands: everything that is not an answer. */
  intents: TextIntentHandler;
  strangers?: StrangerHandler;
  /** The roles an operator answers with for those away who named them delegate (none: absent). */
  delegatedRoles?: (operator: Operator) => Promise<readonly string[]>;
  /**
   * Pauses before an answer on an unknown message looks for its card again (the card may be on
   * screen before the process that sent it has recorded it). @defaultValue [50, 100, 200]
   */
  cardLookupRetryMs?: readonly number[];
}

const CARD_LOOKUP_RETRY_MS = [50, 100, 200] as const;

/** `text` without NUL characters and unpaired surrogates. */
function storableText(text: string): string {
  return text.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "");
}

/** The inbound pipeline shared by all channels. */
export function createChatHandler(deps: ChatHandlerDeps) {
  const now = deps.now ?? (() => new Date());
  // After 📝 on a button, the operator's next message is the note. Short-lived and per process,
  // which is fine: a lost wait just means they type `modify K7QF ...` instead.
  const awaitingNote = new Map<string, { approvalId: string; until: number }>();
  const noteKey = (channel: ChannelName, chatId: string, operator: string) => `${channel}|${chatId}|${operator}`;

  const say = createReply(deps);
  const cardLookupRetryMs = deps.cardLookupRetryMs ?? CARD_LOOKUP_RETRY_MS;

  /**
   * The card `ref` shows, looking again after each pause when `patient`. An answer given the
   * instant a card appeared can arrive before another process has put the card on record (this
   * process's own writes are waited for by the store).
   */
  async function findCard(ref: MessageRef, patient: boolean) {
    const found = await deps.chat.findCardRef(ref);
    return found || !patient ? found : findCardLater(ref);
  }

  /** The card `ref` shows, looked for again after each pause (not at once). */
  async function findCardLater(ref: MessageRef) {
    for (const pause of cardLookupRetryMs) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      const found = await deps.chat.findCardRef(ref);
      if (found) return found;
    }
    return null;
  }

  async function pendingFor(operator: Operator): Promise<Approval[]> {
    return (await scanPending(operator)).eligible;
  }

  /** The operator's requests among the newest {@link PENDING_SCAN} pending; `full` when there may be more. */
  async function scanPending(operator: Operator): Promise<{ eligible: Approval[]; full: boolean }> {
    // Not just the newest few: with custom roles an operator's requests can be older ones.
    const pending = await deps.service.list({ status: "pending", limit: PENDING_SCAN });
    return { eligible: pending.filter((a) => isEligible(a, operator)), full: pending.length === PENDING_SCAN };
  }

  async function reportResult(event: InboundEvent, operator: Operator, result: ApplyResult): Promise<string> {
    const a = result.approval;
    if (result.outcome === "decided") {
      const o = describeOutcome(a.status as Exclude<Approval["status"], "pending">);
      await say(event, "decision-confirmed", { icon: o.icon, outcome: o.word, code: a.code, title: a.title });
      return `${o.icon} ${o.word} ${a.code}`;
    }
    if (result.outcome === "escalated") return "";
    if (result.outcome === "vote_recorded") {
      await say(event, "vote-recorded", { code: a.code, approvals: result.approvals, quorum: result.quorum });
      return `Counted (${result.approvals}/${result.quorum})`;
    }
    switch (result.reason) {
      case "already_decided": {
        if (a.status === "pending") return "";
        const o = describeOutcome(a.status);
        const at = a.decidedAt ? formatClock(a.decidedAt, operator.timezone, now()) : "";
        await say(event, "already-decided", { code: a.code, outcome: o.word.toLowerCase(), by: a.decidedBy, at });
        return `Already ${o.word.toLowerCase()} by ${a.decidedBy}`;
      }
      case "not_eligible":
        await say(event, "not-eligible", { code: a.code, roles: a.approverRoles.join(", ") });
        return "Not allowed";
      case "self_approval":
        await say(event, "self-approval", { code: a.code });
        return "Someone else has to approve";
      case "note_required":
        await say(event, "note-required", { code: a.code });
        return "📝 needs a note";
      case "already_voted":
        await say(event, "already-voted", { code: a.code });
        return "Already counted";
      default:
        return "";
    }
  }

  async function decide(
    event: InboundEvent,
    operator: Operator,
    approvalId: string,
    verdict: Verdict,
    note: string | null,
  ) {
    const result = await deps.service.answer({ approvalId, operator, verdict, note, channel: event.channel });
    return reportResult(event, operator, result);
  }

  /** "✅ always": approve and make a standing rule, or say why no rule can cover this request. */
  async function decideAlways(
    event: InboundEvent,
    operator: Operator,
    approvalId: string,
    note: string | null,
  ): Promise<string> {
    const input = { approvalId, operator, note, channel: event.channel };
    let always: AlwaysResult;
    if (deps.service.approveAlways) always = await deps.service.approveAlways(input);
    else {
      const result = await deps.service.answer({ ...input, verdict: "approve" });
      always = { outcome: "answered", result, rule: null, ruleFailed: result.outcome === "decided" };
    }
    if (always.outcome === "answered" && !always.rule) {
      // Not approved by this answer (not eligible, already decided, …): the usual reply; approved
      // but the rule not stored: that reply, then why there is no rule.
      const toast = await reportResult(event, operator, always.result);
      if (!always.ruleFailed) return toast;
    }
    const reply = alwaysReply(always, operator.timezone, now());
    await say(event, reply.template, reply.view);
    return reply.toast;
  }

  /** An answer parsed from text: "✅ always" or a verdict. */
  const answerWith = (
    event: InboundEvent,
    operator: Operator,
    approvalId: string,
    parsed: { verdict: Verdict; note: string | null; always?: true },
  ) =>
    parsed.always
      ? decideAlways(event, operator, approvalId, parsed.note)
      : decide(event, operator, approvalId, parsed.verdict, parsed.note);

  async function onReaction(event: InboundReaction, operator: Operator) {
    const verdict = verdictOfReaction(event.emoji);
    if (!verdict) return; // other emoji, or a removed reaction: not an answer
    const message = { channel: event.channel, chatId: event.chatId, messageId: event.messageId };
    const ref = await findCard(message, false);
    if (ref) return void (await decide(event, operator, ref.approvalId, verdict, null));
    // A 👍 on any other message is common and means nothing here, so the chat's next messages do
    // not wait while it is looked for again: a card found late is decided then.
    void findCardLater(message)
      .then((late) => (late ? decide(event, operator, late.approvalId, verdict, null) : undefined))
      .catch((err) => deps.logger.error({ err, channel: event.channel, chatId: event.chatId }, "late reaction failed"));
  }

  async function onButton(event: InboundButton, operator: Operator) {
    const parsed = parseButtonData(event.data);
    if (!parsed) {
      await event.answer?.("This button is no longer valid.");
      return;
    }
    if (parsed.verdict === "modify") {
      const approval = await deps.service.get(parsed.approvalId);
      if (approval?.status === "pending" && isEligible(approval, operator)) {
        awaitingNote.set(noteKey(event.channel, event.chatId, operator.name), {
          approvalId: approval.id,
          until: now().getTime() + (deps.noteWaitMs ?? 600_000),
        });
        await say(event, "ask-for-note", { code: approval.code });
        await event.answer?.("📝 Send what should change");
        return;
      }
    }
    const toast =
      parsed.verdict === "always"
        ? await decideAlways(event, operator, parsed.approvalId, null)
        : await decide(event, operator, parsed.approvalId, parsed.verdict, null);
    await event.answer?.(toast);
  }

  async function onText(event: InboundText, operator: Operator, intents: TextIntentHandler) {
    // Chat text may hold characters PostgreSQL cannot store (NUL, a lone surrogate): drop them
    // here, so a note is never the reason an answer fails.
    const text = storableText(event.text).trim();
    const key = noteKey(event.channel, event.chatId, operator.name);
    const waiting = awaitingNote.get(key);
    awaitingNote.delete(key);

    // Read as an answer on its own (it may name a code); a reply to a card is read again below.
    const parsed = parseAnswer(text, false);

    // A reply to a card: a leading verdict is the answer, the rest is the note.
    if (event.replyToMessageId) {
      const onCard = parseAnswer(text, true);
      // Only a verdict without a code needs its card: with a code, or as an awaited note, the
      // answer goes the same way whether or not the card is found.
      const ref = await findCard(
        { channel: event.channel, chatId: event.chatId, messageId: event.replyToMessageId },
        onCard !== null && !parsed?.code,
      );
      if (ref) {
        if (onCard) return void (await answerWith(event, operator, ref.approvalId, onCard));
        if (waiting?.approvalId === ref.approvalId)
          return void (await decide(event, operator, ref.approvalId, "modify", text));
      }
    }

    if (parsed?.code) {
      const approval = await deps.service.getByCode(parsed.code);
      if (!approval) return say(event, "unknown-code", { code: parsed.code });
      return void (await answerWith(event, operator, approval.id, parsed));
    }
    if (waiting && waiting.until > now().getTime() && !parsed) {
      return void (await decide(event, operator, waiting.approvalId, "modify", text));
    }
    if (parsed) {
      // A bare answer (also a ✅ replied to a message that is not a card) decides only when
      // exactly one request waits for this operator, and never a hard one: that needs its code,
      // its card's button, or a reaction or reply on its card.
      const pending = await pendingFor(operator);
      if (pending.length === 0) return say(event, "nothing-pending");
      if (pending.length > 1)
        return say(event, "which-one", { items: pending.slice(0, 10).map((a) => ({ code: a.code, title: a.title })) });
      const only = pending[0]!;
      if (only.effectiveGate === "hard") return say(event, "hard-needs-code", { code: only.code, title: only.title });
      return void (await answerWith(event, operator, only.id, parsed));
    }

    // Not an answer: parsed once into a query or command and dispatched from one table.
    const intent = parseIntent(text);
    if (intent?.kind === "pending") return listPending(event, operator);
    await intents({ operator, text, intent, event, canAnswer: await mayAnswer(operator) });
  }

  async function listPending(event: InboundText, operator: Operator): Promise<void> {
    // One message, however long the backlog: the newest few, and how many more (at least).
    const { eligible, full } = await scanPending(operator);
    const listed = eligible.slice(0, PENDING_LISTED);
    const counted = (n: number) => `${n.toLocaleString("en-US")}${full ? "+" : ""}`;
    return say(event, "pending-list", {
      empty: eligible.length === 0,
      count: counted(eligible.length),
      more: eligible.length > listed.length ? counted(eligible.length - listed.length) : null,
      items: listed.map((a) => ({
        code: a.code,
        title: a.title,
        gate: a.effectiveGate,
        left: formatDuration(((a.deadlineAt ?? a.objectionEndsAt)?.getTime() ?? now().getTime()) - now().getTime()),
      })),
    });
  }

  /** Whether the operator may answer anything: a default approver role, or eligible for a waiting request. */
  async function mayAnswer(operator: Operator): Promise<boolean> {
    if (operator.roles.some((r) => DEFAULT_APPROVER_ROLES.includes(r))) return true;
    return (await pendingFor(operator)).length > 0;
  }

  return {
    /**
     * Handle one inbound event. Never throws: failures are logged and, where useful, the
     * operator is told to try again.
     */
    async handle(event: InboundEvent): Promise<void> {
      let known = false;
      try {
        if (!(await deps.chat.claimInbound(event.channel, event.eventId))) return; // redelivered
        const found =
          deps.directory.bySender(event.channel, [event.sender.id, ...(event.sender.altIds ?? [])]) ??
          (await deps.strangers?.recognise(event)) ??
          null;
        if (!found) {
          // Strangers learn nothing: at most a daily pairing code (see StrangerHandler).
          await deps.audit.append([
            {
              actor: `${event.channel}:${event.sender.id}`,
              action: "stranger.message",
              subject: null,
              data: { channel: event.channel, chatId: event.chatId, kind: event.kind },
            },
          ]);
          if (event.kind === "button") await event.answer?.("");
          await deps.strangers?.greet(event);
          return;
        }
        known = true;
        const roles = deps.delegatedRoles ? await deps.delegatedRoles(found) : [];
        const operator: Operator = roles.length ? { ...found, delegatedRoles: roles } : found;
        if (event.kind === "reaction") return await onReaction(event, operator);
        if (event.kind === "button") return await onButton(event, operator);
        return await onText(event, operator, deps.intents);
      } catch (error) {
        deps.logger.error(
          { err: error, channel: event.channel, chatId: event.chatId, eventId: event.eventId },
          "inbound handling failed",
        );
        // Never silence for an operator (strangers still learn nothing): the event is already
        // claimed, so they are told to try again rather than left waiting.
        if (known && event.kind !== "reaction") {
          const text =
            error instanceof AppError
              ? error.userMessage
              : deps.renderer.render("try-again", deps.renderer.formatOf(event.channel), {});
          if (event.kind === "button") await event.answer?.(text).catch(() => undefined);
          else
            await deps
              .enqueue({ op: "text", channel: event.channel, chatId: event.chatId, text })
              .catch(() => undefined);
        }
      }
    },
  };
}

/** The chat handler's interface, for injection into channels. */
export type ChatHandler = ReturnType<typeof createChatHandler>;
