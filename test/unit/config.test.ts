/**
 * Config: the documented YAML parses; every bad field stops the start with a
 * ConfigError naming its path; env rules; the result is deeply frozen.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseFileConfig, type Config } from "../../src/config.js";

const TOKEN_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const SECRET = "0123456789abcdef-signing";

/** The documented example, token hash completed to 64 hex digits. */
const DOCUMENTED_YAML = `
timezone: Pacific/Auckland            # default for operators that name none
operators:
  - name: adam
    roles: [owner, approver]
    timezone: Pacific/Auckland
    telegram: 123456789               # Telegram user id (= its private chat id)
    whatsapp: "64211234567"           # phone number, digits only
    digest: "0 8 * * *"               # cron in the operator's timezone; omit for no digest
sources:
  - name: forge
    tokenSha256: ${TOKEN_SHA}  # hex SHA-256 of the bearer token: the file holds no secret
    commandUrl: http://127.0.0.1:9000/signoff/commands   # optional
approvals:
  deadlineSeconds: 14400              # default for medium/hard
  objectionSeconds: 10                # default for low
  telegramChat: -1001234567890        # optional: post cards to this group instead of DMs
healthChecks:
  - { name: litellm, url: "http://127.0.0.1:4000/health", everySeconds: 60 }
  - { name: redis-main, tcp: "127.0.0.1:6379", everySeconds: 60 }
`;

