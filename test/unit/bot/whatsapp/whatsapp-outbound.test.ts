/**
 * Sending through the real adapter on a fake socket: cards as text, edits as follow-ups quoting
 * the card, reactions on the card, sent messages kept for Baileys' retry requests.
 */
import { proto, type WAMessage } from "@whiskeysockets/baileys";
import { afterEach, describe, expect, it } from "vitest";
import { serializeCreds } from "../../../../src/bot/whatsapp/whatsapp-auth-state.js";
import { createWhatsAppChannel, type WhatsAppChannel } from "../../../../src/bot/whatsapp/whatsapp-channel.js";
import { ChannelError, type InboundEvent } from "../../../../src/domain/channel.js";
import { captureLogger } from "../../../fakes/capture-logger.js";
import {
  boom,
  createFakeBaileys,
  createFakeClock,
  createMemoryWhatsAppStores,
  linkedCreds,
  reactionMessage,
  settle,
  textMessage,
} from "../../../fakes/fake-baileys-socket.js";

const PHONE = "64211234567";
const JID = `${PHONE}@s.whatsapp.net`;
const CARD = {
  text: "*🔐 Approval needed · K7QF*\n*What:* Deploy\n\nReply ✅ approve | ❌ reject | 📝 modify",
  buttons: [{ label: "✅ Approve", data: "ap:x:a" }],
};

const started: WhatsAppChannel[] = [];
afterEach(async () => {
  for (const c of started.splice(0)) await c.stop();
});

async function setup() {
  const stores = createMemoryWhatsAppStores();
  await stores.authStore.saveCreds(serializeCreds(linkedCreds()));
  const wa = createFakeBaileys();
  const events: InboundEvent[] = [];
  const channel = createWhatsAppChannel({
    authStore: stores.authStore,
    messageStore: stores.messageStore,
    logger: captureLogger().logger,
    makeSocket: wa.makeSocket,
    clock: createFakeClock(),
  });
  await channel.start(async (event) => void events.push(event));
  started.push(channel);
  await settle();
  wa.latest().open();
  return { stores, wa, channel, events };
}

describe("whatsapp outbound", () => {
  it("sends a card as text to the operator's JID, without drawing buttons, and keeps it", async () => {
    const { wa, channel, stores } = await setup();
    const ref = await channel.send(PHONE, CARD);
    expect(ref).toEqual({ channel: "whatsapp", chatId: JID, messageId: wa.latest().sent[0]!.result.key.id });
    expect(wa.latest().sent).toHaveLength(1);
    expect(wa.latest().sent[0]).toMatchObject({ jid: JID, content: { text: CARD.text }, options: undefined });
    const kept = stores.sent.get(ref.messageId)!;
    expect(kept.chatId).toBe(JID);
    expect(proto.Message.decode(kept.message).extendedTextMessage?.text).toBe(CARD.text);
  });

  it("answers Baileys' getMessage from the kept messages", async () => {
    const { wa, channel } = await setup();
    const ref = await channel.send(JID, CARD);
    const getMessage = wa.latest().config.getMessage!;
    const found = await getMessage({ remoteJid: JID, fromMe: true, id: ref.messageId });
    expect(found?.extendedTextMessage?.text).toBe(CARD.text);
    expect(await getMessage({ remoteJid: JID, fromMe: true, id: "3EB0UNKNOWN" })).toBeUndefined();
  });

  it("edits by a follow-up quoting the card, once, and reacts on the card", async () => {
    const { wa, channel } = await setup();
    const ref = await channel.send(JID, CARD);
    const outcome = { text: "*✅ Approved · K7QF*\nDeploy\nby adam at 09:14", buttons: [] };
    await channel.edit(ref, outcome);
    await channel.edit(ref, outcome); // the outbox retried the job
    await channel.react(ref, "✅");
    const [, followUp, reaction, ...rest] = wa.latest().sent;
    expect(rest).toEqual([]);
    expect(followUp!.content).toEqual({ text: outcome.text });
    expect(followUp!.options?.quoted?.key).toMatchObject({ id: ref.messageId, fromMe: true });
    expect(followUp!.options?.quoted?.message?.extendedTextMessage?.text).toBe(CARD.text);
    expect(reaction!.content).toEqual({
      react: { text: "✅", key: { remoteJid: JID, fromMe: true, id: ref.messageId } },
    });
  });

  it("quotes the operator's message when answering it", async () => {
    const { wa, channel, events } = await setup();
    const incoming: WAMessage = textMessage(PHONE, "pending", { id: "3EB0ASK" });
    wa.latest().deliver([incoming]);
    await settle();
    expect(events).toHaveLength(1);
    await channel.send(JID, { text: "Nothing is waiting.", replyToMessageId: "3EB0ASK" });
    expect(wa.latest().sent[0]!.options?.quoted).toBe(incoming);
  });

  it("fails sends while disconnected with a retryable error", async () => {
    const { wa, channel } = await setup();
    wa.latest().close(428);
    await settle();
    const error = await channel.send(JID, CARD).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect(error).toMatchObject({ permanent: false, retryAfterMs: 5_000 });
  });

  it("classifies WhatsApp's refusals", async () => {
    const { wa, channel } = await setup();
    wa.latest().failNextSend(boom(400, "bad-request"));
    await expect(channel.send(JID, CARD)).rejects.toMatchObject({ permanent: true });
    wa.latest().failNextSend(boom(429, "rate-overlimit"));
    await expect(channel.send(JID, CARD)).rejects.toMatchObject({ permanent: false, retryAfterMs: 30_000 });
    wa.latest().failNextSend(boom(408, "Timed Out"));
    await expect(channel.send(JID, CARD)).rejects.toMatchObject({ permanent: false });
  });
});

describe("whatsapp inbound through the adapter", () => {
  it("hands notify messages over in order and ignores append batches", async () => {
    const { wa, events } = await setup();
    wa.latest().deliver([textMessage(PHONE, "approve K7QF", { id: "H1" })], "append");
    wa.latest().deliver([textMessage(PHONE, "one", { id: "N1" }), reactionMessage(PHONE, "CARD1", "👍", { id: "N2" })]);
    wa.latest().deliver([textMessage(PHONE, "mine", { id: "N3", fromMe: true })]);
    await settle();
    expect(events.map((e) => e.eventId)).toEqual(["wa:N1", "wa:N2"]);
  });

  it("ignores late events of a socket it already replaced", async () => {
    const { wa, events } = await setup();
    const old = wa.latest();
    old.close(515);
    await settle();
    old.deliver([textMessage(PHONE, "late", { id: "OLD1" })]);
    wa.latest().deliver([textMessage(PHONE, "fresh", { id: "NEW1" })]);
    await settle();
    expect(events.map((e) => e.eventId)).toEqual(["wa:NEW1"]);
  });
});
