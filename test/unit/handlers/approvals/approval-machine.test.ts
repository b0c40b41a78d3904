/**
 * The approval state machine against rules restated here, independently of the
 * machine: every gate × every event × every status, then the details (creation, pause, quorum,
 * timers, versions, deciders).
 */
import type { Actor } from "../../../../src/domain/approval.js";
import { requestDefaults } from "../../../helpers/approval-fixture.js";
import { describe, expect, it } from "vitest";
import {
  TIMER_TOLERANCE_MS,
  createApproval,
  isEligible,
  plannedTimers,
  transition,
  type ApprovalEvent,
  type CreateApprovalInput,
  type CreateContext,
  type TransitionResult,
  withNoticeDelivered,
} from "../../../../src/handlers/approvals/approval-machine.js";
import {
  APPROVAL_STATUSES,
  type Approval,
  type ApprovalStatus,
  type Gate,
  type Verdict,
} from "../../../../src/domain/approval.js";

const NOW = new Date("2025-03-04T09:00:00.000Z");
const SECOND = 1000;
const DEFAULT_DEADLINE_S = 14_400;
const DEFAULT_OBJECTION_S = 10;

const ctx = (over: Partial<CreateContext> = {}): CreateContext => ({
  id: "apr_1",
  code: "K7QF",
  source: "forge",
  now: NOW,
  paused: false,
  defaultDeadlineSeconds: DEFAULT_DEADLINE_S,
  defaultObjectionSeconds: DEFAULT_OBJECTION_S,
  ...over,
});

const input = (gate: Gate, over: Partial<CreateApprovalInput> = {}): CreateApprovalInput => ({
  title: "Deploy api to production",
  gate,
  ...(gate === "hard" ? { preview: "kubectl apply -f api.yaml (dry run: 3 changed)" } : {}),
  ...over,
});

/** A new request; a `low` one as it stands once its notice reached an operator at once. */
const create = (gate: Gate, over: Partial<CreateApprovalInput> = {}, ctxOver: Partial<CreateContext> = {}) => {
  const created = createApproval(input(gate, over), ctx(ctxOver));
  return { ...created, approval: withNoticeDelivered(created.approval, created.approval.createdAt) };
};

const adam: Actor = { name: "adam", roles: ["owner", "approver"] };
const bea: Actor = { name: "bea", roles: ["approver"] };
const vic: Actor = { name: "vic", roles: ["viewer"] };

const at = (ms: number) => new Date(NOW.getTime() + ms);

/** Deep copy that keeps Dates, to check the machine never mutates its input. */
const snapshot = (a: Approval): Approval => structuredClone(a);

// ---------------------------------------------------------------------------------------------
// The exhaustive matrix
// ---------------------------------------------------------------------------------------------

/** One way a request can exist: what the source asked for and whether signoff was paused. */
interface Fixture {
  label: string;
  gate: Gate;
  paused: boolean;
  over?: Partial<CreateApprovalInput>;
  /** Restated from the gate rules, not read from the machine. */
  spec: {
    /** Gate that governs the pending request (pause turns auto/low into medium). */
    effective: Gate;
    /** Whether creation already decides it (auto, prohibited — never pending). */
    decidedOnCreate: boolean;
    onTimeoutApproves: boolean;
  };
}

