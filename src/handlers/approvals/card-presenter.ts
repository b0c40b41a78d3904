/**
 * Puts approvals in front of operators: who gets a card, notice or advisory; what each card
 * says in the reader's timezone; and, after a decision, editing every card on every chat.
 * Sending is queued through the outbox (BullMQ) and performed by {@link CardPresenter.perform}.
 */
import type { Approval } from "../../domain/approval.js";
import type { Channel, ChannelName, MessageRef, OutboundMessage } from "../../domain/channel.js";
import type { EnqueueOutbox, OutboxJob } from "../../domain/outbox.js";
import type { CardRef, ChatStore } from "../../store/chat-store.js";
import type { ApprovalPresenter, TimerScheduler } from "./approval-service.js";
import type { Announcement } from "../../domain/approval.js";
import { isEligible } from "./approval-machine.js";
import { escalationNote } from "./escalation.js";
import { describeDecision } from "./outcome-words.js";
import { createReminderSender } from "./send-reminders.js";
import { ruleRefusal } from "./rules.js";
import type { ChatAddress, Operator, OperatorDirectory } from "../chat/operators.js";
import type { Renderer } from "../chat/render.js";
import { formatClock, formatDeadline } from "../../lib/time-format.js";
import { quietUntil } from "../../lib/quiet-hours.js";
import { type AbsenceView, routeAround } from "../chat/presence.js";

/** What a card button answers: a verdict, or "✅ always" (approve and make a standing rule). */
export type ButtonAnswer = "approve" | "reject" | "modify" | "always";

const BUTTON_LETTERS: Record<ButtonAnswer, string> = { approve: "a", reject: "r", modify: "m", always: "s" };
const BUTTON_ANSWERS: Record<string, ButtonAnswer> = { a: "approve", r: "reject", m: "modify", s: "always" };

/** Button payloads on cards: `ap:<approval id>:<a|r|m|s>` (≤ 64 bytes for Telegram; `s` is standing, "always"). */
export function buttonData(approvalId: string, answer: ButtonAnswer): string {
  return `ap:${approvalId}:${BUTTON_LETTERS[answer]}`;
}

/** Parse a button payload made by {@link buttonData}. */
export function parseButtonData(data: string): { approvalId: string; verdict: ButtonAnswer } | null {
  const m = /^ap:([0-9a-f-]{36}):([arms])$/.exec(data);
  if (!m) return null;
  return { approvalId: m[1]!, verdict: BUTTON_ANSWERS[m[2]!]! };
}

const OUTCOME: Record<Exclude<Approval["status"], "pending">, { icon: string; word: string }> = {
  approved: { icon: "✅", word: "Approved" },
  rejected: { icon: "❌", word: "Rejected" },
  changes_requested: { icon: "📝", word: "Changes requested" },
  cancelled: { icon: "🚫", word: "Cancelled" },
};

/** The reaction set on a card once decided (none while pending or when cancelled). */
const OUTCOME_REACTION: Record<Approval["status"], string | null> = {
  pending: null,
  approved: "✅",
  rejected: "❌",
  changes_requested: "📝",
  cancelled: null,
};

/** Words and icon for a decided status ("Approved", ✅). */
export function describeOutcome(status: Exclude<Approval["status"], "pending">) {
  return OUTCOME[status];
}

/** Whether "✅ always" can make a standing rule of this request (its card offers it). */
const canAlways = (approval: Approval) => approval.effectiveGate === "medium" && ruleRefusal(approval) === null;

/** Injected dependencies of {@link createCardPresenter}. */
export interface CardPresenterDeps {
  directory: OperatorDirectory;
  channels: ReadonlyMap<ChannelName, Channel>;
  renderer: Renderer;
  chat: Pick<ChatStore, "saveCardRef" | "listCardRefs">;
  approvals: {
    get(id: string): Promise<Approval | null>;
    /**
     * A `low` request's notice reached an eligible operator: its objection window counts from
     * `at`. Resolves with the window's new end when this delivery was the one that counted.
     */
    confirmNoticeDelivered(id: string, at: Date): Promise<Date | null>;
  };
  /**
   * Moves the window's timer to its new end, so it does not fire at the old one only to wait
   * again. Best effort: a timer left at the old time still waits for the new end when it fires.
   */
  timers?: Pick<TimerScheduler, "schedule">;
  enqueue: EnqueueOutbox;
  /** Channels delivered in process (see the outbox): their edits may use the committed snapshot. */
  localChannels?: ReadonlySet<ChannelName>;
  /** Post cards to this Telegram group instead of approvers' private chats. */
  telegramGroupChat?: string | undefined;
  defaultTimezone: string;
  /** Operators away now: their messages go to their delegate (see `routeAround`). */
  absences?: (now: Date) => Promise<readonly AbsenceView[]>;
  now?: () => Date;
}

