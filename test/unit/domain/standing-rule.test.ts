/** Rule ids as people type them, and the rule a `decidedBy` names. */
import { describe, expect, it } from "vitest";
import { formatRuleId, parseRuleId, ruleIdOfDecider } from "../../../src/domain/standing-rule.js";

describe("rule ids", () => {
  it("reads R12, r12, #12 and 12 as rule 12", () => {
    for (const typed of ["R12", "r12", "#12", "12", " R12 "]) expect(parseRuleId(typed)).toBe(12);
    expect(formatRuleId(12)).toBe("R12");
  });
  it("refuses anything else", () => {
    for (const typed of ["", "R", "R0", "0", "R-1", "RR12", "K7QF", "12a", "R1234567890123"])
      expect(parseRuleId(typed)).toBeNull();
  });
  it("finds the rule in decidedBy rule:R12, and none in an operator's name or a policy", () => {
    expect(ruleIdOfDecider("rule:R12")).toBe("R12");
    expect(ruleIdOfDecider("adam")).toBeNull();
    expect(ruleIdOfDecider("policy")).toBeNull();
    expect(ruleIdOfDecider(null)).toBeNull();
  });
});
