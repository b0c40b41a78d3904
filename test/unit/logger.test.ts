import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";

describe("logger redaction", () => {
  it("never writes tokens, secrets or authorization headers, at top level or nested", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = createLogger("info", sink);
    const secrets = [
      "bot-token-123",
      "hmac-secret-456",
      "Bearer source-token-789",
      "tg-secret-000",
      "postgres://u:pw@db/x",
    ];
    logger.info({ token: secrets[0], signingSecret: secrets[1], authorization: secrets[2] }, "top level");
    logger.child({ component: "x" }).warn(
      {
        req: { headers: { authorization: secrets[2] } },
        env: { TELEGRAM_WEBHOOK_SECRET: secrets[3], DATABASE_URL: secrets[4] },
      },
      "nested",
    );
    const out = lines.join("");
    expect(lines).toHaveLength(2);
    for (const secret of secrets) expect(out).not.toContain(secret);
    expect(out).toContain("[redacted]");
    expect(out).toContain("nested"); // the lines themselves still get written
  });
});
