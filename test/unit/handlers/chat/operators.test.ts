/**
 * The operator directory: where a configured operator's messages go and who a sender is, with
 * each platform saying which chat a configured identity is.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";

const ADAM = { name: "adam", roles: ["owner"], telegram: "4242", whatsapp: "64211234567", webchat: true };

describe("createOperatorDirectory", () => {
  it("reaches an operator at the chats their platforms name, in Telegram, WhatsApp, web chat order", () => {
    const directory = createOperatorDirectory([ADAM], "UTC", PLATFORMS);
    const adam = directory.byName("adam")!;
    expect(directory.addressesOf(adam, ["webchat", "whatsapp", "telegram"]).map((a) => [a.channel, a.chatId])).toEqual([
      ["telegram", "4242"],
      ["whatsapp", "64211234567@s.whatsapp.net"],
      ["webchat", "adam"],
    ]);
    expect(directory.addressesOf(adam, ["whatsapp"]).map((a) => a.chatId)).toEqual(["64211234567@s.whatsapp.net"]);
  });

  it("knows a sender by their configured identity and by the chat id it maps to", () => {
    const directory = createOperatorDirectory([ADAM], "UTC", PLATFORMS);
    expect(directory.bySender("whatsapp", ["64211234567"])?.name).toBe("adam");
    expect(directory.bySender("whatsapp", ["64211234567@s.whatsapp.net"])?.name).toBe("adam");
    expect(directory.byChat("telegram", "4242")?.name).toBe("adam");
    expect(directory.byChat("webchat", "adam")?.name).toBe("adam");
    expect(directory.bySender("telegram", ["64211234567"])).toBeUndefined();
  });

  it("asks the platform for the chat id instead of building it itself", () => {
    const tagged = (tag: string) => ({ chatIdOf: (id: string) => `${tag}:${id}` });
    const directory = createOperatorDirectory([ADAM], "UTC", {
      telegram: tagged("tg"),
      whatsapp: tagged("wa"),
      webchat: tagged("web"),
    });
    const adam = directory.byName("adam")!;
    expect(directory.addressesOf(adam, ["telegram", "whatsapp", "webchat"]).map((a) => a.chatId)).toEqual([
      "tg:4242",
      "wa:64211234567",
      "web:adam",
    ]);
    expect(directory.byChat("whatsapp", "wa:64211234567")?.name).toBe("adam");
  });
});
