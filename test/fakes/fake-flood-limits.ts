/**
 * Telegram's flood limits as the fake Bot API enforces them: sliding windows over the times
 * messages were accepted, answered with 429 and `retry_after` (whole seconds, as Telegram does).
 */
import { ApiFailure, type Params } from "./fake-bot-api-wire.js";

/** Flood limits, as documented by Telegram for bots. */
export interface RateLimits {
  /** @defaultValue 30 */
  globalPerSecond: number;
  /** @defaultValue 1 */
  perChatPerSecond: number;
  /** Applies to group chats (negative ids). @defaultValue 20 */
  perGroupPerMinute: number;
  /** Methods that count as a sent message. @defaultValue sendMessage, editMessageText, editMessageReplyMarkup */
  methods: string[];
}

const DEFAULT_LIMITS: RateLimits = {
  globalPerSecond: 30,
  perChatPerSecond: 1,
  perGroupPerMinute: 20,
  methods: ["sendMessage", "editMessageText", "editMessageReplyMarkup"],
};

/** The limits of one fake server and the send times they are checked against. */
export class FloodLimits {
  readonly limits: RateLimits;
  private readonly sentAt: number[] = [];
  private readonly sentAtByChat = new Map<number, number[]>();

  constructor(overrides: Partial<RateLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...overrides };
  }

  /** Throws a 429 {@link ApiFailure} if sending now would break a limit. */
  check(method: string, p: Params): void {
    if (!this.limits.methods.includes(method)) return;
    const t = Date.now();
    const chatId = Number(p.chat_id);
    const wait = (stamps: number[], max: number, windowMs: number) => {
      const recent = stamps.filter((s) => s > t - windowMs);
      const oldest = recent[recent.length - max];
      return recent.length >= max && oldest !== undefined ? Math.max(1, Math.ceil((oldest + windowMs - t) / 1000)) : 0;
    };
    const chatStamps = this.sentAtByChat.get(chatId) ?? [];
    const retryAfter = Math.max(
      wait(this.sentAt, this.limits.globalPerSecond, 1000),
      wait(chatStamps, this.limits.perChatPerSecond, 1000),
      chatId < 0 ? wait(chatStamps, this.limits.perGroupPerMinute, 60_000) : 0,
    );
    if (retryAfter > 0)
      throw new ApiFailure(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
  }

  /** Records an accepted message. */
  count(method: string, p: Params): void {
    if (!this.limits.methods.includes(method)) return;
    const t = Date.now();
    this.sentAt.push(t);
    const chatId = Number(p.chat_id);
    this.sentAtByChat.set(chatId, [...(this.sentAtByChat.get(chatId) ?? []).filter((s) => s > t - 60_000), t]);
    while (this.sentAt.length > 0 && (this.sentAt[0] ?? 0) <= t - 1000) this.sentAt.shift();
  }
}
