/**
 * The fingerprint of a request's payload: the hex SHA-256 of its RFC 8785 (JCS) canonical form
 * (keys sorted, no whitespace, numbers as JavaScript prints them). A source that sent the payload
 * can compute the same digest however its JSON library orders keys, and check that what was
 * approved is what it is about to run.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * The payload's SHA-256 over its canonical JSON. The payload must already be within the request
 * limits (finite numbers, bounded depth: the canonicaliser recurses).
 *
 * @example
 * payloadSha256({ b: 1, a: [true, null] }); // sha256 of '{"a":[true,null],"b":1}'
 */
export function payloadSha256(payload: unknown): string {
  const canonical = canonicalize(payload);
  if (canonical === undefined) throw new TypeError("payload is not a JSON value");
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}
