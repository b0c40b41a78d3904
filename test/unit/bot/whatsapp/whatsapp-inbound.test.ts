import type { WAMessage } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { toInboundEvent } from "../../../../src/bot/whatsapp/whatsapp-inbound.js";
import { reactionMessage, textMessage } from "../../../fakes/fake-baileys-socket.js";

const receivedAt = new Date("2025-01-01T08:00:00Z");
const PHONE = "64211234567";
const PN = `${PHONE}@s.whatsapp.net`;

const convert = (msg: WAMessage, pnForLid?: (lid: string) => Promise<string | null>) =>
  toInboundEvent(msg, { receivedAt, pnForLid });

describe("whatsapp inbound conversion", () => {
  it("turns a plain text into a text event keyed by the message id", async () => {
    const result = await convert(textMessage(PHONE, "approve K7QF", { id: "3EB0AAA", pushName: "Adam" }));
    expect(result).toEqual({
      event: {
        channel: "whatsapp",
        kind: "text",
        chatId: PN,
        sender: { id: PN, displayName: "Adam" },
        eventId: "wa:3EB0AAA",
        messageId: "3EB0AAA",
        text: "approve K7QF",
        receivedAt,
      },
    });
  });

  it("takes a quoted reply's stanzaId as the message replied to", async () => {
    const result = await convert(textMessage(PHONE, "❌ not now", { quotedId: "3EB0CARD" }));
    expect(result).toMatchObject({ event: { kind: "text", text: "❌ not now", replyToMessageId: "3EB0CARD" } });
  });

  it("turns a reactionMessage into a reaction on the reacted message", async () => {
    const result = await convert(reactionMessage(PHONE, "3EB0CARD", "✅", { id: "3EB0REACT" }));
    expect(result).toMatchObject({
      event: { kind: "reaction", messageId: "3EB0CARD", emoji: "✅", eventId: "wa:3EB0REACT", chatId: PN },
    });
    const removed = await convert(reactionMessage(PHONE, "3EB0CARD", ""));
    expect(removed).toMatchObject({ event: { kind: "reaction", emoji: "" } });
  });

  it("unwraps disappearing-message wrappers", async () => {
    const msg: WAMessage = {
      key: { remoteJid: PN, fromMe: false, id: "3EB0EPH" },
      message: { ephemeralMessage: { message: { extendedTextMessage: { text: "status" } } } },
    };
    expect(await convert(msg)).toMatchObject({ event: { kind: "text", text: "status" } });
  });

  it("addresses a LID chat by phone number, with the LID as an alternative id", async () => {
    const viaAlt = await convert(textMessage(PHONE, "pending", { lid: "99887766@lid" }));
    expect(viaAlt).toMatchObject({ event: { chatId: PN, sender: { id: PN, altIds: ["99887766@lid"] } } });

    const viaMapping = await convert(
      textMessage(PHONE, "pending", { lid: "99887766@lid", hidePn: true }),
      async (lid) => (lid === "99887766@lid" ? `${PHONE}:0@s.whatsapp.net` : null),
    );
    expect(viaMapping).toMatchObject({ event: { chatId: PN, sender: { id: PN, altIds: ["99887766@lid"] } } });

    const unknown = await convert(
      textMessage(PHONE, "pending", { lid: "99887766@lid", hidePn: true }),
      async () => null,
    );
    expect(unknown).toMatchObject({ event: { chatId: "99887766@lid", sender: { id: "99887766@lid" } } });
    expect((unknown as { event: { sender: { altIds?: string[] } } }).event.sender.altIds).toBeUndefined();
  });

  it("drops what is not an operator talking to the bot", async () => {
    const dropped = async (msg: WAMessage) => {
      const result = await convert(msg);
      expect(result, JSON.stringify(msg.key)).toHaveProperty("dropped");
      return (result as { dropped: string }).dropped;
    };
    expect(await dropped(textMessage(PHONE, "hi", { fromMe: true }))).toBe("our own message");
    expect(await dropped(textMessage(PHONE, "story", { remoteJid: "status@broadcast" }))).toBe("status or broadcast");
    expect(await dropped(textMessage(PHONE, "list", { remoteJid: "123456@broadcast" }))).toBe("status or broadcast");
    expect(await dropped(textMessage(PHONE, "approve K7QF", { remoteJid: "120363000000@g.us" }))).toBe("group chat");
    expect(await dropped(textMessage(PHONE, "news", { remoteJid: "120363000000@newsletter" }))).toBe("newsletter");
    expect(
      await dropped({ key: { remoteJid: PN, fromMe: false, id: "P1" }, message: { protocolMessage: { type: 0 } } }),
    ).toBe("protocol message");
    expect(await dropped({ key: { remoteJid: PN, fromMe: false, id: "I1" }, message: { imageMessage: {} } })).toBe(
      "no text",
    );
    expect(await dropped({ key: { remoteJid: PN, fromMe: false, id: "E1" } })).toBe("no content");
  });
});
