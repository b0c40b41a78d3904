/**
 * Checking that a callback really comes from signoff: `X-Signoff-Signature` is
 * `sha256=<hex HMAC-SHA256 of "timestamp.body">` under the shared signing secret, with
 * `X-Signoff-Timestamp` in Unix seconds. The check is signoff's own (constant-time compare, stale
 * timestamps refused so a captured callback cannot be replayed later).
 */
import { verifySignature as verifySignedBody } from "../jobs/signing.js";

/** Options of {@link verifySignature}. */
export interface VerifySignatureOptions {
  /** How far the timestamp may be from now, either way. @defaultValue 300 */
  toleranceSeconds?: number;
  /** The receiver's clock, in Unix seconds. @defaultValue the current time */
  nowSeconds?: number;
}

/**
 * Whether a callback carries signoff's signature over its exact body. Pass the raw body text as
 * received (before parsing it: re-serialised JSON does not match) and the two headers as they
 * came; a missing header simply fails the check.
 *
 * @example
 * const ok = verifySignature(secret, req.headers["x-signoff-timestamp"], rawBody, req.headers["x-signoff-signature"]);
 * if (!ok) return res.writeHead(401).end();
 */
export function verifySignature(
  secret: string,
  timestamp: string | number | null | undefined,
  body: string,
  signature: string | null | undefined,
  options: VerifySignatureOptions = {},
): boolean {
  if (!secret || timestamp === null || timestamp === undefined || typeof signature !== "string") return false;
  if (!/^\d+$/.test(String(timestamp).trim())) return false;
  return verifySignedBody(
    secret,
    body,
    String(timestamp).trim(),
    signature,
    options.nowSeconds ?? Date.now() / 1000,
    options.toleranceSeconds ?? 300,
  );
}
