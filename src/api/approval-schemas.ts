/**
 * Request bodies of the approvals API, validated by zod; every problem is reported
 * with its field path. Limits keep one request from filling a chat or the database.
 */
import { z } from "zod";
import { GATES } from "../domain/approval.js";
import { callbackUrlProblem } from "./callback-url.js";
import { boundedJsonObject, storableString, storableText as text } from "./text-rules.js";

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
      })
      .strict()
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
    metadata: boundedJsonObject({ maxBytes: 16_384, maxDepth: 32 }).optional(),
    notify: z.boolean().optional(),
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
export type CreateApprovalBody = z.infer<typeof CreateApprovalBodySchema>;

/** `GET /api/approvals/:id` query. */
export const GetApprovalQuerySchema = z.object({ wait: z.coerce.number().min(0).max(60).optional() }).strict();

/** `GET /api/approvals` query. */
export const ListApprovalsQuerySchema = z
  .object({
    status: z.enum(["pending", "approved", "rejected", "changes_requested", "cancelled"]).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

/** A zod error as the API reports it: `[{ path: "approvers.quorum", message }]`. */
export function toProblems(error: z.ZodError): Array<{ path: string; message: string }> {
  const at = (path: PropertyKey[]) => (path.length ? path.map(String).join(".") : "(body)");
  return error.issues.flatMap((issue) =>
    // An unknown key is reported at its own path, so clients see which field to remove.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: "unknown field" }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}
