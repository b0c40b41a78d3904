/**
 * The shape of the YAML config file (operators, sources, approval defaults, lifecycle, health
 * checks): one zod schema whose problems name the field. Read and merged with the environment by
 * `src/config.ts`.
 */
import { CronExpressionParser } from "cron-parser";
import { z } from "zod";

const TimezoneSchema = z.string().refine(isValidTimezone, { message: "not an IANA timezone" });

/** The digest schedule of `digest: true`: 08:00 in the operator's timezone. */
export const DEFAULT_DIGEST_CRON = "0 8 * * *";

const OperatorSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\p{L}\p{N}_.-]+$/u, "letters, digits, _ . - only"),
    roles: z.array(z.string().min(1).max(32)).min(1),
    timezone: TimezoneSchema.optional(),
    telegram: z
      .union([z.number().int(), z.string().regex(/^-?\d+$/)])
      .transform(String)
      .optional(),
    whatsapp: z
      .string()
      .regex(/^\d{6,16}$/, "phone number, digits only")
      .optional(),
    /** Web chat identity is the operator's name; set false to hide someone from the web chat. */
    webchat: z.boolean().default(true),
    /** Cron in the operator's timezone; `true` means every day at 08:00 local, `false` or absent none. */
    digest: z
      .union([z.boolean(), z.string().refine(isValidCron, { message: 'not a cron expression (e.g. "0 8 * * *")' })])
      .transform((d) => (d === true ? DEFAULT_DIGEST_CRON : d === false ? undefined : d))
      .optional(),
    /** BCP 47 locale for numbers and money (e.g. "en-NZ"); the file's `locale` otherwise. */
    locale: z.string().refine(isValidLocale, { message: "not a BCP 47 locale (e.g. en-NZ)" }).optional(),
    /**
     * `"22:00-07:00"` in the operator's timezone: digests and notices wait until it ends; cards
     * still arrive, silently. A `critical` notice is never held.
     */
    quietHours: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'a range such as "22:00-07:00"')
      .refine((range) => range.slice(0, 5) !== range.slice(6), { message: "start and end must differ" })
      .optional(),
  })
  .strict();

/**
 * When an undecided request reminds its approvers: `"50%"` of the way from creation to the
 * deadline, or a time before the deadline (`"15m"`, `"900s"`, `"2h"`).
 */
export const ReminderPointSchema = z
  .string()
  .regex(/^(\d{1,2}%|\d+(s|m|h)( before)?)$/, 'a share of the deadline ("50%") or a time before it ("15m")')
  .transform((point): ReminderPoint => {
    if (point.endsWith("%")) return { kind: "share", share: Number(point.slice(0, -1)) / 100 };
    const amount = Number.parseInt(point, 10);
    const unit = point.replace(/^\d+/, "").trim()[0];
    return { kind: "before", seconds: amount * (unit === "h" ? 3600 : unit === "m" ? 60 : 1) };
  });
/** A parsed reminder point. */
export type ReminderPoint = { kind: "share"; share: number } | { kind: "before"; seconds: number };

/** One rung of an escalation ladder: unanswered for `afterSeconds`, `roles` become eligible too. */
export const EscalationStepSchema = z
  .object({
    afterSeconds: z
      .number()
      .int()
      .positive()
      .max(30 * 86_400),
    roles: z.array(z.string().min(1).max(32)).min(1).max(20),
  })
  .strict();
export type EscalationStep = z.infer<typeof EscalationStepSchema>;

const SourceSchema = z
  .object({
    name: z.string().min(1).max(64),
    tokenSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, "hex SHA-256 (64 hex digits)")
      .transform((s) => s.toLowerCase()),
    commandUrl: z.url().optional(),
  })
  .strict();

const ApprovalDefaultsSchema = z
  .object({
    deadlineSeconds: z
      .number()
      .int()
      .positive()
      .max(30 * 86_400)
      .default(14_400),
    objectionSeconds: z.number().int().positive().max(86_400).default(10),
    telegramChat: z
      .union([z.number().int(), z.string().regex(/^-?\d+$/)])
      .transform(String)
      .optional(),
    /** Callback delivery: attempts before dead-lettering, and the first backoff delay. */
    callbackAttempts: z.number().int().min(1).max(30).default(8),
    callbackBackoffMs: z.number().int().min(1).max(3_600_000).default(2_000),
    callbackTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /** Reminders of undecided `medium`/`hard` requests; `[]` for none. */
    remindAt: z.array(ReminderPointSchema).max(10).prefault(["50%", "15m"]),
    /** The escalation ladder of requests that bring none (`approvers.escalate`). */
    escalate: z.array(EscalationStepSchema).max(10).default([]),
    /** Days a standing approval ("✅ always") lasts unless revoked. */
    ruleExpiryDays: z.number().int().min(1).max(365).default(30),
  })
  .strict();

const CallbacksSchema = z
  .object({
    /**
     * When set, callback and command URLs must point at one of these hosts (exact names, or
     * `*.example.com` for any subdomain). Link-local and cloud metadata hosts are refused always.
     */
    allowHosts: z.array(z.string().min(1).max(253)).min(1).optional(),
  })
  .strict();

