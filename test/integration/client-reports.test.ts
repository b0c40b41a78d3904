/**
 * The requester client's reports against a real signoff, spend never counted twice after a lost
 * answer, and verifySignature on the callbacks signoff really sends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/client.js";
import { SignoffRequestError, SignoffTransportError } from "../../src/client/errors.js";
import { verifySignature } from "../../src/client/signature.js";
import { signatureHeaders } from "../../src/jobs/signing.js";
import type { Signoff } from "../../src/main.js";
import { startCallbackReceiver } from "../helpers/callback-receiver.js";
import { SIGNING_SECRET, SOURCE_TOKEN, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";
import { sql } from "../helpers/sql.js";

let s: Signoff & { schema: string; prefix: string };

beforeAll(async () => {
  s = await startTestSignoff();
});
afterAll(async () => {
  await s?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

/** A fetch whose requests to `path` reach signoff but whose answers are lost on the way back. */
const losingAnswersTo =
  (path: string): typeof fetch =>
  async (url, init) => {
    const response = await fetch(url, init);
    if (String(url).endsWith(path))
      throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    return response;
  };

describe("client reports", () => {
  it("reports a task, spend, a heartbeat and a notice", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    await expect(client.report.task({ id: "T-1", title: "index docs", state: "in-progress" })).resolves.toMatchObject({
      id: "T-1",
      source: "forge",
      state: "in-progress",
    });
    await expect(client.report.spend({ amount: 1.25, currency: "usd", agent: "forge" })).resolves.toEqual({
      recorded: true,
      alerted: false,
    });
    await expect(client.report.heartbeat({ agent: "forge" })).resolves.toEqual({ recorded: true });
    const notice = await client.report.notify({ text: "nightly run finished", severity: "info" });
    expect(notice.queued).toBeGreaterThan(0);
    await eventually(
      () => s.webchat!.history("adam").find((m) => m.text.includes("nightly run finished")),
      "the notice in adam's chat",
    );
  });

  it("names the field of a bad report", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    const error = await client.report.task({ id: "T-2", title: "x", state: "sleeping" as "done" }).catch((e) => e);
    expect(error).toBeInstanceOf(SignoffRequestError);
    expect((error as SignoffRequestError).problems.map((p) => p.path)).toEqual(["state"]);
  });

  it("does not resend spend whose answer was lost, so it is recorded once", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN, fetch: losingAnswersTo("/api/spend") });
    await expect(client.report.spend({ amount: 7, model: "lost-answer-model" })).rejects.toBeInstanceOf(
      SignoffTransportError,
    );
    const rows = await sql<{ n: string }>(s.schema, "SELECT count(*) AS n FROM spend WHERE model = $1", [
      "lost-answer-model",
    ]);
    expect(rows[0]!.n).toBe("1");
  });
});

describe("verifySignature", () => {
  it("accepts signoff's real callback and refuses a tampered body, a wrong secret and an old timestamp", async () => {
    const receiver = await startCallbackReceiver();
    try {
      const client = createClient({ url: s.url, token: SOURCE_TOKEN });
      const approval = await client.createApproval({ title: "rotate logs", gate: "auto", callbackUrl: receiver.url });
      const callback = await eventually(() => receiver.successes()[0], "the callback");
      expect(JSON.parse(callback.body)).toMatchObject({ id: approval.id, status: "approved" });
      const timestamp = String(callback.headers["x-signoff-timestamp"]);
      const signature = String(callback.headers["x-signoff-signature"]);

      expect(verifySignature(SIGNING_SECRET, timestamp, callback.body, signature)).toBe(true);
      expect(verifySignature(SIGNING_SECRET, timestamp, callback.body.replace("approved", "rejected"), signature)).toBe(
        false,
      );
      expect(verifySignature("another-secret", timestamp, callback.body, signature)).toBe(false);
      expect(verifySignature(SIGNING_SECRET, timestamp, callback.body, undefined)).toBe(false);
      // The same delivery replayed six minutes later is refused; within a wider tolerance it passes.
      const later = Number(timestamp) + 360;
      expect(verifySignature(SIGNING_SECRET, timestamp, callback.body, signature, { nowSeconds: later })).toBe(false);
      expect(
        verifySignature(SIGNING_SECRET, timestamp, callback.body, signature, {
          nowSeconds: later,
          toleranceSeconds: 600,
        }),
      ).toBe(true);
      // A correctly signed body with a stale timestamp is refused too.
      const stale = Math.floor(Date.now() / 1000) - 3600;
      const old = signatureHeaders(SIGNING_SECRET, callback.body, stale);
      expect(verifySignature(SIGNING_SECRET, stale, callback.body, old["X-Signoff-Signature"])).toBe(false);
    } finally {
      await receiver.close();
    }
  });
});
