/**
 * Signatures on outbound webhooks (SPEC §4.1): `X-Signoff-Signature: sha256=<hex HMAC of
 * "timestamp.body">` with `X-Signoff-Timestamp` in Unix seconds. Receivers recompute and compare.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Headers for one signed delivery of `body` at `timestampSeconds`. */
export function signatureHeaders(secret: string, body: string, timestampSeconds: number): Record<string, string> {
  const signature = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return { "X-Signoff-Timestamp": String(timestampSeconds), "X-Signoff-Signature": `sha256=${signature}` };
}

/**
 * Check a received signature (what a receiver does); rejects stale timestamps to stop replays.
 * Exported for sources written in TypeScript and for our tests.
 */
export function verifySignature(secret: string, body: string, timestamp: string, signature: string, nowSeconds = Date.now() / 1000, maxAgeSeconds = 300): boolean {
  const ts = Number(timestamp);
  if (!Number.isFinite(ts) || Math.abs(nowSeconds - ts) > maxAgeSeconds) return false;
  const expected = Buffer.from(signatureHeaders(secret, body, ts)["X-Signoff-Signature"]!);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
