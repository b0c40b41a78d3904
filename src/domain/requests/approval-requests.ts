/**
 * Requests and answers of the approvals API as zod schemas, declared on its routes: every request
 * problem is reported with its field path, and limits keep one request from filling a chat or the
 * database. The approval service's input type is inferred from the create body.
 */
import { z } from "zod";
import { APPROVAL_STATUSES, GATES } from "../approval.js";
import { callbackUrlProblem } from "./callback-url.js";
import { boundedJsonObject, boundedJsonValue, storableString, storableText as text } from "./text-rules.js";

/**
 * Characters of an `action` key: letters, digits and `_ . : / -`, enough for `deploy:staging`,
 * `db/migrate` or a tool name such as `Bash` or `mcp__github__create_issue`, and nothing that
 * needs quoting in chat or a log line.
 */
export const ACTION_PATTERN = /^[A-Za-z0-9_.:/-]+$/;

/** Size and depth limits of `metadata` and `payload`. */
const JSON_LIMITS = { maxBytes: 16_384, maxDepth: 32 } as const;

/** `POST /api/approvals` body. */
export const CreateApprovalBodySchema = z
  .object({
    title: text(200),
    reason: text(2000).optional(),
    agent: text(100).optional(),
    gate: z.enum(GATES),
    preview: text(3000).optional(),
    deadlineSeconds: z
      .number()
      .positive()
      .max(30 * 86_400)
      .optional(),
    // Fractions allowed: objection windows are short and sub-second precision is useful.
    objectionSeconds: z.number().positive().max(86_400).optional(),
    onTimeout: z.enum(["approve", "deny"]).optional(),
    approvers: z
      .object({
        roles: z.array(storableString().min(1).max(32)).min(1).max(20).optional(),
        quorum: z.number().int().min(1).max(20).optional(),
        escalate: z
          .array(
            z
              .object({
                afterSeconds: z
                  .number()
                  .int()
                  .positive()
                  .max(30 * 86_400),
                roles: z.array(storableString().min(1).max(32)).min(1).max(20),
              })
              .strict(),
          )
          .max(10)
          .describe(
            "The escalation ladder: still undecided afterSeconds after creation, these roles may answer too and get the card ([] for none; the configured ladder when absent)",
          )
          .optional(),
      })
      .strict()
      .optional(),
    remind: z
      .boolean()
      .describe("Remind the approvers who have not answered before the deadline (default true)")
      .optional(),
    callbackUrl: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .superRefine((url, ctx) => {
        // A URL that is not http(s) at all is already reported by the check above.
        const problem = /^https?:/i.test(url) ? callbackUrlProblem(url) : null;
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
    idempotencyKey: storableString().min(1).max(200).optional(),
    metadata: boundedJsonObject(JSON_LIMITS).optional(),
    notify: z.boolean().optional(),
    action: z
      .string()
      .max(100)
      // The pattern needs one character at least, so an empty action is refused here too.
      .regex(ACTION_PATTERN, { message: "must be 1 or more letters, digits and _ . : / -" })
      .describe("A stable machine key for what is asked, e.g. deploy:staging or a tool name such as Bash")
      .optional(),
    payload: boundedJsonValue(JSON_LIMITS)
      .describe("What exactly will run (any JSON); the record carries its payloadSha256")
      .optional(),
    requestedBy: storableString()
      .min(1)
      .max(100)
      .describe("The operator on whose behalf a tool asks; their own approval does not count")
      .optional(),
    allowSelfApproval: z.boolean().describe("Let requestedBy approve their own request (default false)").optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.gate === "hard" && !body.preview) {
      ctx.addIssue({
        code: "custom",
        path: ["preview"],
        message: "required for the hard gate (the dry-run operators review)",
      });
    }
    if (body.onTimeout === "approve" && body.gate !== "medium") {
      ctx.addIssue({ code: "custom", path: ["onTimeout"], message: '"approve" is allowed only for the medium gate' });
    }
  });
/** A validated create request, as the approval service takes it. */
export type CreateApprovalBody = z.infer<typeof CreateApprovalBodySchema>;

/** `GET /api/approvals/:id` query. */
export const GetApprovalQuerySchema = z.object({ wait: z.coerce.number().min(0).max(60).optional() }).strict();

/** `GET /api/approvals` query. */
export const ListApprovalsQuerySchema = z
  .object({
    status: z.enum(APPROVAL_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

/** `:id` of the routes on one approval. */
export const ApprovalParamsSchema = z.object({ id: z.string() });

const isoTime = z.string();

/**
 * The approval record every route answers with (dates as ISO strings). Loose, so a field added
 * to the record reaches clients even before it is declared here.
 */
export const ApprovalRecordSchema = z.looseObject({
  id: z.string(),
  code: z.string(),
  source: z.string(),
  title: z.string(),
  reason: z.string().nullable(),
  agent: z.string().nullable(),
  gate: z.enum(GATES),
  effectiveGate: z.enum(GATES),
  preview: z.string().nullable(),
  status: z.enum(APPROVAL_STATUSES),
  decidedBy: z.string().nullable(),
  decidedAt: isoTime.nullable(),
  note: z.string().nullable(),
  onTimeout: z.enum(["approve", "deny"]),
  approvers: z.looseObject({
    roles: z.array(z.string()),
    quorum: z.number(),
    escalate: z.array(z.looseObject({ afterSeconds: z.number(), roles: z.array(z.string()) })),
    escalationLevel: z.number().describe("How many steps of the ladder were taken: their roles may answer too"),
  }),
  remind: z.boolean(),
  decisions: z.array(
    z.looseObject({
      operator: z.string(),
      verdict: z.string(),
      note: z.string().nullable(),
      channel: z.string(),
      at: isoTime,
    }),
  ),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  idempotencyKey: z.string().nullable(),
  action: z.string().nullable(),
  payload: z.unknown().describe("The payload as sent (null when none was)"),
  payloadSha256: z
    .string()
    .nullable()
    .describe("Hex SHA-256 of the payload's RFC 8785 (JCS) canonical form; null when no payload was sent"),
  requestedBy: z.string().nullable(),
  allowSelfApproval: z.boolean(),
  ruleId: z
    .string()
    .describe('The standing rule that approved it (decidedBy "rule:<ruleId>"); present only then')
    .optional(),
  createdAt: isoTime,
  deadlineAt: isoTime.nullable(),
  objectionEndsAt: isoTime.nullable(),
  noticeDeliveredAt: isoTime.nullable(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecordSchema>;

/** `GET /api/approvals` answer. */
export const ApprovalListSchema = z.object({ approvals: z.array(ApprovalRecordSchema) });

/**
 * `409` of a cancel: `approval` is there when the request was already decided, absent when the
 * cancel lost to contention (then the same `{ error, message }` as every other error).
 */
export const CancelConflictSchema = z.looseObject({
  error: z.literal("conflict"),
  message: z.string(),
  approval: ApprovalRecordSchema.optional(),
});
