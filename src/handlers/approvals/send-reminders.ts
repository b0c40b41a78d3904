/**
 * Sends the reminders of a request still waiting: to every approver who owes it an answer, as a
 * short message replying to their card where the card is known (so the platform quotes it), else
 * as a plain message to their chats. Queued through the outbox, like every other message.
 */
import type { Approval } from "../../domain/approval.js";
import type { ChannelName } from "../../domain/channel.js";
import type { EnqueueOutbox } from "../../domain/outbox.js";
import { quietUntil } from "../../lib/quiet-hours.js";
import { formatDuration } from "../../lib/time-format.js";
import type { ChatStore } from "../../store/chat-store.js";
import type { OperatorDirectory } from "../chat/operators.js";
import { type AbsenceView, routeAround } from "../chat/presence.js";
import type { Renderer } from "../chat/render.js";
import { isEligible } from "./approval-machine.js";
import { owesAnswer } from "./reminders.js";

/** Injected dependencies of {@link createReminderSender}. */
export interface ReminderSenderDeps {
  directory: Pick<OperatorDirectory, "all" | "addressesOf" | "byName">;
  /** Operators away now: their reminders go to their delegate, like their cards. */
  absences?: (now: Date) => Promise<readonly AbsenceView[]>;
  /** The running channels (only their names are used). */
  channels: ReadonlyMap<ChannelName, unknown>;
  renderer: Renderer;
  chat: Pick<ChatStore, "listCardRefs">;
  enqueue: EnqueueOutbox;
  /** Cards go to this Telegram group: one reminder there, replying to its card. */
  telegramGroupChat?: string | undefined;
  now?: () => Date;
}

/**
 * Build the sender; it resolves to how many reminders it queued. A decided request, or one
 * every approver has answered, gets none.
 */
export function createReminderSender(deps: ReminderSenderDeps): (approval: Approval) => Promise<number> {
  const now = deps.now ?? (() => new Date());

  return async function remind(approval) {
    if (approval.status !== "pending" || !approval.deadlineAt) return 0;
    const waiting = deps.directory.all().filter((op) => owesAnswer(approval, op, (o) => isEligible(approval, o)));
    if (waiting.length === 0) return 0;
    const refs = (await deps.chat.listCardRefs(approval.id)).filter(
      (ref) => ref.kind !== "advisory" && deps.channels.has(ref.channel),
    );
    // The newest card in each chat is the one to reply to (an older one may be from before a restart).
    const cardIn = new Map<string, string>();
    for (const ref of refs) cardIn.set(`${ref.channel}\u0000${ref.chatId}`, ref.messageId);
    const left = formatDuration(approval.deadlineAt.getTime() - now().getTime());
    const sent = new Set<string>();
    let count = 0;

    async function send(channel: ChannelName, chatId: string, silent = false): Promise<void> {
      const key = `${channel}\u0000${chatId}`;
      if (sent.has(key)) return;
      sent.add(key);
      const text = deps.renderer.render("reminder", deps.renderer.formatOf(channel), {
        code: approval.code,
        title: approval.title,
        left,
      });
      const replyTo = cardIn.get(key);
      await deps.enqueue({
        op: "text",
        channel,
        chatId,
        text,
        ...(replyTo ? { replyToMessageId: replyTo } : {}),
        // In the reader's quiet hours a reminder arrives like their card: silently.
        ...(silent ? { silent: true } : {}),
      });
      count++;
    }

    const useGroup = deps.telegramGroupChat !== undefined && deps.channels.has("telegram");
    if (useGroup) await send("telegram", deps.telegramGroupChat!);
    const running = [...deps.channels.keys()];
    const away = deps.absences ? await deps.absences(now()) : [];
    for (const op of routeAround(waiting, away, deps.directory.byName)) {
      const silent = quietUntil(op.quietHours, op.timezone, now()) !== null;
      for (const address of deps.directory.addressesOf(op, running)) {
        if (useGroup && address.channel === "telegram") continue;
        await send(address.channel, address.chatId, silent);
      }
    }
    return count;
  };
}
