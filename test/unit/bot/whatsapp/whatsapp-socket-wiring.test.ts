/**
 * The Baileys options every socket gets: status updates and newsletters are never decrypted,
 * and the session, logger and message lookup always win over extra options.
 */
import { describe, expect, it } from "vitest";
import { loadWhatsAppAuthState } from "../../../../src/bot/whatsapp/whatsapp-auth-state.js";
import { toBaileysLogger } from "../../../../src/bot/whatsapp/whatsapp-logger.js";
import { socketConfigFor } from "../../../../src/bot/whatsapp/whatsapp-socket-wiring.js";
import { captureLogger } from "../../../fakes/capture-logger.js";
import { createMemoryWhatsAppStores } from "../../../fakes/fake-baileys-socket.js";

async function input() {
  const { logger } = captureLogger();
  const auth = await loadWhatsAppAuthState({ store: createMemoryWhatsAppStores().authStore, logger });
  return { auth, baileysLogger: toBaileysLogger(logger, "warn") };
}

describe("whatsapp socket options", () => {
  it("ignores status broadcasts and newsletters, not people or groups", async () => {
    const config = socketConfigFor(await input());
    const ignore = config.shouldIgnoreJid;
    expect(ignore?.("status@broadcast")).toBe(true);
    expect(ignore?.("120363000000@newsletter")).toBe(true);
    expect(ignore?.("64200000001@s.whatsapp.net")).toBe(false);
    expect(ignore?.("120363000000@g.us")).toBe(false);
  });

  it("uses the session's creds and the given logger over any extra option", async () => {
    const base = await input();
    const other = await input();
    const config = socketConfigFor({
      ...base,
      socketConfig: { auth: other.auth.state, logger: other.baileysLogger, browser: ["signoff", "Chrome", "1"] },
    });
    expect(config.auth.creds).toBe(base.auth.state.creds);
    expect(config.logger).toBe(base.baileysLogger);
    expect(config.browser).toEqual(["signoff", "Chrome", "1"]);
    expect("getMessage" in config).toBe(false);
    const getMessage = async () => undefined;
    expect(socketConfigFor({ ...base, getMessage }).getMessage).toBe(getMessage);
  });
});
