/**
 * The headers of one webhook attempt: the delivery id beside the timestamp and signature, and the
 * crash-recovery numbers that bound how late a killed worker's jobs resume.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RESUMABLE_WORKER_OPTIONS } from "../../../src/jobs/callback-queue.js";
import { webhookHeaders } from "../../../src/jobs/signing.js";

describe("webhookHeaders", () => {
  it("sends the delivery id as given, with the timestamp and the signature of `timestamp.body`", () => {
    const body = '{"id":"apr_1","status":"approved"}';
    const hmac = createHmac("sha256", "whsec_0123456789abcdef").update(`1741078800.${body}`, "utf8").digest("hex");
    expect(webhookHeaders("whsec_0123456789abcdef", "42", body, 1_741_078_800)).toEqual({
      "X-Signoff-Delivery": "42",
      "X-Signoff-Timestamp": "1741078800",
      "X-Signoff-Signature": `sha256=${hmac}`,
    });
  });

  it("keeps the delivery id when the timestamp (a retry) changes the signature", () => {
    const a = webhookHeaders("secret-secret-secret", "7", "{}", 100);
    const b = webhookHeaders("secret-secret-secret", "7", "{}", 160);
    expect(a["X-Signoff-Delivery"]).toBe(b["X-Signoff-Delivery"]);
    expect(a["X-Signoff-Signature"]).not.toBe(b["X-Signoff-Signature"]);
  });
});

describe("RESUMABLE_WORKER_OPTIONS", () => {
  it("resume a killed worker's jobs within 10 s of the new worker starting, even when one check pass is skipped", () => {
    const { lockDuration, stalledInterval, maxStalledCount } = RESUMABLE_WORKER_OPTIONS;
    // The lock must have lapsed by the second stalled-check pass, or a third pass is needed.
    expect(lockDuration).toBeLessThanOrEqual(2 * stalledInterval);
    expect(3 * stalledInterval).toBeLessThanOrEqual(10_000);
    expect(maxStalledCount).toBeGreaterThanOrEqual(2);
  });
});
