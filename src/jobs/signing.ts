/**
 * Signatures on outbound webhooks: `X-Signoff-Signature: sha256=<hex HMAC of
 * "timestamp.body">` with `X-Signoff-Timestamp` in Unix seconds. Receivers recompute and compare.
 * `X-Signoff-Delivery` names the delivery and is the same on every retry, so a receiver can drop
 * the repeats that at-least-once delivery brings.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The header that names a delivery, unchanged across its retries. */
export const DELIVERY_ID_HEADER = "X-Signoff-Delivery";

/** Headers for one signed delivery of `body` at `timestampSeconds`. */
export function signatureHeaders(secret: string, body: string, timestampSeconds: number): Record<string, string> {
  const signature = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return { "X-Signoff-Timestamp": String(timestampSeconds), "X-Signoff-Signature": `sha256=${signature}` };
}

/** Every signoff header of one webhook attempt: the delivery id, the timestamp and the signature. */
export function webhookHeaders(
  secret: string,
  deliveryId: string,
  body: string,
  timestampSeconds: number,
): Record<string, string> {
  return { [DELIVERY_ID_HEADER]: deliveryId, ...signatureHeaders(secret, body, timestampSeconds) };
}

/**
 * Check a received signature (what a receiver does); rejects stale timestamps to stop replays.
 * Exported for sources written in TypeScript and for our tests.
 */
export function verifySignature(
  secret: string,
  body: string,
  timestamp: string,
  signature: string,
  nowSeconds = Date.now() / 1000,
  maxAgeSeconds = 300,
): boolean {
  const ts = Number(timestamp);
  if (!Number.isFinite(ts) || Math.abs(nowSeconds - ts) > maxAgeSeconds) return false;
  const expected = Buffer.from(signatureHeaders(secret, body, ts)["X-Signoff-Signature"]!);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
