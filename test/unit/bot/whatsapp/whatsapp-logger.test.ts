import { describe, expect, it } from "vitest";
import { serializeCreds } from "../../../../src/bot/whatsapp/whatsapp-auth-state.js";
import { createWhatsAppChannel } from "../../../../src/bot/whatsapp/whatsapp-channel.js";
import { toBaileysLogger } from "../../../../src/bot/whatsapp/whatsapp-logger.js";
import { captureLogger } from "../../../fakes/capture-logger.js";
import {
  createFakeBaileys,
  createFakeClock,
  createMemoryWhatsAppStores,
  linkedCreds,
  settle,
} from "../../../fakes/fake-baileys-socket.js";

describe("whatsapp logging", () => {
  it("lets Baileys log only from its level up, without fields that may hold keys", () => {
    const log = captureLogger();
    const baileys = toBaileysLogger(log.logger, "warn");
    baileys.debug({ node: { tag: "iq" } }, "noise");
    baileys.info("connected to WA");
    baileys.warn({ creds: { advSecretKey: "s3cret" }, node: { content: "bytes" }, attempt: 2 }, "retrying");
    baileys.child({ class: "socket" }).error(new Error("boom"), "failed");
    expect(log.lines).toEqual([
      { level: "warn", obj: { creds: "[redacted]", node: "[redacted]", attempt: 2 }, msg: "retrying" },
      { level: "error", obj: { class: "socket", err: { message: "boom", name: "Error" } }, msg: "failed" },
    ]);
  });

  it("never writes session secrets to the log while it works", async () => {
    const stores = createMemoryWhatsAppStores();
    const creds = linkedCreds();
    await stores.authStore.saveCreds(serializeCreds(creds));
    const wa = createFakeBaileys();
    const log = captureLogger();
    const channel = createWhatsAppChannel({
      authStore: stores.authStore,
      messageStore: stores.messageStore,
      logger: log.logger,
      makeSocket: wa.makeSocket,
      clock: createFakeClock(),
      baileysLogLevel: "trace",
    });
    await channel.start(async () => undefined);
    await settle();
    const sock = wa.latest();
    sock.config.logger?.info({ creds, keys: { "pre-key": creds.signedPreKey } }, "dump everything");
    sock.open();
    sock.emit("creds.update", { nextPreKeyId: 5 });
    sock.close(428);
    await settle();
    await channel.stop();
    const dump = log.dump();
    expect(log.lines.length).toBeGreaterThan(3);
    for (const secret of [
      creds.advSecretKey,
      Buffer.from(creds.noiseKey.private).toString("base64"),
      Buffer.from(creds.signedIdentityKey.private).toString("base64"),
    ]) {
      expect(dump).not.toContain(secret);
    }
  });
});
