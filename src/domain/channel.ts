/**
 * The channel-agnostic chat contract. Adapters in `src/bot/` (Telegram, WhatsApp, web chat)
 * implement {@link Channel}; handlers in `src/handlers/` only ever see these types.
 */

/** Channel names as they appear in config, the store and decision records. */
export type ChannelName = "telegram" | "whatsapp" | "webchat";

/** Who sent something, as the platform identifies them (Telegram user id, WhatsApp JID, web chat name). */
export interface Sender {
  id: string;
  displayName?: string;
  /** Other ids the platform knows this sender by (e.g. a WhatsApp LID beside the phone JID). */
  altIds?: string[];
}

/** A message the bot sent, addressable for edits, reactions and replies. */
export interface MessageRef {
  channel: ChannelName;
  chatId: string;
  messageId: string;
}

interface InboundBase {
  channel: ChannelName;
  chatId: string;
  sender: Sender;
  /** Platform-unique id of this inbound event, used for once-only processing. */
  eventId: string;
  receivedAt: Date;
}

/** A text message, possibly a reply to one of the bot's messages. */
export interface InboundText extends InboundBase {
  kind: "text";
  messageId: string;
  text: string;
  replyToMessageId?: string;
}

/** A reaction set on a message (an empty emoji means the reaction was removed). */
export interface InboundReaction extends InboundBase {
  kind: "reaction";
  messageId: string;
  emoji: string;
}

/** A press of one of the card's buttons (Telegram inline keyboard, web chat buttons). */
export interface InboundButton extends InboundBase {
  kind: "button";
  messageId: string;
  data: string;
  /** Lets the adapter answer the press (Telegram's `answerCallbackQuery` toast). */
  answer?: (toast: string) => Promise<void>;
}

export type InboundEvent = InboundText | InboundReaction | InboundButton;

/** A button on a card; `data` comes back in {@link InboundButton.data} (≤ 64 bytes). */
export interface CardButton {
  label: string;
  data: string;
}

/** A message rendered for one channel's format, ready to send. */
export interface OutboundMessage {
  /** Text in the channel's markup (Telegram HTML, WhatsApp `*bold*`, plain for web chat). */
  text: string;
  buttons?: CardButton[];
  /** Message in the same chat this one answers or quotes. */
  replyToMessageId?: string;
  /** Deliver without a sound or alert where the platform can (the reader's quiet hours). */
  silent?: boolean;
}

/** What `/api/health` shows for a channel. */
export interface ChannelHealth {
  ok: boolean;
  detail: Record<string, unknown>;
}

/** Called by an adapter for every inbound event; resolves once the event is handled. */
export type InboundHandler = (event: InboundEvent) => Promise<void>;

/**
 * One chat platform. Sends may throw {@link ChannelError}; the outbox decides whether to retry.
 */
export interface Channel {
  readonly name: ChannelName;
  start(onInbound: InboundHandler): Promise<void>;
  stop(): Promise<void>;
  send(chatId: string, message: OutboundMessage): Promise<MessageRef>;
  /** Replace a sent message's text and buttons (WhatsApp, which cannot, sends a follow-up). */
  edit(ref: MessageRef, message: OutboundMessage): Promise<void>;
  react(ref: MessageRef, emoji: string): Promise<void>;
  health(): ChannelHealth;
  /**
   * Only on channels that keep their messages in memory (the web chat): whether this message
   * was sent since the channel started. A card it does not know was lost with a restart, so the
   * reconciler posts it again; platforms that keep messages (Telegram, WhatsApp) leave this out.
   */
  knows?(ref: MessageRef): boolean;
  /**
   * Only on channels that keep their messages in memory: how much one chat can show, and which
   * chats got their lost cards back in this run. A restart gives a chat back only what it can
   * show (the newest pending cards and one line for the rest), once per run.
   */
  memory?: ChannelMemory;
}

/** What a channel that keeps its messages in memory can show of a backlog (see {@link Channel.memory}). */
export interface ChannelMemory {
  /** Messages one chat keeps; older ones fall out (so re-posting more than this is wasted). */
  readonly keeps: number;
  /** Chats already given back their lost cards in this run: later reconciles leave them alone. */
  readonly caughtUp: Set<string>;
}

/**
 * A platform's sending limits, declared by its adapter and enforced by the outbox with one
 * calendar in Redis shared by every process.
 */
export interface PlatformPacing {
  /** Messages per second to all chats together. */
  globalPerSecond: number;
  /** Least time between two messages to one chat. */
  perChatIntervalMs: number;
  /** Messages per sliding minute to one group chat. */
  groupPerMinute?: number;
  /** Random extra wait (0..jitterMs) on each send, so sends do not look machine-timed. */
  jitterMs?: number;
}

/** Output markup of a channel: Telegram HTML, WhatsApp `*bold*`, plain text. */
export type MessageFormat = "html" | "whatsapp" | "plain";

/**
 * What handlers need to know about a chat platform, declared by its adapter and passed in by the
 * composition root, so no handler hard-codes a platform's markup, chat ids or group rules.
 */
export interface PlatformFacts {
  /** The markup messages to this platform are rendered in. */
  format: MessageFormat;
  /** Whether a chat id is a group: stricter pacing, and no pairing codes (everyone would read them). */
  isGroup(chatId: string): boolean;
  /** The chat id of an operator's configured identity (Telegram user id, WhatsApp digits, web chat name). */
  chatIdOf(identity: string): string;
  /** The identity to configure for an operator paired in this chat (the inverse of {@link chatIdOf}). */
  identityOf(paired: { chatId: string; senderId: string }): string | undefined;
  /** Sending limits the outbox enforces; absent when the platform has none (the web chat). */
  pacing?: PlatformPacing;
}

/** Every platform's facts, by channel name. */
export type Platforms = Readonly<Record<ChannelName, PlatformFacts>>;

/** A failed send; `retryAfterMs` set when the platform said when to try again. */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ChannelError";
  }
}
