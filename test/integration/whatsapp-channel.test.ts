/**
 * WhatsApp end to end: a real signoff (PostgreSQL, Redis, outbox, chat handler) with the real
 * WhatsApp adapter on a fake Baileys socket. Cards go out as WhatsApp messages, and a reaction,
 * a quoted reply and a typed command each decide; strangers, duplicates and history change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeCreds } from "../../src/bot/whatsapp/whatsapp-auth-state.js";
import { createWhatsAppChannel, type WhatsAppChannel } from "../../src/bot/whatsapp/whatsapp-channel.js";
import { createDatabase, type Database } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { createWhatsAppAuthStore, createWhatsAppMessageStore } from "../../src/store/whatsapp-auth-store.js";
import { captureLogger } from "../fakes/capture-logger.js";
import {
  createFakeBaileys,
  linkedCreds,
  reactionMessage,
  textMessage,
  type SentRecord,
} from "../fakes/fake-baileys-socket.js";
import {
  DATABASE_URL,
  api,
  cleanupTestInstance,
  eventually,
  startTestSignoff,
  uniqueName,
} from "../helpers/harness.js";

const ADAM = "64211234567";
const EVE = "64219876543";
const STRANGER = "64200000099";
const jid = (phone: string) => `${phone}@s.whatsapp.net`;

const schema = uniqueName("t");
const wa = createFakeBaileys();
let db: Database;
let channel: WhatsAppChannel;
let signoff: Awaited<ReturnType<typeof startTestSignoff>>;

beforeAll(async () => {
  db = createDatabase({ url: DATABASE_URL, schema, max: 4 });
  await migrate(db);
  await createWhatsAppAuthStore(db).saveCreds(serializeCreds(linkedCreds()));
  channel = createWhatsAppChannel({
    authStore: createWhatsAppAuthStore(db),
    messageStore: createWhatsAppMessageStore(db),
    logger: captureLogger().logger,
    makeSocket: wa.makeSocket,
  });
  signoff = await startTestSignoff({
    schema,
    webchat: false,
    channels: [channel],
    file: {
      operators: [
        { name: "adam", roles: ["owner", "approver"], timezone: "Pacific/Auckland", whatsapp: ADAM },
        { name: "eve", roles: ["approver"], whatsapp: EVE },
      ],
    },
  });
  await eventually(() => wa.sockets.length === 1, "the socket");
  wa.latest().open();
});

afterAll(async () => {
  await signoff?.close();
  await db?.close();
  await cleanupTestInstance(schema, signoff.prefix);
});

const sock = () => wa.latest();
const sentTo = (phone: string) => sock().sent.filter((s) => s.jid === jid(phone));
const textOf = (s: SentRecord) => (s.content as { text?: string }).text ?? "";
const quoting = (messageId: string) => sock().sent.filter((s) => s.options?.quoted?.key.id === messageId);
const status = async (id: string) => (await api(signoff, "GET", `/api/approvals/${id}`)).body;

async function requestApproval(title: string): Promise<{ id: string; code: string; card: SentRecord }> {
  const created = await api(signoff, "POST", "/api/approvals", { title, reason: "tests", gate: "medium" });
  expect(created.status).toBe(201);
  const { id, code } = created.body as { id: string; code: string };
  const card = await eventually(
    () => sentTo(ADAM).find((s) => textOf(s).includes(code) && textOf(s).includes("Approval needed")),
    `card ${code}`,
  );
  await eventually(() => sentTo(EVE).some((s) => textOf(s).includes(code)), `eve's card ${code}`);
  return { id, code, card };
}

describe("whatsapp channel end to end", () => {
  it("sends a card, and a ✅ reaction on it approves; the card gets a follow-up and a reaction", async () => {
    const { id, code, card } = await requestApproval("Deploy api v2.3");
    expect(textOf(card)).toContain("*What:* Deploy api v2.3");
    expect(textOf(card)).toContain("Reply ✅ approve | ❌ reject | 📝 modify");

    sock().deliver([reactionMessage(ADAM, card.result.key.id!, "✅")]);
    const decided = await eventually(
      async () => ((await status(id)).status === "approved" ? await status(id) : null),
      "approval by reaction",
    );
    expect(decided).toMatchObject({
      decidedBy: "adam",
      decisions: [{ operator: "adam", verdict: "approve", channel: "whatsapp" }],
    });

    const followUp = await eventually(
      () => quoting(card.result.key.id!).find((s) => textOf(s).includes("Approved")),
      "follow-up quoting the card",
    );
    expect(textOf(followUp)).toContain(code);
    await eventually(
      () =>
        sentTo(ADAM).some(
          (s) =>
            JSON.stringify(s.content) ===
            JSON.stringify({
              react: { text: "✅", key: { remoteJid: jid(ADAM), fromMe: true, id: card.result.key.id } },
            }),
        ),
      "✅ reaction on the card",
    );
    await eventually(
      () => sentTo(ADAM).some((s) => textOf(s) === `✅ Approved ${code}: Deploy api v2.3`),
      "one-line confirmation to the decider",
    );
  });

  it('a quoted reply "❌ not now" rejects with the note', async () => {
    const { id, card } = await requestApproval("Drop cache");
    sock().deliver([textMessage(ADAM, "❌ not now", { quotedId: card.result.key.id! })]);
    const decided = await eventually(
      async () => ((await status(id)).status === "rejected" ? await status(id) : null),
      "rejection by reply",
    );
    expect(decided).toMatchObject({ decidedBy: "adam", note: "not now" });
  });

  it("`approve <code>` typed without a reply approves, also from a LID-addressed chat", async () => {
    const first = await requestApproval("Restart worker-3");
    sock().deliver([textMessage(ADAM, `approve ${first.code}`)]);
    await eventually(async () => (await status(first.id)).status === "approved", "approval by command");

    const second = await requestApproval("Rotate logs");
    sock().lidToPn.set("55501234@lid", `${EVE}:0@s.whatsapp.net`);
    sock().deliver([textMessage(EVE, `approve ${second.code}`, { lid: "55501234@lid", hidePn: true })]);
    const decided = await eventually(
      async () => ((await status(second.id)).status === "approved" ? await status(second.id) : null),
      "approval from a LID chat",
    );
    expect(decided.decidedBy).toBe("eve");
  });

  it("a stranger changes nothing and learns nothing", async () => {
    const { id, code, card } = await requestApproval("Scale down db");
    sock().deliver([textMessage(STRANGER, `approve ${code}`), reactionMessage(STRANGER, card.result.key.id!, "✅")]);
    // Inbound is handled in order: once adam's later question is answered, the stranger's were handled.
    const marker = textMessage(ADAM, "pending");
    sock().deliver([marker]);
    await eventually(() => quoting(marker.key.id!).length > 0, "answer to adam's marker");
    expect((await status(id)).status).toBe("pending");
    // At most one reply a day (a pairing code), and nothing about the request.
    expect(sentTo(STRANGER).length).toBeLessThanOrEqual(1);
    for (const s of sentTo(STRANGER)) expect(textOf(s)).not.toMatch(new RegExp(`${code}|Scale down db`));
  });

  it("the same message id twice is handled once", async () => {
    const { id, code } = await requestApproval("Purge queue");
    const message = textMessage(ADAM, `reject ${code} duplicate`);
    sock().deliver([message]);
    sock().deliver([message]);
    await eventually(async () => (await status(id)).status === "rejected", "rejection");
    const marker = textMessage(ADAM, "pending");
    sock().deliver([marker]);
    await eventually(() => quoting(marker.key.id!).length > 0, "answer to adam's marker");
    expect(quoting(message.key.id!)).toHaveLength(1); // one confirmation, no "already rejected"
    expect((await status(id)).decisions).toHaveLength(1);
  });

  it("an append batch (history) is ignored", async () => {
    const { id, code } = await requestApproval("Rebuild index");
    const old = textMessage(ADAM, `approve ${code}`);
    sock().deliver([old], "append");
    const marker = textMessage(ADAM, "pending");
    sock().deliver([marker]);
    await eventually(() => quoting(marker.key.id!).length > 0, "answer to adam's marker");
    expect((await status(id)).status).toBe("pending");
    expect(quoting(old.key.id!)).toEqual([]);
  });

  it("reports its health", async () => {
    const health = await api(signoff, "GET", "/api/health", undefined, null);
    expect(health.status).toBe(200);
    expect(JSON.stringify(health.body)).toContain("whatsapp");
    expect(channel.health()).toMatchObject({
      ok: true,
      detail: { connected: true, loggedOut: false, leaseHeld: true },
    });
    expect(channel.health().detail.lastMessageAt).not.toBeNull();
  });
});
