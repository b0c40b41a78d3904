/**
 * Chat-ops configuration: defaults for command roles, spend, heartbeats, digests and
 * pairing; `digest: true` means 08:00 local; bad values name their field.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_DIGEST_CRON, parseFileConfig } from "../../src/config.js";

const fails = (yaml: string, path: string) => {
  try {
    parseFileConfig(yaml, "signoff.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`(^|\\s)${path.replace(/\./g, "\\.")}: `, "m"));
    return;
  }
  throw new Error(`expected ${path} to be rejected`);
};

describe("chat-ops config", () => {
  it("has documented defaults", () => {
    const cfg = parseFileConfig("");
    expect(cfg.commandRoles).toEqual({
      kill: ["owner", "approver"],
      retry: ["owner", "approver"],
      prioritise: ["owner", "approver"],
      pause: ["owner", "approver"],
      resume: ["owner", "approver"],
      pair: ["owner"],
    });
    expect(cfg.spend).toEqual({ currency: "USD" });
    expect(cfg.heartbeats).toEqual({ intervalSeconds: 300, agents: {} });
    expect(cfg.digests).toEqual({ graceSeconds: 10_800, stuckAfterSeconds: 7_200 });
    expect(cfg.pairing).toEqual({ codeTtlSeconds: 3_600 });
    expect(cfg.locale).toBe("en-US");
  });

  it("digest: true is 08:00 local, false or absent is none, a cron is kept", () => {
    const cfg = parseFileConfig(
      "operators:\n  - { name: a, roles: [owner], digest: true }\n  - { name: b, roles: [owner], digest: false }\n  - { name: c, roles: [owner] }\n  - { name: d, roles: [owner], digest: '30 7 * * 1-5' }",
    );
    expect(cfg.operators.map((o) => o.digest)).toEqual([DEFAULT_DIGEST_CRON, undefined, undefined, "30 7 * * 1-5"]);
    expect(DEFAULT_DIGEST_CRON).toBe("0 8 * * *");
  });

  it("overrides merge with the defaults and currencies are upper-cased", () => {
    const cfg = parseFileConfig(
      "commandRoles: { kill: [owner] }\nspend: { currency: nzd, dailyAlert: 50 }\nheartbeats: { agents: { forge: 60 } }",
    );
    expect(cfg.commandRoles.kill).toEqual(["owner"]);
    expect(cfg.commandRoles.retry).toEqual(["owner", "approver"]);
    expect(cfg.spend).toEqual({ currency: "NZD", dailyAlert: 50 });
    expect(cfg.heartbeats).toEqual({ intervalSeconds: 300, agents: { forge: 60 } });
  });

  it.each([
    ["commandRoles.kill", "commandRoles: { kill: [] }"],
    ["commandRoles", "commandRoles: { nuke: [owner] }"], // an unknown command is named at its parent
    ["spend.currency", "spend: { currency: dollars }"],
    ["spend.dailyAlert", "spend: { dailyAlert: -5 }"],
    ["heartbeats.intervalSeconds", "heartbeats: { intervalSeconds: 0 }"],
    ["digests.graceSeconds", "digests: { graceSeconds: 999999 }"],
    ["pairing.codeTtlSeconds", "pairing: { codeTtlSeconds: 5 }"],
    ["locale", "locale: not_a_locale!"],
    ["operators.0.locale", "operators: [{ name: a, roles: [owner], locale: '??' }]"],
    ["operators.0.digest", "operators: [{ name: a, roles: [owner], digest: 'at eight' }]"],
    ["healthChecks.1.name", "healthChecks: [{ name: db, tcp: 'a:1' }, { name: db, tcp: 'b:1' }]"],
  ])("%s", (path, yaml) => fails(yaml, path));
});
