/**
 * The command menu: synced against the fake Bot API only when it differs from what Telegram has.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChannelError } from "../../src/domain/channel.js";
import { createTelegramChannel, type TelegramChannel } from "../../src/bot/telegram/telegram-channel.js";
import { SIGNOFF_COMMANDS } from "../../src/bot/telegram/telegram-commands.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";

let fake: FakeBotApi;
let log: ReturnType<typeof captureLogger>;

beforeEach(async () => {
  fake = await startFakeBotApi({ limits: false });
  log = captureLogger();
});
afterEach(async () => {
  await fake.close();
});

const channel = (): TelegramChannel =>
  createTelegramChannel({ token: fake.token, apiRoot: fake.apiRoot, logger: log.logger });

describe("syncCommands", () => {
  it("sets the menu on first sync, not again for the same list (also after a restart), and again when it changes", async () => {
    const first = channel();
    expect(await first.syncCommands(SIGNOFF_COMMANDS)).toBe(true);
    expect(fake.callsTo("setMyCommands")).toHaveLength(1);
    expect(fake.callsTo("setMyCommands")[0]?.params.commands).toEqual(SIGNOFF_COMMANDS);

    expect(await first.syncCommands(SIGNOFF_COMMANDS)).toBe(false);
    expect(await channel().syncCommands([...SIGNOFF_COMMANDS]), "a restarted process rewrote an unchanged menu").toBe(
      false,
    );
    expect(fake.callsTo("setMyCommands")).toHaveLength(1);
    expect(fake.callsTo("getMyCommands")).toHaveLength(3);

    const reworded = SIGNOFF_COMMANDS.map((c) =>
      c.command === "help" ? { ...c, description: "What you can say" } : c,
    );
    expect(await first.syncCommands(reworded)).toBe(true);
    const shorter = SIGNOFF_COMMANDS.filter((c) => c.command !== "digest");
    expect(await first.syncCommands(shorter)).toBe(true);
    const reordered = [...shorter].reverse();
    expect(await first.syncCommands(reordered)).toBe(true);
    expect(fake.callsTo("setMyCommands").map((c) => c.params.commands)).toEqual([
      SIGNOFF_COMMANDS,
      reworded,
      shorter,
      reordered,
    ]);
  });

  it("lists the chat queries and commands", () => {
    expect(SIGNOFF_COMMANDS.map((c) => c.command).sort()).toEqual(
      ["status", "queue", "spend", "failures", "pending", "digest", "pause", "resume", "help"].sort(),
    );
  });

  it("refuses a menu Telegram would reject without calling it", async () => {
    for (const bad of [
      [{ command: "Status", description: "x" }],
      [{ command: "status", description: "" }],
      [
        { command: "a", description: "x" },
        { command: "a", description: "y" },
      ],
    ]) {
      const err = await channel()
        .syncCommands(bad)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ChannelError);
      expect((err as ChannelError).permanent).toBe(true);
    }
    expect(fake.callsTo("getMyCommands")).toHaveLength(0);
    expect(fake.callsTo("setMyCommands")).toHaveLength(0);
  });
});
