/**
 * Requests and answers of the state sources report and of the command pull as zod schemas,
 * declared on their routes; problems are reported with their field paths like the approvals
 * API's. The report service's input types are inferred from these schemas.
 */
import { z } from "zod";
import { TASK_COMMANDS, TASK_STATES } from "../operations.js";
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

/** A task as `POST /api/tasks` answers it (dates as ISO strings); loose so no field is dropped. */
export const TaskRecordSchema = z.looseObject({
  id: z.string(),
  source: z.string(),
  title: z.string(),
  state: z.enum(TASK_STATES),
  agent: z.string().nullable(),
  priority: z.number(),
  attempts: z.number(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  stateSince: z.string(),
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;

/**
 * A command as its source receives it: the body of the signed POST to its `commandUrl` (and an
 * item of `GET /api/commands`). Loose, so a field added to the command reaches sources.
 */
export const CommandRecordSchema = z.looseObject({
  id: z.string(),
  command: z.enum(TASK_COMMANDS),
  taskId: z.string(),
  source: z.string(),
  requestedBy: z.string(),
  createdAt: z.string(),
  task: TaskRecordSchema,
});

/** `POST /api/spend` answer: whether this record set off today's spend alert. */
export const SpendRecordedSchema = z.object({ recorded: z.literal(true), alerted: z.boolean() });

/** `POST /api/heartbeats` answer. */
export const HeartbeatRecordedSchema = z.object({ recorded: z.literal(true) });

/** `POST /api/notify` answer: how many chats the notice was queued for. */
export const NotifyQueuedSchema = z.object({ queued: z.number().int() });

/**
 * `GET /api/commands` answer. Each command is sent exactly as it was stored when issued (the
 * webhook body), so its shape is not re-checked here; `cursor` is the last id, or `after`.
 */
export const CommandListSchema = z.object({
  commands: z.array(z.record(z.string(), z.unknown())),
  cursor: z.string().nullable(),
});

/** `POST /api/commands/ack` answer: how many commands this call acknowledged. */
export const AckedSchema = z.object({ acknowledged: z.number().int() });
