/**
 * Which requests "✅ always" may turn into a rule, and which later requests a rule covers: the
 * same source and action, the rule's agent (or any agent for a rule without one), medium only,
 * one approval needed, its creator still an eligible operator and not the requester, live.
 */
import { describe, expect, it } from "vitest";
import type { Actor } from "../../../../src/domain/approval.js";
import type { StandingRule } from "../../../../src/domain/standing-rule.js";
import { approveByRule, isLive, ruleCovers, ruleRefusal } from "../../../../src/handlers/approvals/rules.js";
import { approvalFixture } from "../../../helpers/approval-fixture.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const adam: Actor = { name: "adam", roles: ["owner", "approver"] };

function rule(overrides: Partial<StandingRule> = {}): StandingRule {
  return {
    id: "R7",
    source: "forge",
    action: "deploy:staging",
    agent: "builder",
    createdBy: "adam",
    createdFrom: null,
    createdAt: new Date("2029-12-20T00:00:00Z"),
    expiresAt: new Date("2030-01-19T00:00:00Z"),
    lastUsedAt: null,
    useCount: 0,
    revokedAt: null,
    revokedBy: null,
    ...overrides,
  };
}

const request = (overrides: Parameters<typeof approvalFixture>[0] = {}) =>
  approvalFixture({ action: "deploy:staging", agent: "builder", ...overrides });

describe("ruleRefusal", () => {
  it("lets a medium request with an action and one approver become a rule", () => {
    expect(ruleRefusal(request())).toBeNull();
  });
  it("refuses hard, other gates, requests without an action and requests needing several approvals", () => {
    expect(ruleRefusal(request({ gate: "hard", effectiveGate: "hard" }))).toBe("hard");
    expect(ruleRefusal(request({ gate: "low", effectiveGate: "medium" }))).toBe("not_medium");
    expect(ruleRefusal(request({ gate: "auto", effectiveGate: "auto" }))).toBe("not_medium");
    expect(ruleRefusal(request({ action: null }))).toBe("no_action");
    expect(ruleRefusal(request({ quorum: 2 }))).toBe("quorum");
  });
});

describe("ruleCovers", () => {
  it("covers the same source, action and agent", () => {
    expect(ruleCovers(rule(), request(), adam, NOW)).toBe(true);
  });
  it("does not cover another source, action or agent", () => {
    expect(ruleCovers(rule(), request({ source: "ci" }), adam, NOW)).toBe(false);
    expect(ruleCovers(rule(), request({ action: "deploy:production" }), adam, NOW)).toBe(false);
    expect(ruleCovers(rule(), request({ agent: "other" }), adam, NOW)).toBe(false);
    expect(ruleCovers(rule(), request({ agent: null }), adam, NOW)).toBe(false);
  });
  it("a rule without an agent covers every agent of its source", () => {
    expect(ruleCovers(rule({ agent: null }), request({ agent: "other" }), adam, NOW)).toBe(true);
    expect(ruleCovers(rule({ agent: null }), request({ agent: null }), adam, NOW)).toBe(true);
  });
  it("never covers a hard, low or auto request, nor one needing several approvals", () => {
    expect(ruleCovers(rule(), request({ gate: "hard", effectiveGate: "hard", preview: "x" }), adam, NOW)).toBe(false);
    // A low request escalated by a pause is shown as medium, but it is not what the rule covers.
    expect(ruleCovers(rule(), request({ gate: "low", effectiveGate: "medium" }), adam, NOW)).toBe(false);
    expect(ruleCovers(rule(), request({ gate: "auto", effectiveGate: "auto" }), adam, NOW)).toBe(false);
    expect(ruleCovers(rule(), request({ quorum: 2 }), adam, NOW)).toBe(false);
  });
  it("ends at its expiry and when revoked", () => {
    expect(ruleCovers(rule({ expiresAt: NOW }), request(), adam, NOW)).toBe(false);
    expect(ruleCovers(rule({ expiresAt: new Date(NOW.getTime() + 1) }), request(), adam, NOW)).toBe(true);
    expect(ruleCovers(rule({ revokedAt: NOW, revokedBy: "eve" }), request(), adam, NOW)).toBe(false);
    expect(isLive(rule({ revokedAt: NOW, revokedBy: "eve" }), NOW)).toBe(false);
  });
  it("acts only for a creator who is still an operator and eligible for the request", () => {
    expect(ruleCovers(rule(), request(), undefined, NOW)).toBe(false);
    expect(ruleCovers(rule(), request(), { name: "eve", roles: ["approver"] }, NOW)).toBe(false);
    expect(ruleCovers(rule(), request({ approverRoles: ["ops-lead"] }), adam, NOW)).toBe(false);
    expect(ruleCovers(rule(), request(), { name: "adam", roles: ["viewer"] }, NOW)).toBe(false);
  });
  it("does not approve a request made on its creator's behalf unless it allows self-approval", () => {
    expect(ruleCovers(rule(), request({ requestedBy: "adam" }), adam, NOW)).toBe(false);
    expect(ruleCovers(rule(), request({ requestedBy: "adam", allowSelfApproval: true }), adam, NOW)).toBe(true);
    expect(ruleCovers(rule(), request({ requestedBy: "eve" }), adam, NOW)).toBe(true);
  });
  it("covers only a request still pending", () => {
    expect(ruleCovers(rule(), request({ status: "approved" }), adam, NOW)).toBe(false);
  });
});

describe("approveByRule", () => {
  it("is approved at once by rule:<id>, with no deadline, and leaves the input unchanged", () => {
    const before = request();
    const after = approveByRule(before, rule(), NOW);
    expect(after).toMatchObject({ status: "approved", decidedBy: "rule:R7", decidedAt: NOW, deadlineAt: null });
    expect(before.status).toBe("pending");
  });
});
