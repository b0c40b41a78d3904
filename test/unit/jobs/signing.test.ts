/**
 * Webhook signatures: `sha256=` + hex HMAC-SHA256 of "timestamp.body", recomputed
 * here with node:crypto so the test does not trust the code under test.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signatureHeaders, verifySignature } from "../../../src/jobs/signing.js";

const SECRET = "whsec_0123456789abcdef";
const BODY = JSON.stringify({ id: "apr_1", status: "approved", decidedBy: "adam", note: "ünïcödé ✅" });
const TS = 1_741_078_800; // 2025-03-04T09:00:00Z

const hmac = (secret: string, text: string) => createHmac("sha256", secret).update(text, "utf8").digest("hex");

describe("signatureHeaders", () => {
  it("signs `timestamp.body` with HMAC-SHA256 and sends the timestamp in seconds", () => {
    expect(signatureHeaders(SECRET, BODY, TS)).toEqual({
      "X-Signoff-Timestamp": "1741078800",
      "X-Signoff-Signature": `sha256=${hmac(SECRET, `1741078800.${BODY}`)}`,
    });
  });

  it("matches a known vector", () => {
    // printf '1.{}' | openssl dgst -sha256 -hmac secret
    expect(signatureHeaders("secret", "{}", 1)["X-Signoff-Signature"]).toBe(
      "sha256=1122767b193110cfec322b6f199b599edbf608ed087f2d27afb0b97d99523908",
    );
  });

  it("changes with the body, the timestamp and the secret", () => {
    const sig = (s: string, b: string, t: number) => signatureHeaders(s, b, t)["X-Signoff-Signature"];
    const all = new Set([
      sig(SECRET, BODY, TS),
      sig(SECRET, `${BODY} `, TS),
      sig(SECRET, BODY, TS + 1),
      sig(`${SECRET}x`, BODY, TS),
    ]);
    expect(all.size).toBe(4);
  });
});

describe("verifySignature", () => {
  const good = `sha256=${hmac(SECRET, `${TS}.${BODY}`)}`;
  const verify = (over: Partial<{ secret: string; body: string; ts: string; sig: string; now: number }> = {}) =>
    verifySignature(
      over.secret ?? SECRET,
      over.body ?? BODY,
      over.ts ?? String(TS),
      over.sig ?? good,
      over.now ?? TS + 5,
    );

  it("accepts a good signature", () => {
    expect(verify()).toBe(true);
  });

  it("accepts what signatureHeaders produced", () => {
    const h = signatureHeaders(SECRET, BODY, TS);
    expect(verifySignature(SECRET, BODY, h["X-Signoff-Timestamp"]!, h["X-Signoff-Signature"]!, TS)).toBe(true);
  });

  it("rejects a tampered body", () => {
    expect(verify({ body: BODY.replace("approved", "rejected") })).toBe(false);
    expect(verify({ body: `${BODY}\n` })).toBe(false);
  });

  it("rejects a wrong secret", () => {
    expect(verify({ secret: "whsec_other_secret_value" })).toBe(false);
  });

  it("rejects a signature made for another timestamp", () => {
    expect(verify({ ts: String(TS + 1) })).toBe(false);
  });

  it("rejects a stale or future timestamp beyond five minutes, accepts up to it", () => {
    expect(verify({ now: TS + 300 })).toBe(true);
    expect(verify({ now: TS - 300 })).toBe(true);
    expect(verify({ now: TS + 301 })).toBe(false);
    expect(verify({ now: TS - 301 })).toBe(false);
    expect(verify({ now: TS + 86_400 })).toBe(false);
  });

  it("honours a custom max age", () => {
    expect(verifySignature(SECRET, BODY, String(TS), good, TS + 60, 30)).toBe(false);
    expect(verifySignature(SECRET, BODY, String(TS), good, TS + 20, 30)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["hex without prefix", hmac(SECRET, `${TS}.${BODY}`)],
    ["upper-case prefix", good.replace("sha256=", "SHA256=")],
    ["truncated", good.slice(0, -1)],
    ["one hex digit changed", good.slice(0, -1) + (good.endsWith("0") ? "1" : "0")],
    ["sha1 label", good.replace("sha256=", "sha1=")],
  ])("rejects a malformed signature: %s", (_label, sig) => {
    expect(verify({ sig })).toBe(false);
  });

  it.each(["", "abc", "NaN", "Infinity"])("rejects a non-numeric timestamp %j", (ts) => {
    expect(verify({ ts })).toBe(false);
  });
});
