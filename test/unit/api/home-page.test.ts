/**
 * What the home page says about the web chat, from the config alone: why it is off, in the
 * order an operator would fix it, and nothing when it is served.
 */
import { describe, expect, it } from "vitest";
import { homePageFacts, renderHomePage } from "../../../src/api/home-page.js";

const env = (over: Record<string, unknown> = {}) => ({
  env: {
    HTTP_HOST: "127.0.0.1",
    WEBCHAT_ENABLED: "auto" as const,
    TELEGRAM_BOT_TOKEN: undefined,
    WHATSAPP_ENABLED: false,
    ...over,
  },
});

describe("why the web chat is off", () => {
  it.each([
    ["served", env(), true, null],
    ["bound beyond loopback", env({ HTTP_HOST: "0.0.0.0" }), false, /HTTP_HOST is not a loopback address/],
    ["turned off by name", env({ WEBCHAT_ENABLED: "false" }), false, /WEBCHAT_ENABLED is false/],
    ["Telegram configured", env({ TELEGRAM_BOT_TOKEN: "123:abc" }), false, /chat credentials/],
    ["WhatsApp configured", env({ WHATSAPP_ENABLED: true }), false, /chat credentials/],
    ["anything else", env(), false, /turned off in the configuration/],
  ] as const)("%s", (_name, config, served, reason) => {
    const { webchatOff } = homePageFacts(config as Parameters<typeof homePageFacts>[0], served);
    if (reason === null) expect(webchatOff).toBeNull();
    else expect(webchatOff).toMatch(reason);
  });

  it("the page never shows the token it was told about", () => {
    const facts = homePageFacts(env({ TELEGRAM_BOT_TOKEN: "123:secret-token" }) as never, false);
    expect(renderHomePage(facts)).not.toContain("secret-token");
  });

  it("escapes what it shows", () => {
    expect(renderHomePage({ version: "<b>1</b>", webchatOff: null })).toContain("version &lt;b&gt;1&lt;/b&gt;");
  });
});