const FIXTURES: Fixture[] = [
  {
    label: "auto",
    gate: "auto",
    paused: false,
    spec: { effective: "auto", decidedOnCreate: true, onTimeoutApproves: false },
  },
  {
    label: "auto (paused)",
    gate: "auto",
    paused: true,
    spec: { effective: "medium", decidedOnCreate: false, onTimeoutApproves: false },
  },
  {
    label: "low",
    gate: "low",
    paused: false,
    spec: { effective: "low", decidedOnCreate: false, onTimeoutApproves: false },
  },
  {
    label: "low (paused)",
    gate: "low",
    paused: true,
    spec: { effective: "medium", decidedOnCreate: false, onTimeoutApproves: false },
  },
  {
    label: "medium",
    gate: "medium",
    paused: false,
    spec: { effective: "medium", decidedOnCreate: false, onTimeoutApproves: false },
  },
  {
    label: "medium onTimeout=approve",
    gate: "medium",
    paused: false,
    over: { onTimeout: "approve" },
    spec: { effective: "medium", decidedOnCreate: false, onTimeoutApproves: true },
  },
  {
    label: "hard",
    gate: "hard",
    paused: false,
    spec: { effective: "hard", decidedOnCreate: false, onTimeoutApproves: false },
  },
  {
    // Asking for approve-on-timeout on hard must not work: hard always denies.
    label: "hard onTimeout=approve",
    gate: "hard",
    paused: false,
    over: { onTimeout: "approve" },
    spec: { effective: "hard", decidedOnCreate: false, onTimeoutApproves: false },
  },
  {
    label: "prohibited",
    gate: "prohibited",
    paused: false,
    spec: { effective: "prohibited", decidedOnCreate: true, onTimeoutApproves: false },
  },
  {
    label: "prohibited (paused)",
    gate: "prohibited",
    paused: true,
    spec: { effective: "prohibited", decidedOnCreate: true, onTimeoutApproves: false },
  },
];

/** A request in the given status. Terminal statuses are stamped onto the created request. */
function stateOf(fx: Fixture, status: ApprovalStatus): Approval | null {
  const created = create(fx.gate, fx.over, { paused: fx.paused }).approval;
  if (status === "pending") return fx.spec.decidedOnCreate ? null : created;
  return {
    ...created,
    status,
    decidedBy: status === "cancelled" ? "forge" : "zed",
    decidedAt: at(SECOND),
    note: status === "changes_requested" ? "earlier note" : null,
    version: 3,
  };
}

type EventSpec =
  | { label: string; kind: "answer"; operator: Actor; verdict: Verdict; note: string | null }
  | { label: string; kind: "timer"; timer: "objection" | "deadline"; due: boolean }
  | { label: string; kind: "cancel" };

const EVENTS: EventSpec[] = [
  { label: "approve by approver", kind: "answer", operator: bea, verdict: "approve", note: null },
  { label: "approve with note by owner", kind: "answer", operator: adam, verdict: "approve", note: "  ship it  " },
  { label: "reject by approver", kind: "answer", operator: bea, verdict: "reject", note: "too risky" },
  { label: "reject without note", kind: "answer", operator: bea, verdict: "reject", note: null },
  { label: "modify with note", kind: "answer", operator: bea, verdict: "modify", note: "use staging first" },
  { label: "modify without note", kind: "answer", operator: bea, verdict: "modify", note: null },
  { label: "modify with blank note", kind: "answer", operator: bea, verdict: "modify", note: "   " },
  { label: "approve by viewer", kind: "answer", operator: vic, verdict: "approve", note: null },
  { label: "reject by viewer", kind: "answer", operator: vic, verdict: "reject", note: "no" },
  { label: "modify by viewer", kind: "answer", operator: vic, verdict: "modify", note: "do it differently" },
  { label: "objection timer, due", kind: "timer", timer: "objection", due: true },
  { label: "objection timer, not yet due", kind: "timer", timer: "objection", due: false },
  { label: "deadline timer, due", kind: "timer", timer: "deadline", due: true },
  { label: "deadline timer, not yet due", kind: "timer", timer: "deadline", due: false },
  { label: "cancel by source", kind: "cancel" },
];

/** When the request's own timer of that kind is due (or a day on, for gates without one). */
function dueTime(a: Approval, timer: "objection" | "deadline"): Date {
  const own = timer === "objection" ? a.objectionEndsAt : a.deadlineAt;
  return own ?? at(86_400 * SECOND);
}

function toEvent(spec: EventSpec, a: Approval): ApprovalEvent {
  switch (spec.kind) {
    case "answer":
      return {
        type: "answer",
        operator: spec.operator,
        verdict: spec.verdict,
        note: spec.note,
        channel: "telegram",
        at: at(5 * SECOND),
      };
    case "timer": {
      const due = dueTime(a, spec.timer);
      return { type: "timer", kind: spec.timer, at: spec.due ? due : new Date(due.getTime() - 60 * SECOND) };
    }
    case "cancel":
      return { type: "cancel", by: "forge", at: at(7 * SECOND) };
  }
}

