/**
 * Bodies and queries of the state sources report and of the command pull,
 * validated by zod; problems are reported with their field paths like the approvals API's.
 */
import { z } from "zod";
import { TASK_STATES } from "../domain/operations.js";
import { storableText as text } from "./text-rules.js";

/** `POST /api/tasks`: upsert by id; absent optional fields keep their stored values. */
export const TaskBodySchema = z
  .object({
    id: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][\w.:/-]*$/, "letters, digits and _ . : / - (starting with a letter or digit)"),
    title: text(300),
    state: z.enum(TASK_STATES),
    agent: text(100).optional(),
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    attempts: z.number().int().min(0).max(1_000_000).optional(),
    error: text(2000).optional(),
  })
  .strict();
export type TaskBody = z.infer<typeof TaskBodySchema>;

/** `POST /api/spend`. `at` defaults to now; it may not be more than a day ahead. */
export const SpendBodySchema = z
  .object({
    amount: z.number().finite().min(0).max(1_000_000_000),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, "ISO 4217 code, e.g. USD")
      .transform((c) => c.toUpperCase())
      .optional(),
    agent: text(100).optional(),
    model: text(100).optional(),
    at: z.iso
      .datetime({ offset: true })
      .transform((s) => new Date(s))
      .optional(),
  })
  .strict();
export type SpendBody = z.infer<typeof SpendBodySchema>;

/** `POST /api/heartbeats`. A status of down, error, failed, … marks the agent down at once. */
export const HeartbeatBodySchema = z
  .object({
    agent: text(100),
    status: text(32).optional(),
    detail: text(500).optional(),
  })
  .strict();
export type HeartbeatBody = z.infer<typeof HeartbeatBodySchema>;

/** `POST /api/notify`: pushed to every operator. */
export const NotifyBodySchema = z
  .object({
    text: text(2000),
    severity: z.enum(["info", "warning", "critical"]).optional(),
  })
  .strict();
export type NotifyBody = z.infer<typeof NotifyBodySchema>;

const commandId = z.string().regex(/^\d{1,18}$/, "a command id (digits)");

/** `GET /api/commands`: unacknowledged commands after the `after` cursor. */
export const CommandsQuerySchema = z
  .object({
    after: commandId.optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

/** `POST /api/commands/ack`: the ids handled. */
export const AckBodySchema = z.object({ ids: z.array(commandId).min(1).max(500) }).strict();
