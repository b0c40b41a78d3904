/**
 * Pairing's use of the platforms: no code in a group chat (everyone there would read it), and a
 * paired chat becomes the identity its platform says.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { InboundText } from "../../../../src/domain/channel.js";
import type { OutboxJob } from "../../../../src/domain/outbox.js";
import { CODE_ALPHABET } from "../../../../src/handlers/approvals/approval-codes.js";
import {
  createPairingService,
  generatePairingCode,
  toOperator,
} from "../../../../src/handlers/pairing/pairing-service.js";
import type { PairedOperator } from "../../../../src/store/pairing-store.js";

const paired = (p: Partial<PairedOperator>): PairedOperator => ({
  name: "eve",
  roles: ["approver"],
  channel: "telegram",
  senderId: "4242",
  chatId: "4242",
  displayName: null,
  pairedBy: "adam",
  pairedAt: new Date(0),
  ...p,
});

function service(platforms = PLATFORMS) {
  const sent: OutboxJob[] = [];
  const issued: string[] = [];
  const pairing = createPairingService({
    store: {
      issueCode: async (input) => {
        issued.push(input.chatId);
        return {
          outcome: "issued",
          code: { ...input, code: input.code, createdAt: input.now, usedBy: null },
        } as never;
      },
      findCode: async () => null,
      admit: async () => ({ outcome: "code_used" }) as never,
      listPaired: async () => [],
      findPaired: async () => null,
    },
    directory: {
      addPaired: () => {},
      bySender: () => undefined,
      byName: () => undefined,
      all: () => [],
      removePaired: () => false,
    },
    audit: { append: async () => {} },
    renderer: { render: (name, format) => `${name}/${format}`, formatOf: (channel) => platforms[channel].format },
    enqueue: async (job) => {
      sent.push(job);
    },
    broadcaster: { toOperator: async () => 0 },
    platforms,
    defaultTimezone: "UTC",
    codeTtlMs: 3_600_000,
    now: () => new Date("2026-01-01T00:00:00Z"),
  });
  return { pairing, sent, issued };
}

const text = (channel: InboundText["channel"], chatId: string): InboundText => ({
  kind: "text",
  channel,
  chatId,
  sender: { id: "777" },
  eventId: `e-${chatId}`,
  receivedAt: new Date(),
  messageId: "1",
  text: "hello",
});

describe("greet", () => {
  it("gives a stranger in a private chat a code, in the platform's markup", async () => {
    const { pairing, sent } = service();
    expect(await pairing.greet(text("telegram", "777"))).toBe(true);
    expect(sent).toEqual([{ op: "text", channel: "telegram", chatId: "777", text: "pairing-code/html" }]);
  });

  it("says nothing in a chat the platform calls a group", async () => {
    const { pairing, sent, issued } = service();
    expect(await pairing.greet(text("telegram", "-100777"))).toBe(false);
    expect(await pairing.greet(text("whatsapp", "120363@g.us"))).toBe(false);
    expect(sent).toEqual([]);
    expect(issued).toEqual([]);
  });

  it("asks the platform, not a rule of its own, whether a chat is a group", async () => {
    const { pairing, issued } = service({ ...PLATFORMS, webchat: { ...PLATFORMS.webchat, isGroup: () => true } });
    expect(await pairing.greet(text("webchat", "guest"))).toBe(false);
    expect(issued).toEqual([]);
  });
});

describe("toOperator", () => {
  it("makes a Telegram pairing the sender's user id", () => {
    const op = toOperator(paired({}), "UTC", PLATFORMS);
    expect(op).toMatchObject({ name: "eve", telegram: "4242", whatsapp: undefined, webchat: false, paired: true });
  });

  it("makes a WhatsApp pairing the phone of its JID", () => {
    const op = toOperator(
      paired({ channel: "whatsapp", chatId: "64211234567@s.whatsapp.net", senderId: "64211234567@s.whatsapp.net" }),
      "UTC",
      PLATFORMS,
    );
    expect(op).toMatchObject({ telegram: undefined, whatsapp: "64211234567", webchat: false });
  });

  it("makes a web chat pairing a web chat operator", () => {
    const op = toOperator(paired({ channel: "webchat", chatId: "eve", senderId: "eve" }), "UTC", PLATFORMS);
    expect(op).toMatchObject({ telegram: undefined, whatsapp: undefined, webchat: true });
  });
});

describe("pairing codes", () => {
  it("are 6 characters of the request codes' alphabet, so none holds an easily misread 0, O, 1, I or L", () => {
    const codes = Array.from({ length: 2_000 }, () => generatePairingCode());
    for (const code of codes) expect(code).toMatch(new RegExp(`^[${CODE_ALPHABET}]{6}$`));
    // Every letter and digit of the alphabet turns up in 12,000 draws.
    expect(new Set(codes.join(""))).toEqual(new Set(CODE_ALPHABET));
  });
});