type Expected =
  | { outcome: "ignored"; reason: string }
  | { outcome: "decided"; status: ApprovalStatus; decidedBy: string; note: string | null; recordsDecision: boolean };

/** The rules restated: what a single event must do to a request (quorum 1, default roles). */
function expectedOf(fx: Fixture, status: ApprovalStatus, ev: EventSpec): Expected {
  if (status !== "pending") return { outcome: "ignored", reason: "already_decided" };
  const g = fx.spec.effective;
  switch (ev.kind) {
    case "cancel":
      return { outcome: "decided", status: "cancelled", decidedBy: "forge", note: null, recordsDecision: false };
    case "timer": {
      const applies = ev.timer === "objection" ? g === "low" : g === "medium" || g === "hard";
      if (!applies) return { outcome: "ignored", reason: "timer_not_applicable" };
      if (!ev.due) return { outcome: "ignored", reason: "timer_not_due" };
      if (ev.timer === "objection") {
        return {
          outcome: "decided",
          status: "approved",
          decidedBy: "objection-window",
          note: null,
          recordsDecision: false,
        };
      }
      const approve = g === "medium" && fx.spec.onTimeoutApproves;
      return {
        outcome: "decided",
        status: approve ? "approved" : "rejected",
        decidedBy: "timeout",
        note: null,
        recordsDecision: false,
      };
    }
    case "answer": {
      const eligible = ev.operator.roles.includes("approver") || ev.operator.roles.includes("owner");
      if (!eligible) return { outcome: "ignored", reason: "not_eligible" };
      const note = ev.note?.trim() ? ev.note.trim() : null;
      if (ev.verdict === "modify" && note === null) return { outcome: "ignored", reason: "note_required" };
      const st: ApprovalStatus =
        ev.verdict === "approve" ? "approved" : ev.verdict === "reject" ? "rejected" : "changes_requested";
      return { outcome: "decided", status: st, decidedBy: ev.operator.name, note, recordsDecision: true };
    }
  }
}

const MATRIX = FIXTURES.flatMap((fx) =>
  APPROVAL_STATUSES.flatMap((status) =>
    EVENTS.map((ev) => ({ name: `${fx.label} | ${status} | ${ev.label}`, fx, status, ev })),
  ),
);