const HealthCheckSchema = z
  .object({
    name: z.string().min(1),
    url: z.url().optional(),
    tcp: z
      .string()
      .regex(/^[^:]+:\d+$/, "host:port")
      .optional(),
    everySeconds: z.number().int().positive().default(60),
  })
  .strict()
  .refine((c) => Boolean(c.url) !== Boolean(c.tcp), { message: "give exactly one of url or tcp" });

const roleList = z.array(z.string().min(1).max(32)).min(1);

/** Which roles may say each chat command; queries are open to every operator. */
const CommandRolesSchema = z
  .object({
    kill: roleList.default(["owner", "approver"]),
    retry: roleList.default(["owner", "approver"]),
    prioritise: roleList.default(["owner", "approver"]),
    pause: roleList.default(["owner", "approver"]),
    resume: roleList.default(["owner", "approver"]),
    pair: roleList.default(["owner"]),
  })
  .strict();

const SpendSchema = z
  .object({
    /** Currency of spend records that name none, and of the daily alert. */
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, "ISO 4217 code, e.g. USD")
      .transform((c) => c.toUpperCase())
      .default("USD"),
    /** Tell owners (once a day) when today's spend in `currency` reaches this; absent: no alert. */
    dailyAlert: z.number().positive().optional(),
  })
  .strict();

const HeartbeatsSchema = z
  .object({
    /** An agent silent for longer than this is "down". */
    intervalSeconds: z
      .number()
      .int()
      .positive()
      .max(7 * 86_400)
      .default(300),
    /** Per-agent intervals, by agent name. */
    agents: z
      .record(
        z.string().min(1),
        z
          .number()
          .int()
          .positive()
          .max(7 * 86_400),
      )
      .default({}),
  })
  .strict();

const DigestsSchema = z
  .object({
    /** A digest missed while signoff was down is sent on start if at most this old. */
    graceSeconds: z.number().int().min(0).max(86_400).default(10_800),
    /** An in-progress task unchanged for this long counts as stuck. */
    stuckAfterSeconds: z.number().int().positive().default(7_200),
  })
  .strict();

const PairingSchema = z
  .object({
    /** How long a stranger's pairing code stays valid. */
    codeTtlSeconds: z.number().int().min(60).max(86_400).default(3_600),
  })
  .strict();

/**
 * The circuit breaker: crossing any threshold within `windowSeconds` pauses autonomy until an
 * owner says `resume`. Absent: no breaker.
 */
const BreakerSchema = z
  .object({
    rejections: z.number().int().positive().optional(),
    failedTasks: z.number().int().positive().optional(),
    deadLetters: z.number().int().positive().optional(),
    windowSeconds: z.number().int().positive().max(86_400).default(600),
  })
  .strict()
  .refine((b) => b.rejections !== undefined || b.failedTasks !== undefined || b.deadLetters !== undefined, {
    message: "give at least one of rejections, failedTasks, deadLetters",
  });

/** Schema of the YAML config file. */
export const FileConfigSchema = z
  .object({
    timezone: TimezoneSchema.default("UTC"),
    operators: z.array(OperatorSchema).default([]),
    sources: z.array(SourceSchema).default([]),
    approvals: ApprovalDefaultsSchema.default(ApprovalDefaultsSchema.parse({})),
    callbacks: CallbacksSchema.default(CallbacksSchema.parse({})),
    healthChecks: z.array(HealthCheckSchema).default([]),
    /** Default locale for numbers and money. */
    locale: z.string().refine(isValidLocale, { message: "not a BCP 47 locale (e.g. en-NZ)" }).default("en-US"),
    spend: SpendSchema.default(SpendSchema.parse({})),
    heartbeats: HeartbeatsSchema.default(HeartbeatsSchema.parse({})),
    digests: DigestsSchema.default(DigestsSchema.parse({})),
    commandRoles: CommandRolesSchema.default(CommandRolesSchema.parse({})),
    pairing: PairingSchema.default(PairingSchema.parse({})),
    breaker: BreakerSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.operators.forEach((op, i) => {
      if (seen.has(op.name))
        ctx.addIssue({ code: "custom", path: ["operators", i, "name"], message: "duplicate operator name" });
      seen.add(op.name);
    });
    const sources = new Set<string>();
    const checks = new Set<string>();
    cfg.healthChecks.forEach((c, i) => {
      if (checks.has(c.name))
        ctx.addIssue({ code: "custom", path: ["healthChecks", i, "name"], message: "duplicate health check name" });
      checks.add(c.name);
    });
    cfg.sources.forEach((s, i) => {
      if (sources.has(s.name))
        ctx.addIssue({ code: "custom", path: ["sources", i, "name"], message: "duplicate source name" });
      sources.add(s.name);
    });
  });
export type FileConfig = z.infer<typeof FileConfigSchema>;

function isValidCron(expression: string): boolean {
  if (expression.trim().split(/\s+/).length !== 5) return false; // minute hour day month weekday
  try {
    CronExpressionParser.parse(expression, { strict: false });
    return true;
  } catch {
    return false;
  }
}

function isValidLocale(locale: string): boolean {
  try {
    return Intl.NumberFormat.supportedLocalesOf([locale]).length > 0;
  } catch {
    return false;
  }
}

function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
