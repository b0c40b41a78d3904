/**
 * Approval use cases: create, answer, fire a timer, cancel. Runs the pure state machine, stores
 * the result with a compare-and-set (retrying when another writer won), then schedules the
 * side effects: timers, the signed callback, card updates and long-poll wake-ups.
 * Dependencies are injected and narrowed so tests can pass tiny fakes.
 */
import { randomUUID } from "node:crypto";
import type { Actor, Approval, EscalationStep, ReminderPoint, TimerKind } from "../../domain/approval.js";
import type { ApprovalStore } from "../../store/approval-store.js";
import type { AuditStore } from "../../store/audit-store.js";
import type { SettingsStore } from "../../store/settings-store.js";
import {
  type ApprovalEvent,
  type EscalationReason,
  type CreateApprovalInput,
  type TransitionResult,
  createApproval,
  plannedTimers,
  transition,
} from "./approval-machine.js";
import { type CodeLengthRule, SHORT_CODES_FIRST, generateCode, longerCode } from "./approval-codes.js";
import { type CreateCheckDeps, refuseUnanswerable } from "./create-checks.js";
import { refuseUnheldSteps } from "./escalation.js";
import { type LifecycleResult, type LifecycleTimerKind, isLifecycleTimer } from "./lifecycle-timers.js";
import { type RuleBook, type RuleRefusal, approveByRule, ruleRefusal } from "./rules.js";
import { callbackFor, creationEntries, transitionEntry } from "./approval-records.js";
import { noFreeCode, notFound, payloadMismatch, tooMuchContention } from "./approval-errors.js";
import { createLifecycleStep } from "./lifecycle-step.js";
import type { ApprovalObserver, ApprovalPresenter, TimerScheduler } from "./approval-ports.js";
import type { StandingRule } from "../../domain/standing-rule.js";

export type { ApprovalObserver, ApprovalPresenter, TimerScheduler } from "./approval-ports.js";

/** Injected dependencies of {@link createApprovalService}. */
export interface ApprovalServiceDeps {
  approvals: ApprovalStore;
  audit: Pick<AuditStore, "append">;
  settings: Pick<SettingsStore, "isPaused">;
  timers: TimerScheduler;
  callbacks: { enqueue(deliveryId: string): Promise<void> };
  presenter: ApprovalPresenter;
  /** Wakes `?wait=N` long polls (in this and other processes). */
  decisions: { publish(approvalId: string): Promise<void> };
  defaults: {
    deadlineSeconds: number;
    objectionSeconds: number;
    /** When waiting requests remind their approvers (`approvals.remindAt`). */
    remindAt?: readonly ReminderPoint[];
    /** The escalation ladder of requests that bring none (`approvals.escalate`). */
    escalate?: readonly EscalationStep[];
  };
  /** How many configured operators hold any of these roles (to refuse requests nobody can pass). */
  eligibleApprovers?(roles: readonly string[]): number;
  /** Operators by name, to check a request's `requestedBy`. */
  operators: CreateCheckDeps["operators"] & {
    /** Every operator, to find whom an escalation step made eligible (they get the card). */
    all?(): readonly Actor[];
  };
  now?: () => Date;
  logger: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  observe?: ApprovalObserver;
  /** Standing approvals: consulted on create (not while paused), and for "✅ always". */
  rules?: Pick<RuleBook, "covering" | "recordUse" | "createFrom">;
  /**
   * How long new codes are (from the pending count), and how they are drawn (tests count tries).
   * @defaultValue 4 characters first, longer after a collision; {@link generateCode}
   */
  codes?: { lengths?: CodeLengthRule; generate?: (length: number) => string };
}

/**
 * Outcome of "✅ always": `refused` decided nothing (a hard request, one without an action, …);
 * otherwise the answer's own result, and the rule when the answer approved the request
 * (`ruleFailed` when it did but the rule could not be stored: the approval stands).
 */
export type AlwaysResult =
  | { outcome: "refused"; reason: RuleRefusal; approval: Approval }
  | { outcome: "answered"; result: ApplyResult; rule: StandingRule | null; ruleFailed: boolean };

const MAX_CAS_ATTEMPTS = 20;
/** Tries to find a free code: each one after a collision is a character longer (up to 6). */
const MAX_CODE_ATTEMPTS = 12;

