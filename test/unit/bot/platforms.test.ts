/**
 * Each adapter's platform facts: the markup, chat ids, group rules and sending limits the
 * handlers and the outbox read instead of hard-coding them.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../src/bot/platforms.js";
import { TELEGRAM_PLATFORM } from "../../../src/bot/telegram/telegram-platform.js";
import { WEBCHAT_PLATFORM } from "../../../src/bot/webchat/webchat-platform.js";
import { WHATSAPP_PLATFORM } from "../../../src/bot/whatsapp/whatsapp-platform.js";

describe("platform facts", () => {
  it("collects every adapter's facts by channel name", () => {
    expect(PLATFORMS).toEqual({ telegram: TELEGRAM_PLATFORM, whatsapp: WHATSAPP_PLATFORM, webchat: WEBCHAT_PLATFORM });
  });

  it("Telegram: HTML, the user id is the chat, groups start with '-', 29/s, 1.1 s per chat, 20/min per group", () => {
    expect(TELEGRAM_PLATFORM.format).toBe("html");
    expect(TELEGRAM_PLATFORM.chatIdOf("4242")).toBe("4242");
    expect(TELEGRAM_PLATFORM.isGroup("-1001234")).toBe(true);
    expect(TELEGRAM_PLATFORM.isGroup("4242")).toBe(false);
    expect(TELEGRAM_PLATFORM.identityOf({ chatId: "4242", senderId: "4242" })).toBe("4242");
    expect(TELEGRAM_PLATFORM.pacing).toEqual({ globalPerSecond: 29, perChatIntervalMs: 1_100, groupPerMinute: 20 });
  });

  it("WhatsApp: *bold*, phone digits become the JID, groups end in @g.us, 1/s, 3 s per chat, 10/min, 0.7 s jitter", () => {
    expect(WHATSAPP_PLATFORM.format).toBe("whatsapp");
    expect(WHATSAPP_PLATFORM.chatIdOf("64211234567")).toBe("64211234567@s.whatsapp.net");
    expect(WHATSAPP_PLATFORM.isGroup("120363000000000000@g.us")).toBe(true);
    expect(WHATSAPP_PLATFORM.isGroup("64211234567@s.whatsapp.net")).toBe(false);
    expect(WHATSAPP_PLATFORM.pacing).toEqual({
      globalPerSecond: 1,
      perChatIntervalMs: 3_000,
      groupPerMinute: 10,
      jitterMs: 700,
    });
  });

  it("WhatsApp: a paired chat's phone comes from its JID, else from the digits the sender id starts with", () => {
    const identityOf = WHATSAPP_PLATFORM.identityOf;
    expect(identityOf({ chatId: "64211234567@s.whatsapp.net", senderId: "x" })).toBe("64211234567");
    expect(identityOf({ chatId: "64211234567", senderId: "x" })).toBe("64211234567");
    expect(identityOf({ chatId: "99887766554433@lid", senderId: "64211234567:4@s.whatsapp.net" })).toBe("64211234567");
    expect(identityOf({ chatId: "abc@lid", senderId: "abc@lid" })).toBeUndefined();
  });

  it("web chat: plain text, the operator's name is the chat, no groups, no limits", () => {
    expect(WEBCHAT_PLATFORM.format).toBe("plain");
    expect(WEBCHAT_PLATFORM.chatIdOf("adam")).toBe("adam");
    expect(WEBCHAT_PLATFORM.isGroup("-adam")).toBe(false);
    expect(WEBCHAT_PLATFORM.pacing).toBeUndefined();
  });
});
