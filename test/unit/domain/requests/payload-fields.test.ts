/**
 * The request fields for tools: `action` (a machine key), `payload` (any JSON, bounded without
 * recursion), `requestedBy`, `allowSelfApproval`; and `payloadSha256`, checked against canonical
 * JSON written out by hand here, not produced by the library signoff uses.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { toProblems } from "../../../../src/api/http-validation.js";
import { payloadSha256 } from "../../../../src/domain/payload-digest.js";
import { CreateApprovalBodySchema } from "../../../../src/domain/requests/approval-requests.js";

const base = { title: "Run a tool", gate: "medium" };
const paths = (body: unknown) => {
  const parsed = CreateApprovalBodySchema.safeParse(body);
  return parsed.success ? [] : toProblems(parsed.error).map((p) => p.path);
};
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** An array nested `depth` levels deep, built without recursion. */
function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe("payloadSha256: SHA-256 of the RFC 8785 canonical form", () => {
  it("sorts keys (by UTF-16 code units), drops whitespace, writes numbers as JavaScript does, keeps unicode", () => {
    const payload = JSON.parse(
      '{ "z": [3, 1e2, 0.5, -0, 1.0], "é": "ünï ✓", "a": { "b": null, "B": true, "aa": "\\u20ac" }, "10": "x" }',
    );
    // Written out by hand: "10" < "a" < "z" < "é" (U+00E9); "B" < "aa" < "b"; 1e2 → 100, -0 → 0, 1.0 → 1.
    const canonical = '{"10":"x","a":{"B":true,"aa":"€","b":null},"z":[3,100,0.5,0,1],"é":"ünï ✓"}';
    expect(payloadSha256(payload)).toBe(sha256(canonical));
  });

  it("is the same whatever order the keys were sent in", () => {
    expect(payloadSha256({ b: 1, a: { d: [1], c: 2 } })).toBe(payloadSha256({ a: { c: 2, d: [1] }, b: 1 }));
    expect(payloadSha256({ b: 1, a: 2 })).toBe(sha256('{"a":2,"b":1}'));
  });

  it.each<[unknown, string]>([
    ["ls -la", '"ls -la"'],
    [42, "42"],
    [false, "false"],
    [null, "null"],
    [[], "[]"],
    [{}, "{}"],
  ])("takes any JSON value: %j", (payload, canonical) => {
    expect(payloadSha256(payload)).toBe(sha256(canonical));
  });
});

describe("the create body", () => {
  it("accepts the tool fields", () => {
    const body = {
      ...base,
      action: "mcp__github:create_issue/v2.1-beta",
      payload: { command: "rm -rf build", env: ["CI=1"] },
      requestedBy: "eve",
      allowSelfApproval: true,
    };
    expect(CreateApprovalBodySchema.parse(body)).toMatchObject(body);
  });

  it.each([null, "text", 0, true, [1, [2]], { a: { b: {} } }])("accepts the JSON value %j as a payload", (payload) => {
    expect(paths({ ...base, payload })).toEqual([]);
    expect(CreateApprovalBodySchema.parse({ ...base, payload }).payload).toEqual(payload);
  });

  it.each<[string, unknown]>([
    ["deeper than 32", nested(33)],
    ["100 000 levels deep (no stack overflow)", nested(100_000)],
    ["over 16 KiB", { blob: "x".repeat(16_400) }],
    ["a NUL in a string", { cmd: "a\u0000b" }],
    ["an unpaired surrogate in a key", { "\uD800": 1 }],
    ["a number JSON cannot write back", { n: Number.POSITIVE_INFINITY }],
  ])("refuses a payload %s, naming payload", (_what, payload) => {
    expect(paths({ ...base, payload })).toEqual(["payload"]);
  });

  it("accepts a payload exactly 32 levels deep", () => {
    expect(paths({ ...base, payload: nested(32) })).toEqual([]);
  });

  it.each<[string, unknown]>([
    ["empty", ""],
    ["with a space", "deploy staging"],
    ["with a quote", 'Bash"'],
    ["over 100 characters", "a".repeat(101)],
    ["a number", 7],
  ])("refuses an action %s, naming action", (_what, action) => {
    expect(paths({ ...base, action })).toEqual(["action"]);
  });

  it("refuses a bad requestedBy or allowSelfApproval, naming each", () => {
    expect(paths({ ...base, requestedBy: "" })).toEqual(["requestedBy"]);
    expect(paths({ ...base, requestedBy: "e\u0000ve" })).toEqual(["requestedBy"]);
    expect(paths({ ...base, allowSelfApproval: "yes" })).toEqual(["allowSelfApproval"]);
  });
});
