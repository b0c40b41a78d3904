/**
 * Self-approval: when a tool asks on behalf of an operator (`requestedBy`), that operator's
 * approval does not count unless the request allows it, on every gate a person answers and in a
 * quorum; saying no (reject, modify) always counts. At create, a request the requester alone could
 * approve is refused naming `requestedBy`, and an unknown requester naming `requestedBy` too.
 */
import { describe, expect, it } from "vitest";
import type { Actor, Verdict } from "../../../../src/domain/approval.js";
import { AppError } from "../../../../src/domain/errors.js";
import {
  type CreateApprovalInput,
  createApproval,
  isSelfApproval,
  transition,
  withNoticeDelivered,
} from "../../../../src/handlers/approvals/approval-machine.js";
import { refuseUnanswerable } from "../../../../src/handlers/approvals/create-checks.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const eve: Actor = { name: "eve", roles: ["approver"] };
const bob: Actor = { name: "bob", roles: ["approver", "ops-lead"] };
const adam: Actor = { name: "adam", roles: ["owner", "approver"] };

const create = (over: Partial<CreateApprovalInput>) => {
  const { approval } = createApproval(
    { title: "Run Bash", gate: "medium", preview: "ls", requestedBy: "eve", ...over },
    {
      id: "a1",
      code: "K7QF",
      source: "forge",
      now: NOW,
      paused: false,
      defaultDeadlineSeconds: 600,
      defaultObjectionSeconds: 10,
    },
  );
  return withNoticeDelivered(approval, NOW);
};
const answer = (operator: Actor, verdict: Verdict, note: string | null = null) =>
  ({ type: "answer", operator, verdict, note, channel: "webchat", at: NOW }) as const;

describe("the requester's own answer", () => {
  it.each(["low", "medium", "hard"] as const)("%s: their approval is ignored and changes nothing", (gate) => {
    const approval = create({ gate });
    const result = transition(approval, answer(eve, "approve"));
    expect(result).toEqual({ outcome: "ignored", reason: "self_approval", approval });
  });

  it("another approver's approval counts", () => {
    const result = transition(create({}), answer(bob, "approve"));
    expect(result.outcome).toBe("decided");
    expect(result.approval).toMatchObject({ status: "approved", decidedBy: "bob" });
  });

  it.each<[Verdict, string]>([
    ["reject", "rejected"],
    ["modify", "changes_requested"],
  ])("their %s counts: saying no is always safe", (verdict, status) => {
    const result = transition(create({}), answer(eve, verdict, "not like this"));
    expect(result.approval).toMatchObject({ status, decidedBy: "eve" });
  });

  it("counts when the request says allowSelfApproval: true", () => {
    const result = transition(create({ allowSelfApproval: true }), answer(eve, "approve"));
    expect(result.approval).toMatchObject({ status: "approved", decidedBy: "eve" });
  });

  it("is no vote in a quorum: two others are still needed", () => {
    const approval = create({ approvers: { quorum: 2 } });
    expect(transition(approval, answer(eve, "approve")).outcome).toBe("ignored");
    const first = transition(approval, answer(bob, "approve"));
    expect(first.outcome).toBe("vote_recorded");
    expect(transition(first.approval, answer(eve, "approve")).outcome).toBe("ignored");
    expect(transition(first.approval, answer(adam, "approve")).approval.status).toBe("approved");
  });

  it("is only the named operator's: without requestedBy everyone's approval counts", () => {
    expect(isSelfApproval(create({ requestedBy: undefined }), "eve")).toBe(false);
    expect(isSelfApproval(create({}), "bob")).toBe(false);
    expect(isSelfApproval(create({}), "eve")).toBe(true);
  });
});

describe("refused at create", () => {
  const operators = [eve, bob, adam, { name: "vic", roles: ["viewer"] }];
  const deps = {
    eligibleApprovers: (roles: readonly string[]) =>
      operators.filter((o) => o.roles.some((r) => roles.includes(r))).length,
    operators: { byName: (name: string) => operators.find((o) => o.name === name) },
  };
  const problemOf = (input: Partial<CreateApprovalInput>) => {
    try {
      refuseUnanswerable({ title: "t", gate: "medium", ...input }, deps);
      return null;
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).statusCode).toBe(400);
      return ((error as AppError).details as Array<{ path: string; message: string }>)[0]!;
    }
  };

  it("an unknown requester, naming requestedBy", () => {
    expect(problemOf({ requestedBy: "mallory" })).toEqual({
      path: "requestedBy",
      message: "no operator is named mallory",
    });
    expect(problemOf({ requestedBy: "mallory", gate: "auto" })?.path).toBe("requestedBy");
  });

  it("a request only its requester could approve, naming requestedBy", () => {
    const alone = problemOf({ requestedBy: "bob", approvers: { roles: ["ops-lead"] } });
    expect(alone?.path).toBe("requestedBy");
    expect(alone?.message).toBe(
      "bob asked for it and may not approve it, and no other operator holds these roles: ops-lead",
    );
    // hard needs a person just the same
    expect(problemOf({ requestedBy: "bob", gate: "hard", approvers: { roles: ["ops-lead"] } })?.path).toBe(
      "requestedBy",
    );
  });

  it("a quorum only reachable with the requester, naming requestedBy", () => {
    expect(problemOf({ requestedBy: "eve", approvers: { quorum: 3 } })).toEqual({
      path: "requestedBy",
      message: "eve asked for it and may not approve it, and quorum 3 is more than the 2 other operator(s) who may",
    });
    expect(problemOf({ requestedBy: "eve", approvers: { quorum: 2 } })).toBeNull();
  });

  it("accepts what others can approve, what self-approval allows, and a requester who holds no approving role", () => {
    expect(problemOf({ requestedBy: "eve" })).toBeNull();
    expect(problemOf({ requestedBy: "bob", approvers: { roles: ["ops-lead"] }, allowSelfApproval: true })).toBeNull();
    expect(problemOf({ requestedBy: "vic", approvers: { roles: ["ops-lead"] } })).toBeNull();
    // low proceeds unless someone objects, and the requester may object: nothing to refuse
    expect(problemOf({ requestedBy: "bob", gate: "low", approvers: { roles: ["ops-lead"] } })).toBeNull();
  });

  it("keeps the roles and quorum problems when nobody at all could approve", () => {
    expect(problemOf({ requestedBy: "eve", approvers: { roles: ["nobody"] } })?.path).toBe("approvers.roles");
    expect(problemOf({ requestedBy: "eve", approvers: { quorum: 4 } })?.path).toBe("approvers.quorum");
  });
});
