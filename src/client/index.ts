/**
 * `signoff/client`: everything a requester needs, in plain Node (no TypeScript loader):
 * `createClient` to ask for approvals and report state, `verifySignature` for callback receivers,
 * and the typed errors. The one export list of the package's client.
 *
 * @example
 * import { createClient, SignoffTimeoutError } from "signoff/client";
 * const signoff = createClient({ url: process.env.SIGNOFF_URL, token: process.env.SIGNOFF_TOKEN });
 * const decision = await signoff.requireApproval({ title: "Deploy", gate: "medium" }, { timeoutMs: 60_000 });
 */
export {
  type CallOptions,
  type ClientOptions,
  createClient,
  type ReportClient,
  type RequireApprovalOptions,
  type SignoffClient,
} from "./client.js";
export {
  type Problem,
  SignoffAbortError,
  SignoffError,
  SignoffRequestError,
  SignoffTimeoutError,
  SignoffTransportError,
} from "./errors.js";
export { type VerifySignatureOptions, verifySignature } from "./signature.js";
export type {
  ApprovalInput,
  ApprovalRecord,
  ApprovalStatus,
  DecidedApprovalRecord,
  HeartbeatInput,
  NotifyInput,
  SpendInput,
  TaskInput,
  TaskRecord,
} from "./types.js";
