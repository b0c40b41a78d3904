import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, type LogFormat, resolveLogFormat } from "../../src/logger.js";

/** A destination that keeps what was written; `isTTY` makes it look like a terminal. */
function sink(isTTY = false) {
  const lines: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
    isTTY ? { isTTY: true } : {},
  );
  return { stream, lines };
}

const SECRETS = [
  "bot-token-123",
  "hmac-secret-456",
  "Bearer source-token-789",
  "tg-secret-000",
  "postgres://u:pw@db/x",
];

function logSecrets(format: LogFormat, isTTY = false) {
  const { stream, lines } = sink(isTTY);
  const logger = createLogger("info", { destination: stream, format });
  logger.info({ token: SECRETS[0], signingSecret: SECRETS[1], authorization: SECRETS[2] }, "top level");
  logger.child({ component: "x" }).warn(
    {
      req: { headers: { authorization: SECRETS[2] } },
      env: { TELEGRAM_WEBHOOK_SECRET: SECRETS[3], DATABASE_URL: SECRETS[4] },
    },
    "nested",
  );
  return lines;
}

describe("logger redaction", () => {
  for (const format of ["json", "pretty"] as const) {
    it(`never writes tokens, secrets or authorization headers, at top level or nested (${format})`, () => {
      const lines = logSecrets(format);
      const out = lines.join("");
      expect(lines).toHaveLength(2);
      for (const secret of SECRETS) expect(out).not.toContain(secret);
      expect(out).toContain("[redacted]");
      expect(out).toContain("nested"); // the lines themselves still get written
    });
  }

  it("the stream form (a destination alone) still writes JSON and redacts", () => {
    const { stream, lines } = sink();
    createLogger("info", stream).info({ token: SECRETS[0] }, "plain");
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: "plain", token: "[redacted]", app: "signoff" });
  });
});

describe("log format", () => {
  it("auto is pretty on a terminal and JSON anywhere else", () => {
    expect(resolveLogFormat("auto", sink(true).stream)).toBe("pretty");
    expect(resolveLogFormat("auto", sink(false).stream)).toBe("json");
    expect(resolveLogFormat("json", sink(true).stream)).toBe("json");
    expect(resolveLogFormat("pretty", sink(false).stream)).toBe("pretty");
  });

  it("JSON lines parse; pretty lines are one readable line each, coloured only on a terminal", () => {
    const json = logSecrets("json");
    for (const line of json) expect(() => JSON.parse(line)).not.toThrow();

    const plain = logSecrets("pretty");
    expect(plain[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: top level \{/);
    expect(plain[1]).toMatch(/WARN: nested .*"component":"x"/);
    for (const line of plain) expect(line.trimEnd().split("\n")).toHaveLength(1);
    expect(plain.join("")).not.toContain("\u001b[");

    const coloured = logSecrets("auto", true);
    expect(coloured[0]).toContain("\u001b[");
    expect(coloured.join("")).not.toContain(SECRETS[0]);
  });
});
