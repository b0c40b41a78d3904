/**
 * Operators: the people signoff asks, known by their chat identities, holding roles, reached on
 * the channels that run. The directory that implements these lookups lives in the handlers.
 */
import type { Actor } from "./approval.js";
import type { ChannelName, InboundText } from "./channel.js";
import type { Intent } from "./intent.js";

/** An operator as handlers see them. */
export interface Operator extends Actor {
  name: string;
  roles: string[];
  timezone: string;
  telegram?: string | undefined;
  whatsapp?: string | undefined;
  webchat: boolean;
  /** BCP 47 locale for numbers and money; the configured default when absent. */
  locale?: string | undefined;
  /** True for operators admitted in chat (`pair`), stored in PostgreSQL. */
  paired?: boolean | undefined;
  /** `"22:00-07:00"` in their timezone: digests and notices wait until it ends, cards arrive silently. */
  quietHours?: string | undefined;
  /** Their digest cron (their timezone), if they get one. */
  digest?: string | undefined;
}

/** A chat where a message for an operator (or a group) goes. */
export interface ChatAddress {
  channel: ChannelName;
  chatId: string;
  /** The operator reading this chat, for their timezone; absent for group chats. */
  operator?: Operator;
}

/** Lookups over the configured operators and those paired in chat. */
export interface OperatorDirectory {
  all(): Operator[];
  byName(name: string): Operator | undefined;
  /** The operator behind a chat identity (any of the sender's ids), if any. */
  bySender(channel: ChannelName, senderIds: string[]): Operator | undefined;
  /** Chats where this operator can be reached on the given running channels. */
  addressesOf(operator: Operator, channels: readonly ChannelName[]): ChatAddress[];
  /** The operator reading a private chat, if it is one. */
  byChat(channel: ChannelName, chatId: string): Operator | undefined;
  /**
   * Add operators paired in chat (from PostgreSQL). Configured operators win: a paired one
   * whose name or chat identity is configured is ignored. Adding one again is harmless.
   */
  addPaired(operators: readonly Operator[]): void;
  /** Forget an operator paired in chat (`unpair`); false for a configured or unknown name. */
  removePaired(name: string): boolean;
}

/**
 * Answers a query or command already parsed from chat text (`intent`), or, when the text was
 * none of them (`intent: null`), says so with the closest things the operator may say.
 * Resolves to what it did.
 */
export type TextIntentHandler = (input: {
  operator: Operator;
  text: string;
  intent: Exclude<Intent, { kind: "pending" }> | null;
  event: InboundText;
  /** Whether this operator may answer approvals at all (for help). */
  canAnswer: boolean;
}) => Promise<string>;