describe("transition: every gate × event × status", () => {
  it("covers every gate, status and event kind", () => {
    expect(new Set(FIXTURES.map((f) => f.gate))).toEqual(new Set(["auto", "low", "medium", "hard", "prohibited"]));
    expect(MATRIX.length).toBe(FIXTURES.length * APPROVAL_STATUSES.length * EVENTS.length);
  });

  it.each(MATRIX)("$name", ({ fx, status, ev }) => {
    const before = stateOf(fx, status);
    if (before === null) {
      // auto and prohibited are decided on create: a pending one cannot exist.
      expect(create(fx.gate, fx.over, { paused: fx.paused }).approval.status).not.toBe("pending");
      return;
    }
    const frozen = snapshot(before);
    const event = toEvent(ev, before);
    const result = transition(before, event);
    const want = expectedOf(fx, status, ev);

    expect(before, "transition must not mutate its input").toStrictEqual(frozen);

    if (want.outcome === "ignored") {
      expect(result).toMatchObject({ outcome: "ignored", reason: want.reason });
      expect(result.approval).toStrictEqual(frozen);
      return;
    }

    expect(result.outcome).toBe("decided");
    const after = result.approval;
    expect(after.status).toBe(want.status);
    expect(after.decidedBy).toBe(want.decidedBy);
    expect(after.decidedAt).toStrictEqual(event.at);
    expect(after.note).toBe(want.note);
    expect(after.version).toBe(before.version + 1);
    expect(plannedTimers(after)).toEqual([]);
    // Everything that describes the request itself is untouched.
    const { status: _s, decidedBy: _b, decidedAt: _a, note: _n, version: _v, decisions: _d, ...rest } = after;
    const {
      status: _s2,
      decidedBy: _b2,
      decidedAt: _a2,
      note: _n2,
      version: _v2,
      decisions: _d2,
      ...restBefore
    } = frozen;
    expect(rest).toStrictEqual(restBefore);

    if (want.recordsDecision && ev.kind === "answer") {
      const decision = {
        operator: ev.operator.name,
        verdict: ev.verdict,
        note: want.note,
        channel: "telegram",
        at: event.at,
      };
      expect(after.decisions).toStrictEqual([...frozen.decisions, decision]);
      expect((result as Extract<TransitionResult, { outcome: "decided" }>).decision).toStrictEqual(decision);
    } else {
      expect(after.decisions).toStrictEqual(frozen.decisions);
      expect((result as Extract<TransitionResult, { outcome: "decided" }>).decision).toBeNull();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Creation
// ---------------------------------------------------------------------------------------------

describe("createApproval", () => {
  it.each([
    ["auto", false, false, null],
    ["auto", false, true, "auto_notice"],
    ["low", false, false, "notice"],
    ["medium", false, false, "card"],
    ["hard", false, false, "card"],
    ["prohibited", false, false, "advisory"],
    ["auto", true, false, "card"],
    ["auto", true, true, "card"],
    ["low", true, false, "card"],
    ["medium", true, false, "card"],
    ["hard", true, false, "card"],
    ["prohibited", true, false, "advisory"],
  ] as const)("gate %s, paused %s, notify %s → announcement %s", (gate, paused, notify, announcement) => {
    expect(create(gate, { notify }, { paused }).announcement).toBe(announcement);
  });

  it("auto is approved at once by policy, with no timers", () => {
    const { approval } = create("auto");
    expect(approval).toMatchObject({
      status: "approved",
      decidedBy: "policy",
      decidedAt: NOW,
      effectiveGate: "auto",
      deadlineAt: null,
      objectionEndsAt: null,
      decisions: [],
      version: 0,
    });
    expect(plannedTimers(approval)).toEqual([]);
  });

  it("prohibited is refused at once by policy, paused or not", () => {
    for (const paused of [false, true]) {
      const { approval } = create("prohibited", {}, { paused });
      expect(approval).toMatchObject({
        status: "rejected",
        decidedBy: "policy",
        decidedAt: NOW,
        effectiveGate: "prohibited",
      });
      expect(plannedTimers(approval)).toEqual([]);
    }
  });

  it("low gets an objection window of the default length, or the request's own", () => {
    const def = create("low").approval;
    expect(def).toMatchObject({
      status: "pending",
      effectiveGate: "low",
      deadlineAt: null,
      decidedBy: null,
      decidedAt: null,
    });
    expect(def.objectionEndsAt).toStrictEqual(at(DEFAULT_OBJECTION_S * SECOND));
    expect(create("low", { objectionSeconds: 2.5 }).approval.objectionEndsAt).toStrictEqual(at(2_500));
  });

  it.each(["medium", "hard"] as const)("%s gets a deadline of the default length, or the request's own", (gate) => {
    const def = create(gate).approval;
    expect(def).toMatchObject({ status: "pending", effectiveGate: gate, objectionEndsAt: null });
    expect(def.deadlineAt).toStrictEqual(at(DEFAULT_DEADLINE_S * SECOND));
    expect(create(gate, { deadlineSeconds: 60 }).approval.deadlineAt).toStrictEqual(at(60 * SECOND));
  });

  it.each(["auto", "low"] as const)("pause turns %s into medium: pending, a deadline, a card", (gate) => {
    const { approval, announcement } = create(gate, { deadlineSeconds: 900, objectionSeconds: 5 }, { paused: true });
    expect(announcement).toBe("card");
    expect(approval).toMatchObject({
      gate,
      effectiveGate: "medium",
      status: "pending",
      decidedBy: null,
      objectionEndsAt: null,
    });
    expect(approval.deadlineAt).toStrictEqual(at(900 * SECOND));
    expect(plannedTimers(approval)).toEqual([{ kind: "deadline", dueAt: at(900 * SECOND) }]);
    // Without its own deadline a paused request gets the default one.
    expect(create(gate, {}, { paused: true }).approval.deadlineAt).toStrictEqual(at(DEFAULT_DEADLINE_S * SECOND));
  });

  it("pause leaves medium and hard as they are", () => {
    for (const gate of ["medium", "hard"] as const) {
      expect(create(gate, {}, { paused: true }).approval.effectiveGate).toBe(gate);
    }
  });

  it.each([
    ["medium", undefined, "deny"],
    ["medium", "deny", "deny"],
    ["medium", "approve", "approve"],
    ["hard", "approve", "deny"],
    ["low", "approve", "deny"],
    ["auto", "approve", "deny"],
  ] as const)("gate %s with onTimeout %s stores onTimeout %s", (gate, onTimeout, stored) => {
    expect(create(gate, onTimeout ? { onTimeout } : {}).approval.onTimeout).toBe(stored);
  });

  it("copies request fields and fills defaults", () => {
    const min = create("medium").approval;
    expect(min).toMatchObject({
      id: "apr_1",
      code: "K7QF",
      source: "forge",
      title: "Deploy api to production",
      ...requestDefaults(),
      createdAt: NOW,
      version: 0,
    });
    const roles = ["ops-lead"];
    const full = create("hard", {
      reason: "hotfix",
      agent: "deployer",
      approvers: { roles, quorum: 2 },
      callbackUrl: "https://example.test/cb",
      idempotencyKey: "k1",
      metadata: { pr: 42 },
    }).approval;
    expect(full).toMatchObject({
      reason: "hotfix",
      agent: "deployer",
      preview: "kubectl apply -f api.yaml (dry run: 3 changed)",
      approverRoles: ["ops-lead"],
      quorum: 2,
      callbackUrl: "https://example.test/cb",
      idempotencyKey: "k1",
      metadata: { pr: 42 },
    });
    roles.push("intruder");
    expect(full.approverRoles, "roles are copied, not shared with the request").toEqual(["ops-lead"]);
  });

  it("an empty role list falls back to the default approver roles", () => {
    expect(create("medium", { approvers: { roles: [] } }).approval.approverRoles).toEqual(["approver", "owner"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

describe("plannedTimers", () => {
  it.each([
    ["low", false, "objection", DEFAULT_OBJECTION_S],
    ["low", true, "deadline", DEFAULT_DEADLINE_S],
    ["auto", true, "deadline", DEFAULT_DEADLINE_S],
    ["medium", false, "deadline", DEFAULT_DEADLINE_S],
    ["hard", false, "deadline", DEFAULT_DEADLINE_S],
  ] as const)("pending %s (paused %s) needs one %s timer", (gate, paused, kind, seconds) => {
    const { approval } = create(gate, {}, { paused });
    expect(plannedTimers(approval)).toEqual([{ kind, dueAt: at(seconds * SECOND) }]);
  });

  it.each(["auto", "prohibited"] as const)("%s needs no timer", (gate) => {
    expect(plannedTimers(create(gate).approval)).toEqual([]);
  });

  it.each(APPROVAL_STATUSES.filter((s) => s !== "pending"))(
    "a %s request needs no timer, whatever its gate",
    (status) => {
      for (const gate of ["low", "medium", "hard"] as const) {
        const a = create(gate).approval;
        expect(plannedTimers({ ...a, status })).toEqual([]);
      }
    },
  );

  it("keeps the deadline while a quorum is being collected", () => {
    const a = create("hard", { approvers: { quorum: 2 } }).approval;
    const r = transition(a, answer(bea, "approve"));
    expect(r.outcome).toBe("vote_recorded");
    expect(plannedTimers(r.approval)).toEqual([{ kind: "deadline", dueAt: at(DEFAULT_DEADLINE_S * SECOND) }]);
  });
});

describe("timer tolerance", () => {
  it("is a small positive allowance", () => {
    expect(TIMER_TOLERANCE_MS).toBeGreaterThan(0);
    expect(TIMER_TOLERANCE_MS).toBeLessThanOrEqual(1000);
  });

  it.each([
    ["low", "objection"],
    ["medium", "deadline"],
    ["hard", "deadline"],
  ] as const)("%s %s timer: due exactly at dueAt − tolerance, not one ms earlier", (gate, kind) => {
    const a = create(gate).approval;
    const due = plannedTimers(a)[0]!.dueAt.getTime();
    const early = transition(a, { type: "timer", kind, at: new Date(due - TIMER_TOLERANCE_MS - 1) });
    expect(early).toMatchObject({ outcome: "ignored", reason: "timer_not_due" });
    const edge = transition(a, { type: "timer", kind, at: new Date(due - TIMER_TOLERANCE_MS) });
    expect(edge.outcome).toBe("decided");
    const late = transition(a, { type: "timer", kind, at: new Date(due + 3_600_000) });
    expect(late.outcome).toBe("decided");
    expect(late.approval.decidedAt).toStrictEqual(new Date(due + 3_600_000));
  });
});

describe("timeouts", () => {
  const deadline = (a: Approval): ApprovalEvent => ({ type: "timer", kind: "deadline", at: a.deadlineAt! });

  it("medium with onTimeout approve is approved by timeout", () => {
    const a = create("medium", { onTimeout: "approve" }).approval;
    expect(transition(a, deadline(a)).approval).toMatchObject({ status: "approved", decidedBy: "timeout" });
  });

  it("medium by default is denied by timeout", () => {
    const a = create("medium").approval;
    expect(transition(a, deadline(a)).approval).toMatchObject({ status: "rejected", decidedBy: "timeout" });
  });

  it("hard is always denied by timeout, even if the stored record says approve", () => {
    const a = create("hard").approval;
    expect(transition(a, deadline(a)).approval).toMatchObject({ status: "rejected", decidedBy: "timeout" });
    const forced: Approval = { ...a, onTimeout: "approve" };
    expect(transition(forced, deadline(forced)).approval).toMatchObject({ status: "rejected", decidedBy: "timeout" });
  });

  it("hard with one of two votes is still denied at the deadline", () => {
    const a0 = create("hard", { approvers: { quorum: 2 } }).approval;
    const a1 = transition(a0, answer(adam, "approve")).approval;
    const r = transition(a1, deadline(a1));
    expect(r.approval).toMatchObject({ status: "rejected", decidedBy: "timeout", version: 2 });
    expect(r.approval.decisions).toHaveLength(1);
  });

  it("low proceeds after the objection window, decided by objection-window", () => {
    const a = create("low", { objectionSeconds: 3 }).approval;
    const r = transition(a, { type: "timer", kind: "objection", at: at(3 * SECOND) });
    expect(r.approval).toMatchObject({
      status: "approved",
      decidedBy: "objection-window",
      decidedAt: at(3 * SECOND),
      note: null,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Answers: eligibility, quorum, votes
// ---------------------------------------------------------------------------------------------

function answer(operator: Actor, verdict: Verdict, note: string | null = null, ms = 5 * SECOND): ApprovalEvent {
  return { type: "answer", operator, verdict, note, channel: "whatsapp", at: at(ms) };
}

describe("isEligible", () => {
  it("needs any one of the request's roles", () => {
    const a = create("hard", { approvers: { roles: ["ops-lead", "sre"] } }).approval;
    expect(isEligible(a, { name: "x", roles: ["sre"] })).toBe(true);
    expect(isEligible(a, { name: "x", roles: ["viewer", "ops-lead"] })).toBe(true);
    expect(isEligible(a, adam), "owner is not in an explicit role list").toBe(false);
    expect(isEligible(a, { name: "x", roles: [] })).toBe(false);
  });

  it("defaults to approver and owner", () => {
    const a = create("medium").approval;
    expect(isEligible(a, adam)).toBe(true);
    expect(isEligible(a, bea)).toBe(true);
    expect(isEligible(a, { name: "o", roles: ["owner"] })).toBe(true);
    expect(isEligible(a, vic)).toBe(false);
  });
});

describe("hard gate with quorum 2 and roles", () => {
  const lead1: Actor = { name: "lead1", roles: ["ops-lead"] };
  const lead2: Actor = { name: "lead2", roles: ["viewer", "ops-lead"] };
  const lead3: Actor = { name: "lead3", roles: ["ops-lead"] };
  const fresh = () => create("hard", { approvers: { roles: ["ops-lead"], quorum: 2 } }).approval;

  it("an approver without the role is not eligible", () => {
    expect(transition(fresh(), answer(bea, "approve"))).toMatchObject({ outcome: "ignored", reason: "not_eligible" });
    expect(transition(fresh(), answer(adam, "reject"))).toMatchObject({ outcome: "ignored", reason: "not_eligible" });
  });

  it("first approval is recorded as a vote, not a decision", () => {
    const a0 = fresh();
    const r = transition(a0, answer(lead1, "approve", " fine by me "));
    expect(r).toMatchObject({ outcome: "vote_recorded", approvals: 1, quorum: 2 });
    expect(r.approval).toMatchObject({
      status: "pending",
      decidedBy: null,
      decidedAt: null,
      note: null,
      version: a0.version + 1,
    });
    const vote = { operator: "lead1", verdict: "approve", note: "fine by me", channel: "whatsapp", at: at(5 * SECOND) };
    expect(r.approval.decisions).toStrictEqual([vote]);
    expect((r as Extract<TransitionResult, { outcome: "vote_recorded" }>).decision).toStrictEqual(vote);
  });

  it("the same operator approving again is already_voted and changes nothing", () => {
    const a1 = transition(fresh(), answer(lead1, "approve")).approval;
    const copy = snapshot(a1);
    const r = transition(a1, answer(lead1, "approve", null, 9 * SECOND));
    expect(r).toMatchObject({ outcome: "ignored", reason: "already_voted" });
    expect(r.approval).toStrictEqual(copy);
  });

  it("a second distinct approver decides: approved by them, both votes kept", () => {
    const a1 = transition(fresh(), answer(lead1, "approve")).approval;
    const r = transition(a1, answer(lead2, "approve", "go", 8 * SECOND));
    expect(r.outcome).toBe("decided");
    expect(r.approval).toMatchObject({
      status: "approved",
      decidedBy: "lead2",
      decidedAt: at(8 * SECOND),
      note: "go",
      version: 2,
    });
    expect(r.approval.decisions.map((d) => [d.operator, d.verdict])).toEqual([
      ["lead1", "approve"],
      ["lead2", "approve"],
    ]);
  });

  it("any single reject wins, even after one approval", () => {
    const a1 = transition(fresh(), answer(lead1, "approve")).approval;
    const byOther = transition(a1, answer(lead3, "reject", "no"));
    expect(byOther.approval).toMatchObject({ status: "rejected", decidedBy: "lead3", note: "no", version: 2 });
    const bySame = transition(a1, answer(lead1, "reject", "changed my mind"));
    expect(bySame.approval).toMatchObject({ status: "rejected", decidedBy: "lead1", version: 2 });
    expect(bySame.approval.decisions.map((d) => d.verdict)).toEqual(["approve", "reject"]);
  });

  it("a first reject rejects at once", () => {
    expect(transition(fresh(), answer(lead1, "reject")).approval).toMatchObject({
      status: "rejected",
      decidedBy: "lead1",
    });
  });

  it("once decided, further answers are already_decided", () => {
    const a1 = transition(fresh(), answer(lead1, "approve")).approval;
    const a2 = transition(a1, answer(lead2, "approve")).approval;
    for (const ev of [answer(lead3, "reject"), answer(lead1, "approve"), answer(vic, "approve")]) {
      expect(transition(a2, ev)).toMatchObject({ outcome: "ignored", reason: "already_decided" });
    }
    expect(transition(a2, { type: "cancel", by: "forge", at: at(1) })).toMatchObject({
      outcome: "ignored",
      reason: "already_decided",
    });
  });

  it("quorum 3 needs three distinct approvers; viewers in between change nothing", () => {
    let a = create("hard", { approvers: { roles: ["ops-lead"], quorum: 3 } }).approval;
    const steps: Array<[Actor, string]> = [
      [lead1, "vote_recorded"],
      [vic, "ignored"],
      [lead1, "ignored"],
      [lead2, "vote_recorded"],
      [lead3, "decided"],
    ];
    for (const [who, outcome] of steps) {
      const r = transition(a, answer(who, "approve"));
      expect(r.outcome, `${who.name}`).toBe(outcome);
      a = r.approval;
    }
    expect(a).toMatchObject({ status: "approved", decidedBy: "lead3", version: 3 });
  });

  it("default quorum for hard is 1", () => {
    expect(transition(create("hard").approval, answer(bea, "approve")).approval).toMatchObject({
      status: "approved",
      decidedBy: "bea",
    });
  });
});

describe("low gate answers", () => {
  it("one approval lets it go early, whatever quorum was asked", () => {
    const a = create("low", { approvers: { quorum: 3 } }).approval;
    expect(transition(a, answer(bea, "approve")).approval).toMatchObject({ status: "approved", decidedBy: "bea" });
  });

  it("an objection (reject) stops it", () => {
    const a = create("low").approval;
    const r = transition(a, answer(adam, "reject", "stop"));
    expect(r.approval).toMatchObject({ status: "rejected", decidedBy: "adam", note: "stop" });
    // The objection timer arriving later changes nothing.
    expect(transition(r.approval, { type: "timer", kind: "objection", at: a.objectionEndsAt! })).toMatchObject({
      outcome: "ignored",
      reason: "already_decided",
    });
  });
});

describe("first decision wins", () => {
  it("a deadline after an answer is ignored, and an answer after a deadline is ignored", () => {
    const a = create("medium", { onTimeout: "approve" }).approval;
    const byAnswer = transition(a, answer(bea, "reject")).approval;
    expect(transition(byAnswer, { type: "timer", kind: "deadline", at: a.deadlineAt! })).toMatchObject({
      outcome: "ignored",
      reason: "already_decided",
      approval: byAnswer,
    });
    const byTimeout = transition(a, { type: "timer", kind: "deadline", at: a.deadlineAt! }).approval;
    expect(byTimeout).toMatchObject({ status: "approved", decidedBy: "timeout" });
    expect(transition(byTimeout, answer(bea, "reject"))).toMatchObject({
      outcome: "ignored",
      reason: "already_decided",
    });
  });
});

describe("version", () => {
  it("goes up by one on every stored change and never on an ignored event", () => {
    let a = create("hard", { approvers: { quorum: 2 } }).approval;
    expect(a.version).toBe(0);
    const seq: Array<[ApprovalEvent, number]> = [
      [answer(vic, "approve"), 0],
      [{ type: "timer", kind: "deadline", at: at(1) }, 0],
      [{ type: "timer", kind: "objection", at: at(DEFAULT_DEADLINE_S * SECOND) }, 0],
      [answer(bea, "modify", null), 0],
      [answer(bea, "approve"), 1],
      [answer(bea, "approve"), 1],
      [answer(adam, "approve"), 2],
      [answer(adam, "reject"), 2],
      [{ type: "cancel", by: "forge", at: at(1) }, 2],
    ];
    for (const [ev, version] of seq) {
      a = transition(a, ev).approval;
      expect(a.version).toBe(version);
    }
  });

  it("builds on the stored version, not on zero", () => {
    const a = { ...create("medium").approval, version: 41 };
    expect(transition(a, { type: "cancel", by: "forge", at: at(1) }).approval.version).toBe(42);
  });
});

describe("decidedBy", () => {
  it.each([
    ["policy (auto)", () => create("auto").approval, "policy"],
    ["policy (prohibited)", () => create("prohibited").approval, "policy"],
    [
      "objection-window",
      () => {
        const a = create("low").approval;
        return transition(a, { type: "timer", kind: "objection", at: a.objectionEndsAt! }).approval;
      },
      "objection-window",
    ],
    [
      "timeout",
      () => {
        const a = create("medium").approval;
        return transition(a, { type: "timer", kind: "deadline", at: a.deadlineAt! }).approval;
      },
      "timeout",
    ],
    [
      "operator name",
      () => transition(create("medium").approval, answer(bea, "modify", "smaller batch")).approval,
      "bea",
    ],
    [
      "source name on cancel",
      () => transition(create("hard").approval, { type: "cancel", by: "ci-pipeline", at: at(1) }).approval,
      "ci-pipeline",
    ],
  ] as const)("%s", (_label, make, by) => {
    expect(make().decidedBy).toBe(by);
  });
});
