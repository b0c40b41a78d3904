/** Config keys of the approval lifecycle: reminders, escalation, rule expiry, quiet hours, breaker. */
import { describe, expect, it } from "vitest";
import { ConfigError, parseFileConfig } from "../../src/config.js";

const problem = (yaml: string) => {
  try {
    parseFileConfig(yaml);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
};

describe("lifecycle config", () => {
  it("defaults: reminders at half time and 15 minutes before, no ladder, rules for 30 days, no breaker", () => {
    const config = parseFileConfig("");
    expect(config.approvals.remindAt).toEqual([
      { kind: "share", share: 0.5 },
      { kind: "before", seconds: 900 },
    ]);
    expect(config.approvals.escalate).toEqual([]);
    expect(config.approvals.ruleExpiryDays).toBe(30);
    expect(config.breaker).toBeUndefined();
  });

  it("reads reminder points, a ladder, quiet hours and a breaker", () => {
    const config = parseFileConfig(
      [
        "operators:",
        '  - { name: ann, roles: [owner], quietHours: "22:00-07:00" }',
        "approvals:",
        '  remindAt: ["25%", "30s", "2h before"]',
        "  escalate: [{ afterSeconds: 600, roles: [owner] }]",
        "breaker: { rejections: 3, windowSeconds: 300 }",
      ].join("\n"),
    );
    expect(config.approvals.remindAt).toEqual([
      { kind: "share", share: 0.25 },
      { kind: "before", seconds: 30 },
      { kind: "before", seconds: 7200 },
    ]);
    expect(config.approvals.escalate).toEqual([{ afterSeconds: 600, roles: ["owner"] }]);
    expect(config.operators[0]?.quietHours).toBe("22:00-07:00");
    expect(config.breaker).toEqual({ rejections: 3, windowSeconds: 300 });
    expect(parseFileConfig("approvals: { remindAt: [] }").approvals.remindAt).toEqual([]);
  });

  it("names the field of a bad value", () => {
    expect(problem('approvals: { remindAt: ["soon"] }')).toContain("approvals.remindAt.0");
    expect(problem("approvals: { escalate: [{ afterSeconds: 0, roles: [owner] }] }")).toContain(
      "approvals.escalate.0.afterSeconds",
    );
    expect(problem('operators: [{ name: a, roles: [owner], quietHours: "22-07" }]')).toContain(
      "operators.0.quietHours",
    );
    expect(problem('operators: [{ name: a, roles: [owner], quietHours: "22:00-22:00" }]')).toContain("must differ");
    expect(problem("breaker: { windowSeconds: 60 }")).toContain("breaker");
  });
});