export { generateCode } from "./approval-codes.js";

/** The outcome of an answer or timer, with the approval as it now stands. */
export type ApplyResult = TransitionResult;

/** Build the approval service; see the module comment. */
export function createApprovalService(deps: ApprovalServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const codeLengths = deps.codes?.lengths ?? SHORT_CODES_FIRST;
  const newCode = deps.codes?.generate ?? generateCode;

  /** Tell the observer; a failing observer is logged, never passed on to the caller. */
  function observe(tell: (observer: ApprovalObserver) => void, approvalId: string): void {
    if (!deps.observe) return;
    try {
      tell(deps.observe);
    } catch (err) {
      logPostCommit(err, approvalId, "approval observer failed");
    }
  }

  /** A step after the commit failed: recoverable (the reconciler re-creates it), so a warning. */
  function logPostCommit(err: unknown, approvalId: string, what: string): void {
    deps.logger.warn({ err: (err as Error)?.message ?? String(err), approvalId }, what);
  }

  /**
   * The stored request a repeated idempotency key found, unless the repeat asks to run something
   * else: approving one payload must never stand for another, so that is a `409` naming `payload`.
   */
  function sameRequest(stored: Approval, repeat: Approval): Approval {
    if (stored.payloadSha256 === repeat.payloadSha256) return stored;
    throw payloadMismatch(stored.id);
  }

  async function afterDecision(approval: Approval, deliveryId: string | null): Promise<void> {
    // The decision is committed; everything below is best effort and recoverable
    // (the reconciler re-enqueues pending deliveries, timers ignore decided approvals).
    const tasks: Promise<unknown>[] = [deps.decisions.publish(approval.id), deps.presenter.refresh(approval)];
    if (deliveryId) tasks.push(deps.callbacks.enqueue(deliveryId));
    const results = await Promise.allSettled(tasks);
    for (const r of results)
      if (r.status === "rejected")
        deps.logger.error({ err: r.reason, approvalId: approval.id }, "post-decision step failed");
  }

  /** The approval, or the `not_found` error every caller answers with. */
  async function existing(approvalId: string): Promise<Approval> {
    const current = await deps.approvals.get(approvalId);
    if (!current) throw notFound(approvalId);
    return current;
  }

  const stepLifecycle = createLifecycleStep({
    approvals: deps.approvals,
    presenter: deps.presenter,
    operators: deps.operators,
    now,
    logPostCommit,
    maxAttempts: MAX_CAS_ATTEMPTS,
  });

  async function apply(approvalId: string, makeEvent: () => ApprovalEvent, auditActor: string): Promise<ApplyResult> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await existing(approvalId);
      const event = makeEvent();
      const result = transition(current, event);
      if (result.outcome === "ignored") return result;
      const audit = [transitionEntry(approvalId, result, event, auditActor)];
      const delivery = result.outcome === "decided" ? callbackFor(result.approval) : null;
      const decision = result.outcome === "decided" || result.outcome === "vote_recorded" ? result.decision : null;
      const stored = await deps.approvals.commitTransition(result.approval, current.version, decision, audit, delivery);
      if (!stored.committed) continue; // someone else changed it first: re-read, re-decide
      if (result.outcome === "decided") {
        const { approval, decision } = result;
        observe((o) => o.decided(approval, decision), approvalId);
        if (event.type !== "timer")
          for (const t of plannedTimers(current)) void deps.timers.cancel(approvalId, t.kind).catch(() => undefined);
        await afterDecision(result.approval, stored.deliveryId);
      } else if (result.outcome === "escalated") {
        // It now waits for a person until the deadline: shown notices become cards (refresh);
        // a notice that never arrived is replaced by a card to every eligible approver.
        await Promise.all(
          plannedTimers(result.approval).map((timer) =>
            deps.timers
              .schedule(approvalId, timer.kind, timer.dueAt)
              .catch((err) => logPostCommit(err, approvalId, "timer scheduling failed")),
          ),
        );
        await deps.presenter
          .refresh(result.approval)
          .catch((err) => logPostCommit(err, approvalId, "card refresh failed"));
        if (event.type === "escalate" && event.reason === "notice_not_delivered") {
          await deps.presenter
            .announce(result.approval, "card")
            .catch((err) => logPostCommit(err, approvalId, "announce failed"));
        }
      } else {
        await deps.presenter
          .refresh(result.approval)
          .catch((err) => deps.logger.error({ err, approvalId }, "card refresh failed"));
      }
      return result;
    }
    throw tooMuchContention(approvalId);
  }

  const service = {
    /**
     * Create (or, for a repeated idempotency key, return) an approval. Auto and prohibited
     * requests come back decided; the others get their timer and announcement.
     */
    async create(source: string, input: CreateApprovalInput): Promise<{ approval: Approval; created: boolean }> {
      refuseUnanswerable(input, deps);
      refuseUnheldSteps(input.approvers?.escalate, deps.eligibleApprovers);
      const [paused, firstLength] = await Promise.all([deps.settings.isPaused(), codeLengths.firstLength()]);
      // A standing approval that covers it (looked up once; a pause suspends every rule).
      let rule: StandingRule | null | undefined;
      let codeLength = firstLength;
      for (let attempt = 0; attempt < MAX_CODE_ATTEMPTS; attempt++) {
        const made = createApproval(input, {
          id: randomUUID(),
          code: newCode(codeLength),
          source,
          now: now(),
          paused,
          defaultDeadlineSeconds: deps.defaults.deadlineSeconds,
          defaultObjectionSeconds: deps.defaults.objectionSeconds,
          ...(deps.defaults.remindAt ? { remindAt: deps.defaults.remindAt } : {}),
          ...(deps.defaults.escalate ? { escalate: deps.defaults.escalate } : {}),
        });
        if (rule === undefined) rule = paused || !deps.rules ? null : await deps.rules.covering(made.approval, now());
        const approval = rule ? approveByRule(made.approval, rule, made.approval.createdAt) : made.approval;
        const announcement = rule ? null : made.announcement;
        const audit = creationEntries(approval, source, paused, rule);
        const outcome = await deps.approvals.insert(approval, audit, callbackFor(approval));
        if (!outcome.inserted && outcome.reason === "code_taken") {
          codeLengths.collided(codeLength);
          codeLength = longerCode(codeLength);
          continue;
        }
        if (!outcome.inserted) return { approval: sameRequest(outcome.approval, approval), created: false };
        if (approval.status === "pending") codeLengths.created();
        observe((o) => o.created(approval), approval.id);
        if (approval.status !== "pending") observe((o) => o.decided(approval, null), approval.id);
        if (rule)
          await deps.rules
            ?.recordUse(rule.id, approval.createdAt)
            .catch((err) => logPostCommit(err, approval.id, "rule use not counted"));
        // Timer and announcement go out together (one pipelined write to Redis under load).
        await Promise.all([
          ...plannedTimers(approval).map((timer) =>
            deps.timers.schedule(approval.id, timer.kind, timer.dueAt).catch((err) =>
              // PostgreSQL has the deadline; the reconciler re-creates the timer when Redis is back.
              deps.logger.error({ err, approvalId: approval.id }, "timer scheduling failed"),
            ),
          ),
          announcement
            ? deps.presenter
                .announce(approval, announcement)
                .catch((err) => deps.logger.error({ err, approvalId: approval.id }, "announce failed"))
            : null,
        ]);
        if (approval.status !== "pending") await afterDecision(approval, outcome.deliveryId);
        return { approval, created: true };
      }
      throw noFreeCode();
    },

    /**
     * An operator's answer (from any channel). Ineligible answers, and a requester approving their
     * own request, are audited and change nothing.
     */
    async answer(input: {
      approvalId: string;
      operator: Actor;
      verdict: "approve" | "reject" | "modify";
      note: string | null;
      channel: string;
    }): Promise<ApplyResult> {
      const result = await apply(
        input.approvalId,
        () => ({
          type: "answer",
          operator: input.operator,
          verdict: input.verdict,
          note: input.note,
          channel: input.channel,
          at: now(),
        }),
        input.operator.name,
      );
      if (result.outcome === "ignored" && (result.reason === "not_eligible" || result.reason === "self_approval")) {
        await deps.audit.append([
          {
            actor: input.operator.name,
            action: "approval.answer_refused",
            subject: input.approvalId,
            data: { verdict: input.verdict, channel: input.channel, reason: result.reason },
          },
        ]);
      }
      return result;
    },

    /**
     * "✅ always": approve the request and, when that decided it, create a standing rule for its
     * source and action (and agent). Refused, deciding nothing, for a request no rule can cover.
     */
    async approveAlways(input: {
      approvalId: string;
      operator: Actor;
      note: string | null;
      channel: string;
    }): Promise<AlwaysResult> {
      const current = await deps.approvals.get(input.approvalId);
      const refusal = current && current.status === "pending" && deps.rules ? ruleRefusal(current) : null;
      if (current && refusal) return { outcome: "refused", reason: refusal, approval: current };
      const result = await service.answer({ ...input, verdict: "approve" });
      const approval = result.approval;
      if (
        !deps.rules ||
        result.outcome !== "decided" ||
        approval.status !== "approved" ||
        approval.decidedBy !== input.operator.name
      )
        return { outcome: "answered", result, rule: null, ruleFailed: false };
      try {
        const { rule } = await deps.rules.createFrom(
          approval,
          input.operator,
          input.channel,
          approval.decidedAt ?? now(),
        );
        return { outcome: "answered", result, rule, ruleFailed: false };
      } catch (err) {
        // The approval stands (it is committed); the operator is told the rule was not saved.
        deps.logger.error({ err, approvalId: approval.id }, "rule not saved");
        return { outcome: "answered", result, rule: null, ruleFailed: true };
      }
    },

    /**
     * A timer fired. An early arrival (clock skew) comes back as `timer_not_due` with the
     * approval, so the timer can wait again for the remaining time.
     */
    async fireTimer(approvalId: string, kind: TimerKind): Promise<ApplyResult | LifecycleResult> {
      if (isLifecycleTimer(kind)) return stepLifecycle(approvalId, kind as LifecycleTimerKind);
      const escalate = (reason: EscalationReason) =>
        apply(
          approvalId,
          () => ({
            type: "escalate",
            at: now(),
            deadlineSeconds: deps.defaults.deadlineSeconds,
            reason,
            ...(deps.defaults.remindAt ? { remindAt: deps.defaults.remindAt } : {}),
          }),
          reason === "paused" ? "pause" : "policy",
        );
      // Paused while a low request waited: "auto and low are treated as medium" applies to it too.
      if (kind === "objection" && (await deps.settings.isPaused())) {
        const escalated = await escalate("paused");
        if (escalated.outcome !== "ignored" || escalated.reason !== "timer_not_applicable") return escalated;
      }
      const result = await apply(approvalId, () => ({ type: "timer", kind, at: now() }), "timer");
      // Its notice reached nobody within the window: it needs a person now (the machine refuses
      // to approve it, so this is the only way on).
      if (result.outcome === "ignored" && result.reason === "notice_not_delivered")
        return escalate("notice_not_delivered");
      return result;
    },

    /** The first notice of a `low` request reached an operator: its window counts from now. */
    async confirmNoticeDelivered(approvalId: string): Promise<boolean> {
      const windowEndsAt = await deps.approvals.confirmNoticeDelivered(approvalId, now());
      if (windowEndsAt)
        await deps.timers
          .schedule(approvalId, "objection", windowEndsAt)
          .catch((err) => logPostCommit(err, approvalId, "timer scheduling failed"));
      return windowEndsAt !== null;
    },

    /** A source withdraws its request. */
    async cancel(approvalId: string, source: string): Promise<ApplyResult> {
      const current = await existing(approvalId);
      // Another source's request is none of this one's business: the same answer as no request.
      if (current.source !== source) throw notFound(approvalId);
      return apply(approvalId, () => ({ type: "cancel", by: source, at: now() }), source);
    },

    get: (id: string) => deps.approvals.get(id),
    getByCode: (code: string) => deps.approvals.getByCode(code),
    list: (options: Parameters<ApprovalStore["list"]>[0]) => deps.approvals.list(options),
  };
  return service;
}

/** The approval service's interface, for injection into channels, API and jobs. */
export type ApprovalService = ReturnType<typeof createApprovalService>;
