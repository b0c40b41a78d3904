/**
 * Checks a request must pass before anything is stored: a request nobody configured could ever
 * pass is refused at once (`400` naming the field to fix) rather than left to time out, and
 * `requestedBy` must name an operator. The requester's own approval does not count unless the
 * request allows it, so they are left out of the approvers a `medium` or `hard` request needs.
 */
import { type Actor, DEFAULT_APPROVER_ROLES } from "../../domain/approval.js";
import { AppError } from "../../domain/errors.js";
import type { CreateApprovalInput } from "./approval-machine.js";

/** What the checks need to know about the configured operators. */
export interface CreateCheckDeps {
  /** How many operators hold any of these roles; without it, approvers are not checked. */
  eligibleApprovers?(roles: readonly string[]): number;
  /** An operator by name (configured or paired in chat). */
  operators: { byName(name: string): Actor | undefined };
}

/** Gates whose requests wait for a person (a `low` notice may be objected to by one). */
const GATES_WITH_PEOPLE: ReadonlySet<string> = new Set(["low", "medium", "hard"]);
/** Gates a person must approve: the requester cannot be that person unless allowed. */
const GATES_NEEDING_APPROVAL: ReadonlySet<string> = new Set(["medium", "hard"]);

type Problem = { path: string; message: string };

function refuse(problem: Problem, what: string): never {
  throw new AppError({
    code: "invalid_body",
    message: `${what}: ${problem.message}`,
    userMessage: "invalid body",
    details: [problem],
  });
}

/** Refuse a request whose `requestedBy` is unknown or whose approvers could never be met. */
export function refuseUnanswerable(input: CreateApprovalInput, deps: CreateCheckDeps): void {
  const requester = input.requestedBy === undefined ? undefined : deps.operators.byName(input.requestedBy);
  if (input.requestedBy !== undefined && !requester)
    refuse({ path: "requestedBy", message: `no operator is named ${input.requestedBy}` }, "unknown requester");
  if (!deps.eligibleApprovers || !GATES_WITH_PEOPLE.has(input.gate)) return;
  const roles = input.approvers?.roles?.length ? input.approvers.roles : DEFAULT_APPROVER_ROLES;
  const eligible = deps.eligibleApprovers(roles);
  const quorum = input.gate === "low" ? 1 : (input.approvers?.quorum ?? 1);
  if (eligible === 0)
    refuse(
      { path: "approvers.roles", message: `no operator holds any of these roles: ${roles.join(", ")}` },
      "unmeetable approvers",
    );
  if (quorum > eligible)
    refuse(
      {
        path: "approvers.quorum",
        message: `quorum ${quorum} is more than the ${eligible} operator(s) who may approve`,
      },
      "unmeetable approvers",
    );
  const requesterApproves =
    requester && requester.roles.some((role) => roles.includes(role)) && input.allowSelfApproval !== true;
  if (requesterApproves && GATES_NEEDING_APPROVAL.has(input.gate) && quorum > eligible - 1) {
    const others = eligible - 1;
    const why =
      others === 0
        ? `no other operator holds these roles: ${roles.join(", ")}`
        : `quorum ${quorum} is more than the ${others} other operator(s) who may`;
    refuse(
      { path: "requestedBy", message: `${requester.name} asked for it and may not approve it, and ${why}` },
      "unmeetable approvers",
    );
  }
}