/** Catch the ConfigError `fn` must throw. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

describe("parseFileConfig: the documented example", () => {
  it("parses, with ids as strings and defaults filled", () => {
    const cfg = parseFileConfig(DOCUMENTED_YAML);
    expect(cfg.timezone).toBe("Pacific/Auckland");
    expect(cfg.operators).toEqual([
      {
        name: "adam",
        roles: ["owner", "approver"],
        timezone: "Pacific/Auckland",
        telegram: "123456789",
        whatsapp: "64211234567",
        digest: "0 8 * * *",
        webchat: true,
      },
    ]);
    expect(cfg.sources).toEqual([
      { name: "forge", tokenSha256: TOKEN_SHA, commandUrl: "http://127.0.0.1:9000/signoff/commands" },
    ]);
    expect(cfg.approvals).toMatchObject({
      deadlineSeconds: 14_400,
      objectionSeconds: 10,
      telegramChat: "-1001234567890",
    });
    expect(cfg.healthChecks).toEqual([
      { name: "litellm", url: "http://127.0.0.1:4000/health", everySeconds: 60 },
      { name: "redis-main", tcp: "127.0.0.1:6379", everySeconds: 60 },
    ]);
  });

  it("lower-cases the token hash", () => {
    const cfg = parseFileConfig(`sources: [{ name: forge, tokenSha256: ${TOKEN_SHA.toUpperCase()} }]`);
    expect(cfg.sources[0]!.tokenSha256).toBe(TOKEN_SHA);
  });

  it("an empty file gives the defaults", () => {
    const cfg = parseFileConfig("");
    expect(cfg).toMatchObject({ timezone: "UTC", operators: [], sources: [], healthChecks: [] });
    expect(cfg.approvals).toMatchObject({ deadlineSeconds: 14_400, objectionSeconds: 10 });
  });

  it("accepts custom roles", () => {
    const cfg = parseFileConfig("operators: [{ name: kim, roles: [ops-lead] }]");
    expect(cfg.operators[0]!.roles).toEqual(["ops-lead"]);
  });
});

describe("parseFileConfig: bad fields name their path", () => {
  const op = (extra: string) => `operators:\n  - name: adam\n    roles: [owner]\n${extra}`;

  it.each([
    ["operators.0.timezone", op("    timezone: Mars/Olympus_Mons\n")],
    ["operators.0.whatsapp", op('    whatsapp: "+64 21 123 4567"\n')],
    ["operators.0.telegram", op("    telegram: not-a-number\n")],
    ["operators.0.roles", "operators: [{ name: adam, roles: [] }]"],
    ["operators.0.name", "operators: [{ roles: [owner] }]"],
    ["operators.0.name", "operators: [{ name: 'adam smith', roles: [owner] }]"],
    ["sources.0.tokenSha256", "sources: [{ name: forge, tokenSha256: 9f86d081884c7d65... }]"],
    ["sources.0.tokenSha256", `sources: [{ name: forge, tokenSha256: ${TOKEN_SHA.slice(0, 63)}g }]`],
    ["sources.0.commandUrl", `sources: [{ name: forge, tokenSha256: ${TOKEN_SHA}, commandUrl: "not a url" }]`],
    ["approvals.deadlineSeconds", "approvals: { deadlineSeconds: -5 }"],
    ["approvals.objectionSeconds", "approvals: { objectionSeconds: ten }"],
    ["healthChecks.0", 'healthChecks: [{ name: both, url: "http://x.test/", tcp: "x.test:1" }]'],
    ["healthChecks.0", "healthChecks: [{ name: neither }]"],
    ["healthChecks.1.tcp", 'healthChecks: [{ name: ok, tcp: "a:1" }, { name: noport, tcp: "localhost" }]'],
    ["timezone", "timezone: Nowhere/Special"],
  ])("%s", (path, yaml) => {
    const err = configError(() => parseFileConfig(yaml, "signoff.yaml"));
    expect(err.message).toContain("signoff.yaml");
    expect(err.message).toMatch(new RegExp(`(^|\\s)${path.replace(/\./g, "\\.")}: `, "m"));
  });

  // Digest schedules are in the file, "validated at start".
  it("operators.0.digest: a digest that is not a cron expression", () => {
    const err = configError(() => parseFileConfig(op('    digest: "every morning"\n')));
    expect(err.message).toContain("operators.0.digest");
  });

  it("names every bad field, not just the first", () => {
    const err = configError(() =>
      parseFileConfig(
        "operators: [{ name: a, roles: [owner], timezone: Nope/Nope }]\nsources: [{ name: s, tokenSha256: abc }]\nhealthChecks: [{ name: h }]",
      ),
    );
    for (const path of ["operators.0.timezone", "sources.0.tokenSha256", "healthChecks.0"])
      expect(err.message).toContain(path);
  });

  it("rejects duplicate operator names at the second one", () => {
    const err = configError(() =>
      parseFileConfig("operators:\n  - { name: adam, roles: [owner] }\n  - { name: adam, roles: [viewer] }"),
    );
    expect(err.message).toContain("operators.1.name");
    expect(err.message).toMatch(/duplicate/i);
  });

  it("rejects duplicate source names", () => {
    const err = configError(() =>
      parseFileConfig(
        `sources:\n  - { name: forge, tokenSha256: ${TOKEN_SHA} }\n  - { name: forge, tokenSha256: ${TOKEN_SHA} }`,
      ),
    );
    expect(err.message).toContain("sources.1.name");
  });

  it("rejects an unknown key, naming it", () => {
    expect(configError(() => parseFileConfig("operatorz: []")).message).toContain("operatorz");
    expect(
      configError(() => parseFileConfig("operators: [{ name: a, roles: [owner], telegarm: 1 }]")).message,
    ).toContain("telegarm");
  });

  it("reports YAML syntax errors as ConfigError", () => {
    expect(configError(() => parseFileConfig("operators: [ { name: adam", "my.yaml")).message).toMatch(
      /my\.yaml.*YAML/,
    );
  });
});

describe("loadConfig", () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const noSources = "operators: [{ name: adam, roles: [owner, approver] }]";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "signoff-config-test-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads the documented example from SIGNOFF_CONFIG", () => {
    const path = file("spec.yaml", DOCUMENTED_YAML);
    const cfg = loadConfig({ SIGNOFF_CONFIG: path, SIGNOFF_SIGNING_SECRET: SECRET });
    expect(cfg.configPath).toBe(path);
    expect(cfg.file.operators[0]!.name).toBe("adam");
    expect(cfg.env.SIGNOFF_SIGNING_SECRET).toBe(SECRET);
  });

  it("an invalid file stops the start naming the file and the field", () => {
    const path = file("bad.yaml", "operators: [{ name: adam, roles: [owner], timezone: Nope/Nope }]");
    const err = configError(() => loadConfig({ SIGNOFF_CONFIG: path }));
    expect(err.message).toContain(path);
    expect(err.message).toContain("operators.0.timezone");
  });

  it("a SIGNOFF_CONFIG naming a missing file stops the start, naming the variable", () => {
    const err = configError(() => loadConfig({ SIGNOFF_CONFIG: join(dir, "does-not-exist.yaml") }));
    expect(err.message).toContain("SIGNOFF_CONFIG");
  });

  it("with no SIGNOFF_CONFIG and no signoff.yaml, a one-operator default lets a newcomer start", () => {
    const cwd = process.cwd();
    process.chdir(dir);
    let cfg: ReturnType<typeof loadConfig>;
    try {
      cfg = loadConfig({});
    } finally {
      process.chdir(cwd);
    }
    expect(cfg.configPath).toBeNull();
    expect(cfg.file.operators).toEqual([expect.objectContaining({ name: "you", roles: ["owner", "approver"] })]);
    expect(cfg.file.sources).toEqual([]);
  });

  it("sources without SIGNOFF_SIGNING_SECRET fail, naming it", () => {
    const path = file("sources.yaml", DOCUMENTED_YAML);
    const err = configError(() => loadConfig({ SIGNOFF_CONFIG: path }));
    expect(err.message).toContain("SIGNOFF_SIGNING_SECRET");
  });

  it("a signing secret that is too short fails, naming it", () => {
    const path = file("sources2.yaml", DOCUMENTED_YAML);
    expect(configError(() => loadConfig({ SIGNOFF_CONFIG: path, SIGNOFF_SIGNING_SECRET: "short" })).message).toContain(
      "SIGNOFF_SIGNING_SECRET",
    );
  });

  it("a Telegram webhook URL without its secret fails, naming the secret", () => {
    const path = file("plain.yaml", noSources);
    const err = configError(() =>
      loadConfig({
        SIGNOFF_CONFIG: path,
        TELEGRAM_BOT_TOKEN: "123:abc",
        TELEGRAM_WEBHOOK_URL: "https://bot.example.test/tg",
      }),
    );
    expect(err.message).toContain("TELEGRAM_WEBHOOK_SECRET");
    const ok = loadConfig({
      SIGNOFF_CONFIG: path,
      TELEGRAM_BOT_TOKEN: "123:abc",
      TELEGRAM_WEBHOOK_URL: "https://bot.example.test/tg",
      TELEGRAM_WEBHOOK_SECRET: "s3cret_value-1",
    });
    expect(ok.env.TELEGRAM_WEBHOOK_SECRET).toBe("s3cret_value-1");
  });

  it.each([
    ["HTTP_PORT", { HTTP_PORT: "eighty" }],
    ["HTTP_PORT", { HTTP_PORT: "70000" }],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
    ["TELEGRAM_API_ROOT", { TELEGRAM_API_ROOT: "not a url" }],
    ["WHATSAPP_ENABLED", { WHATSAPP_ENABLED: "maybe" }],
  ])("a bad %s is named", (name, extra) => {
    const path = file("env.yaml", noSources);
    expect(configError(() => loadConfig({ SIGNOFF_CONFIG: path, ...extra })).message).toContain(name);
  });

  it.each([
    ["no chat credentials", {}, true],
    ["empty bot token", { TELEGRAM_BOT_TOKEN: "" }, true],
    ["WhatsApp disabled", { WHATSAPP_ENABLED: "false" }, true],
    ["a Telegram token", { TELEGRAM_BOT_TOKEN: "123:abc" }, false],
    ["WhatsApp enabled", { WHATSAPP_ENABLED: "true" }, false],
    ["WhatsApp enabled (1)", { WHATSAPP_ENABLED: "1" }, false],
    ["a token but webchat forced on", { TELEGRAM_BOT_TOKEN: "123:abc", WEBCHAT_ENABLED: "true" }, true],
    ["no credentials but webchat forced off", { WEBCHAT_ENABLED: "false" }, false],
    // It trusts whoever reaches it: bound where others can reach it, it is off, even when forced on.
    ["HTTP_HOST 0.0.0.0", { HTTP_HOST: "0.0.0.0" }, false],
    ["HTTP_HOST 0.0.0.0, forced on", { HTTP_HOST: "0.0.0.0", WEBCHAT_ENABLED: "true" }, false],
    ["HTTP_HOST ::", { HTTP_HOST: "::" }, false],
    ["HTTP_HOST a LAN address", { HTTP_HOST: "192.168.1.20" }, false],
    ["HTTP_HOST localhost", { HTTP_HOST: "localhost" }, true],
    ["HTTP_HOST ::1", { HTTP_HOST: "::1" }, true],
    ["HTTP_HOST 127.0.0.2", { HTTP_HOST: "127.0.0.2" }, true],
  ] as const)("web chat with %s → %s", (_label, extra, enabled) => {
    const path = file("webchat.yaml", noSources);
    expect(loadConfig({ SIGNOFF_CONFIG: path, ...extra }).webchatEnabled).toBe(enabled);
  });

  it("returns a deeply frozen config", () => {
    const path = file("frozen.yaml", DOCUMENTED_YAML);
    const cfg: Readonly<Config> = loadConfig({ SIGNOFF_CONFIG: path, SIGNOFF_SIGNING_SECRET: SECRET });
    const parts: unknown[] = [
      cfg,
      cfg.env,
      cfg.file,
      cfg.file.operators,
      cfg.file.operators[0],
      cfg.file.operators[0]!.roles,
      cfg.file.sources[0],
      cfg.file.approvals,
      cfg.file.healthChecks,
      cfg.file.healthChecks[1],
    ];
    for (const part of parts) expect(Object.isFrozen(part)).toBe(true);
    // ESM is strict mode: writes throw rather than silently doing nothing.
    expect(() => {
      (cfg.file.operators[0]!.roles as string[]).push("intruder");
    }).toThrow(TypeError);
    expect(() => {
      (cfg.env as { LOG_LEVEL: string }).LOG_LEVEL = "trace";
    }).toThrow(TypeError);
    expect(() => {
      (cfg.file.approvals as { deadlineSeconds: number }).deadlineSeconds = 1;
    }).toThrow(TypeError);
  });

  it("two loads do not share mutable state", () => {
    const path = file("twice.yaml", noSources);
    const a = loadConfig({ SIGNOFF_CONFIG: path });
    const b = loadConfig({ SIGNOFF_CONFIG: path, HTTP_PORT: "4000" });
    expect(a.env.HTTP_PORT).toBe(3000);
    expect(b.env.HTTP_PORT).toBe(4000);
  });
});
