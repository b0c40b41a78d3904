/**
 * The first start: `.env` is read (the real environment wins, empty values count as unset), and
 * with no config file demo mode has a `demo` source whose token is generated once and kept.
 */
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { environmentWithDotEnv, loadConfig, loadOrCreateDemoCredentials } from "../../src/config.js";

const repoRoot = join(import.meta.dirname, "..", "..");
const freshDir = () => mkdtempSync(join(tmpdir(), "signoff-first-"));

describe(".env", () => {
  it("is read from the working directory, under the real environment", () => {
    const dir = freshDir();
    writeFileSync(join(dir, ".env"), 'HTTP_PORT=4100\nLOG_LEVEL=debug\nTELEGRAM_BOT_TOKEN="123:abc def"\n');
    const env = environmentWithDotEnv({ LOG_LEVEL: "warn" }, dir);
    expect(env.HTTP_PORT).toBe("4100");
    expect(env.LOG_LEVEL).toBe("warn");
    expect(env.TELEGRAM_BOT_TOKEN).toBe("123:abc def");
  });

  it("counts empty values as unset, in the file and in the real environment", () => {
    const dir = freshDir();
    writeFileSync(join(dir, ".env"), "SIGNOFF_SIGNING_SECRET=\nHTTP_HOST=127.0.0.2\n");
    const env = environmentWithDotEnv({ HTTP_HOST: "", TELEGRAM_BOT_TOKEN: "" }, dir);
    expect(env).not.toHaveProperty("SIGNOFF_SIGNING_SECRET");
    expect(env).not.toHaveProperty("TELEGRAM_BOT_TOKEN");
    expect(env.HTTP_HOST).toBe("127.0.0.2");
  });

  it("an unedited copy of .env.example starts demo mode with the defaults", () => {
    const dir = freshDir();
    copyFileSync(join(repoRoot, ".env.example"), join(dir, ".env"));
    const config = loadConfig(environmentWithDotEnv({}, dir), {
      demoCredentials: () => loadOrCreateDemoCredentials(join(dir, ".signoff", "demo.json")),
    });
    expect(config.configPath).toBeNull();
    expect(config.env.DATABASE_URL).toBe("postgres://postgres@127.0.0.1:5432/signoff");
    expect(config.env.HTTP_PORT).toBe(3000);
    expect(config.webchatEnabled).toBe(true);
    expect(config.file.sources.map((s) => s.name)).toEqual(["demo"]);
  });

  it("no .env is fine", () => {
    expect(environmentWithDotEnv({ HTTP_PORT: "1" }, freshDir())).toEqual({ HTTP_PORT: "1" });
  });
});

describe("demo mode", () => {
  it("generates the token once, keeps it private to the user, and reuses it", () => {
    const file = join(freshDir(), ".signoff", "demo.json");
    const first = loadOrCreateDemoCredentials(file);
    const second = loadOrCreateDemoCredentials(file);
    expect(second).toEqual(first);
    expect(first.token.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateDemoCredentials(join(freshDir(), "demo.json")).token).not.toBe(first.token);
  });

  it("a damaged file gets a fresh pair rather than stopping the start", () => {
    const file = join(freshDir(), "demo.json");
    writeFileSync(file, "{ not json");
    const credentials = loadOrCreateDemoCredentials(file);
    expect(JSON.parse(readFileSync(file, "utf8")).token).toBe(credentials.token);
  });

  it("the demo source accepts the kept token, and callbacks are signed without a configured secret", () => {
    const dir = freshDir();
    const file = join(dir, "demo.json");
    const config = loadConfig(
      { SIGNOFF_CONFIG: undefined },
      { demoCredentials: () => loadOrCreateDemoCredentials(file) },
    );
    const { token, signingSecret } = loadOrCreateDemoCredentials(file);
    expect(config.demo?.token).toBe(token);
    expect(config.file.sources[0]?.tokenSha256).toBe(createHash("sha256").update(token).digest("hex"));
    expect(config.env.SIGNOFF_SIGNING_SECRET).toBe(signingSecret);
    const withSecret = loadConfig(
      { SIGNOFF_SIGNING_SECRET: "a-secret-of-my-own-0123" },
      { demoCredentials: () => loadOrCreateDemoCredentials(file) },
    );
    expect(withSecret.env.SIGNOFF_SIGNING_SECRET).toBe("a-secret-of-my-own-0123");
  });

  it("a SIGNOFF_CONFIG that is a directory (Docker's mount of a missing file) is named as such", () => {
    const dir = freshDir();
    expect(() => loadConfig({ SIGNOFF_CONFIG: dir })).toThrow(/SIGNOFF_CONFIG: .* is a directory, not a YAML file/);
  });

  it("is off when a config file exists: no demo source, no token asked for", () => {
    const dir = freshDir();
    const path = join(dir, "signoff.yaml");
    writeFileSync(path, "operators:\n  - { name: ann, roles: [owner] }\n");
    let asked = false;
    const config = loadConfig(
      { SIGNOFF_CONFIG: path },
      {
        demoCredentials: () => {
          asked = true;
          return loadOrCreateDemoCredentials(join(dir, "demo.json"));
        },
      },
    );
    expect(asked).toBe(false);
    expect(config.demo).toBeNull();
    expect(config.file.sources).toEqual([]);
  });
});