/** The presenter: {@link ApprovalPresenter} for the service, `perform` for the outbox worker. */
export interface CardPresenter extends ApprovalPresenter {
  perform(job: OutboxJob): Promise<void>;
  /** Render a pending approval's card for one reader (also used by the web chat history). */
  renderCard(approval: Approval, channel: ChannelName, reader?: Operator): OutboundMessage;
  /** Remind every approver who owes this request an answer (replying to their card); how many were queued. */
  remind(approval: Approval): Promise<number>;
}

/** Build the presenter; see the module comment. */
export function createCardPresenter(deps: CardPresenterDeps): CardPresenter {
  const now = deps.now ?? (() => new Date());
  const running = () => [...deps.channels.keys()];

  async function recipients(
    approval: Approval,
    announcement: Exclude<Announcement, null>,
    only?: readonly string[],
  ): Promise<ChatAddress[]> {
    // Advisories ("do this yourself") go to the owners and to whoever could have approved it.
    const wanted = (op: Operator) =>
      (!only || only.includes(op.name)) &&
      (announcement === "advisory" ? op.roles.includes("owner") || isEligible(approval, op) : isEligible(approval, op));
    const out: ChatAddress[] = [];
    // Operators added later (an escalation step) read the group's card already; it is edited instead.
    const useGroup = deps.telegramGroupChat && deps.channels.has("telegram") && announcement !== "advisory" && !only;
    if (useGroup) out.push({ channel: "telegram", chatId: deps.telegramGroupChat! });
    const away = deps.absences ? await deps.absences(now()) : [];
    const readers = routeAround(deps.directory.all().filter(wanted), away, deps.directory.byName);
    for (const op of readers) {
      for (const address of deps.directory.addressesOf(op, running())) {
        if (useGroup && address.channel === "telegram") continue;
        out.push(address);
      }
    }
    return out;
  }

  function cardView(approval: Approval, zone: string) {
    const votes = approval.decisions.filter((d) => d.verdict === "approve").map((d) => d.operator);
    return {
      code: approval.code,
      title: approval.title,
      reason: approval.reason,
      agent: approval.agent,
      action: approval.action,
      // Enough of the digest for a person to compare with what the tool shows; the source checks all of it.
      payload: approval.payloadSha256?.slice(0, 8) ?? null,
      requestedBy: approval.requestedBy,
      gate: approval.effectiveGate === approval.gate ? approval.gate : `${approval.gate} → ${approval.effectiveGate}`,
      paused: approval.effectiveGate !== approval.gate,
      deadline: approval.deadlineAt ? formatDeadline(approval.deadlineAt, zone, now()) : null,
      preview: approval.preview,
      quorum: approval.quorum > 1 ? approval.quorum : null,
      votes: votes.length && approval.quorum > 1 ? `${votes.length}/${approval.quorum} (${votes.join(", ")})` : null,
      seconds: approval.objectionEndsAt
        ? Math.max(0, Math.round((approval.objectionEndsAt.getTime() - approval.createdAt.getTime()) / 1000))
        : null,
      proceedsAt: approval.objectionEndsAt ? formatClock(approval.objectionEndsAt, zone, now()) : null,
      always: canAlways(approval),
      escalated: escalationNote(approval),
    };
  }

  function render(
    approval: Approval,
    announcement: Exclude<Announcement, null>,
    channel: ChannelName,
    reader?: Operator,
  ): OutboundMessage {
    const zone = reader?.timezone ?? deps.defaultTimezone;
    const format = deps.renderer.formatOf(channel);
    if (approval.status !== "pending") {
      // The card keeps what was asked, and says what became of it in words (its buttons go).
      const text = deps.renderer.render(
        announcement === "advisory" ? "prohibited-advisory" : "approval-outcome",
        format,
        { ...cardView(approval, zone), decision: describeDecision(approval, zone, now()) },
      );
      return { text, buttons: [] };
    }
    const template =
      announcement === "notice" ? "objection-notice" : announcement === "card" ? "approval-card" : "auto-notice";
    const text = deps.renderer.render(template, format, cardView(approval, zone));
    const buttons =
      announcement === "notice"
        ? [
            { label: "❌ Stop", data: buttonData(approval.id, "reject") },
            { label: "✅ Go now", data: buttonData(approval.id, "approve") },
          ]
        : [
            { label: "✅ Approve", data: buttonData(approval.id, "approve") },
            { label: "❌ Reject", data: buttonData(approval.id, "reject") },
            { label: "📝 Modify", data: buttonData(approval.id, "modify") },
            // A standing approval is offered only where one could cover the request.
            ...(canAlways(approval) ? [{ label: "✅ Always", data: buttonData(approval.id, "always") }] : []),
          ];
    return { text, buttons };
  }

  /** One edit job per card, so each chat's edit is paced and ordered on its own. */
  async function refreshCards(approval: Approval): Promise<void> {
    const refs = await deps.chat.listCardRefs(approval.id);
    await Promise.all(
      refs
        .filter((ref) => deps.channels.has(ref.channel))
        .map((ref) =>
          deps.enqueue({
            op: "edit",
            approvalId: approval.id,
            version: approval.version,
            ref: { channel: ref.channel, chatId: ref.chatId, messageId: ref.messageId, kind: ref.kind },
            ...(deps.localChannels?.has(ref.channel) ? { snapshot: approval } : {}),
          }),
        ),
    );
  }

  async function editCard(
    approvalId: string,
    ref: MessageRef & { kind: CardRef["kind"] },
    snapshot?: Approval,
  ): Promise<void> {
    const channel = deps.channels.get(ref.channel);
    const approval = snapshot ?? (await deps.approvals.get(approvalId));
    if (!channel || !approval) return;
    const reader = deps.directory.byChat(ref.channel, ref.chatId);
    // A notice whose request was escalated by a pause is shown as a card from then on.
    const shownAs =
      ref.kind === "card" || (ref.kind === "notice" && approval.effectiveGate !== "low") ? "card" : ref.kind;
    await channel.edit(ref, render(approval, shownAs, ref.channel, reader));
    const reaction = OUTCOME_REACTION[approval.status];
    if (reaction) await channel.react(ref, reaction);
  }

  /**
   * Whether a message held for quiet hours has nothing left to say when it wakes: the request was
   * decided meanwhile (the digest tells of it), or the chat already has a card of it (it became
   * `medium` because nobody saw the notice in time, and the card went out then).
   */
  async function outgrewHold(approval: Approval, job: Extract<OutboxJob, { op: "announce" }>): Promise<boolean> {
    if (job.announcement !== "auto_notice" && approval.status !== "pending") return true;
    const refs = await deps.chat.listCardRefs(approval.id);
    return refs.some((r) => r.channel === job.channel && r.chatId === job.chatId);
  }

  const remind = createReminderSender(deps);

  return {
    /** `only`: just these operators (those an escalation step made eligible), never the group. */
    async announce(approval: Approval, announcement: Exclude<Announcement, null>, only?: readonly string[]) {
      for (const address of await recipients(approval, announcement, only)) {
        // In the reader's quiet hours a card arrives silently; notices and advisories wait.
        const quietEnd = address.operator
          ? quietUntil(address.operator.quietHours, address.operator.timezone, now())
          : null;
        const quiet = quietEnd ? (announcement === "card" ? { silent: true } : { heldUntil: quietEnd.getTime() }) : {};
        await deps.enqueue({
          op: "announce",
          approvalId: approval.id,
          announcement,
          channel: address.channel,
          chatId: address.chatId,
          ...(address.operator ? { operator: address.operator.name } : {}),
          ...quiet,
        });
      }
    },

    refresh: (approval) => refreshCards(approval),

    renderCard: (approval, channel, reader) => render(approval, "card", channel, reader),

    remind,

    async perform(job) {
      if (job.op === "text") {
        const channel = deps.channels.get(job.channel);
        if (!channel) return;
        await channel.send(job.chatId, {
          text: job.text,
          ...(job.replyToMessageId ? { replyToMessageId: job.replyToMessageId } : {}),
          ...(job.silent ? { silent: true } : {}),
        });
        return;
      }
      if (job.op === "edit") return editCard(job.approvalId, job.ref, job.snapshot);
      const approval = await deps.approvals.get(job.approvalId);
      const channel = deps.channels.get(job.channel);
      if (!approval || !channel) return;
      if (job.heldUntil !== undefined && (await outgrewHold(approval, job))) return;
      const reader = job.operator ? deps.directory.byName(job.operator) : undefined;
      // A notice whose request became medium on the way (paused, or no notice arrived in time) is a card now.
      const shownAs = job.announcement === "notice" && approval.effectiveGate !== "low" ? "card" : job.announcement;
      const kind = shownAs === "auto_notice" ? "notice" : shownAs;
      const ref = await channel.send(job.chatId, {
        ...render(approval, shownAs, job.channel, reader),
        ...(job.silent ? { silent: true } : {}),
      });
      await deps.chat.saveCardRef({ ...ref, approvalId: approval.id, kind });
      // Only now has someone been able to see it: the objection window starts counting.
      // (Once another chat's delivery is on record, the later ones need not write again.)
      if (shownAs === "notice" && !approval.noticeDeliveredAt) {
        const windowEndsAt = await deps.approvals.confirmNoticeDelivered(approval.id, now());
        // Not awaited: the next message in this chat need not wait for Redis.
        if (windowEndsAt) void deps.timers?.schedule(approval.id, "objection", windowEndsAt).catch(() => undefined);
      }
      // Decided while the card was on its way: the refresh may have run before this ref existed.
      const latest = await deps.approvals.get(approval.id);
      if (
        latest &&
        latest.status !== "pending" &&
        job.announcement !== "advisory" &&
        job.announcement !== "auto_notice"
      ) {
        await deps.enqueue({ op: "edit", approvalId: approval.id, version: latest.version, ref: { ...ref, kind } });
      }
    },
  };
}
