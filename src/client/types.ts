/**
 * The client's request and answer types, taken from the very zod schemas the server validates
 * with, so the two cannot drift. Type-only imports: the built client does not load zod.
 */
import type { z } from "zod";
import type { ApprovalStatus } from "../domain/approval.js";
import type { ApprovalRecordSchema, CreateApprovalBodySchema } from "../domain/requests/approval-requests.js";
import type {
  HeartbeatBodySchema,
  NotifyBodySchema,
  SpendBodySchema,
  TaskBodySchema,
  TaskRecordSchema,
} from "../domain/requests/report-requests.js";

/** What `POST /api/approvals` takes: `{ title, gate, reason?, preview?, deadlineSeconds?, ... }`. */
export type ApprovalInput = z.input<typeof CreateApprovalBodySchema>;

/** An approval as signoff answers it (times as ISO strings). */
export type ApprovalRecord = z.infer<typeof ApprovalRecordSchema>;

/** Every status an approval can have; `pending` is the only undecided one. */
export type { ApprovalStatus };

/** An approval that has been decided: approved, rejected, changes requested or cancelled. */
export type DecidedApprovalRecord = ApprovalRecord & { status: Exclude<ApprovalStatus, "pending"> };

/** `POST /api/tasks` body: an upsert by `id`. */
export type TaskInput = z.input<typeof TaskBodySchema>;
/** A task as signoff answers it. */
export type TaskRecord = z.infer<typeof TaskRecordSchema>;
/** `POST /api/spend` body; `at` is an ISO time with offset, defaulting to now. */
export type SpendInput = z.input<typeof SpendBodySchema>;
/** `POST /api/heartbeats` body. */
export type HeartbeatInput = z.input<typeof HeartbeatBodySchema>;
/** `POST /api/notify` body. */
export type NotifyInput = z.input<typeof NotifyBodySchema>;
