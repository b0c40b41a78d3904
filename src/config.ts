/**
 * The one place that reads the environment and the YAML config file.
 * Both are parsed by zod, merged into a frozen {@link Config}, and any problem stops the start
 * with a message naming the bad field.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseEnv } from "node:util";
import { CronExpressionParser } from "cron-parser";
import { parse as parseYaml } from "yaml";
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

/**
 * signoff's own database on a local server. A database of this name is created on first start when
 * the server allows it; any other name must exist already (a typo must not create an empty one).
 */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/signoff";

const booleanFromEnv = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

/** Schema of the environment; `.env.example` documents each variable. */
export const EnvSchema = z.object({
  DATABASE_URL: z.string().min(1).default(DEFAULT_DATABASE_URL),
  REDIS_URL: z.string().min(1).default("redis://127.0.0.1:6379"),
  TELEGRAM_BOT_TOKEN: z.string().optional(),
  TELEGRAM_API_ROOT: z.url().optional(),
  TELEGRAM_WEBHOOK_URL: z.url().optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, "1-256 chars of A-Z a-z 0-9 _ -")
    .optional(),
  WHATSAPP_ENABLED: booleanFromEnv.default(false),
  WHATSAPP_PAIRING_PHONE: z
    .string()
    .regex(/^\d{6,16}$/)
    .optional(),
  WEBCHAT_ENABLED: z.enum(["auto", "true", "false"]).default("auto"),
  HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HTTP_HOST: z.string().default("127.0.0.1"),
  SIGNOFF_CONFIG: z.string().default("signoff.yaml"),
  SIGNOFF_SIGNING_SECRET: z.string().min(16, "at least 16 characters").optional(),
  SIGNOFF_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default("signoff"),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default("public"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** How often the periodic reconcile looks for timers and deliveries Redis lost. */
  SIGNOFF_RECONCILE_SECONDS: z.coerce.number().positive().max(86_400).default(300),
  /** `auto`: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(["auto", "pretty", "json"]).default("auto"),
});
export type Env = z.infer<typeof EnvSchema>;

/** Everything signoff is configured with, frozen after start. */
export interface Config {
  env: Env;
  file: FileConfig;
  /** Where the file came from, or null when none existed and defaults apply. */
  configPath: string | null;
  webchatEnabled: boolean;
  /** Set in demo mode (no config file): the `demo` source's token, for the printed example. */
  demo?: { token: string; file: string } | null;
}

/** What demo mode keeps between starts so the printed example keeps working. */
export interface DemoCredentials {
  /** Bearer token of the `demo` source. */
  token: string;
  /** Signs callbacks in demo mode when `SIGNOFF_SIGNING_SECRET` is unset. */
  signingSecret: string;
  /** Where they are kept. */
  file: string;
}

/** Where demo mode keeps its generated token, relative to the working directory. */
export const DEMO_CREDENTIALS_FILE = join(".signoff", "demo.json");

/**
 * The environment to configure from: the real one over `.env` in `cwd`. Empty values, in either,
 * count as unset, so an unedited copy of `.env.example` changes nothing.
 */
export function environmentWithDotEnv(
  environment: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = {};
  const path = join(cwd, ".env");
  if (existsSync(path)) {
    let parsed: Record<string, string>;
    try {
      parsed = parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
    } catch (error) {
      throw new ConfigError(`.env: cannot read ${path}: ${(error as Error).message}`);
    }
    for (const [key, value] of Object.entries(parsed)) if (value !== "") merged[key] = value;
  }
  for (const [key, value] of Object.entries(environment)) if (value !== undefined && value !== "") merged[key] = value;
  return merged;
}

/**
 * The demo source's token and signing secret: read from `file`, or generated once and written
 * there (mode 0600), so a restart keeps the example the first start printed.
 */
export function loadOrCreateDemoCredentials(file: string = DEMO_CREDENTIALS_FILE): DemoCredentials {
  if (existsSync(file)) {
    try {
      const kept = JSON.parse(readFileSync(file, "utf8")) as Partial<DemoCredentials>;
      if (typeof kept.token === "string" && kept.token.length >= 32 && typeof kept.signingSecret === "string")
        return { token: kept.token, signingSecret: kept.signingSecret, file };
    } catch {
      // Unreadable or hand-edited: make a fresh pair below, as on a first start.
    }
  }
  const credentials = {
    token: `demo_${randomBytes(24).toString("base64url")}`,
    signingSecret: randomBytes(32).toString("hex"),
  };
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (error) {
    throw new ConfigError(`demo mode: cannot keep the demo token in ${file}: ${(error as Error).message}`);
  }
  return { ...credentials, file };
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Demo mode's credentials, asked for only when there is no config file. Without it, the
   * one-operator default has no source (the API answers 401 to everyone).
   */
  demoCredentials?: () => DemoCredentials;
}

/** Thrown when the environment or config file is invalid; the message names each bad field. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function formatIssues(where: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join(".") : "(root)";
    return `  ${where}${path}: ${issue.message}`;
  });
  return lines.join("\n");
}

/** Parse a YAML text into a validated file config; throws {@link ConfigError} naming the field. */
export function parseFileConfig(text: string, origin = "config"): FileConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`${origin}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = FileConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${origin} is invalid:\n${formatIssues("", parsed.error)}`);
  return parsed.data;
}

/**
 * Load env + config file. With no file at `SIGNOFF_CONFIG`, demo mode: one operator `you`
 * (owner + approver, web chat) and, given {@link LoadConfigOptions.demoCredentials}, one source
 * `demo`, so a newcomer can try signoff at once.
 */
export function loadConfig(
  environment: NodeJS.ProcessEnv = process.env,
  options: LoadConfigOptions = {},
): Readonly<Config> {
  const envResult = EnvSchema.safeParse(environment);
  if (!envResult.success) throw new ConfigError(`environment is invalid:\n${formatIssues("", envResult.error)}`);
  let env = envResult.data;
  let demo: Config["demo"] = null;

  let file: FileConfig;
  let configPath: string | null = env.SIGNOFF_CONFIG;
  if (existsSync(env.SIGNOFF_CONFIG) && statSync(env.SIGNOFF_CONFIG).isDirectory()) {
    // What Docker leaves when it mounts a config file that did not exist on the host.
    throw new ConfigError(
      `environment is invalid:\n  SIGNOFF_CONFIG: ${env.SIGNOFF_CONFIG} is a directory, not a YAML file (create the file, e.g. from signoff.example.yaml)`,
    );
  }
  if (existsSync(env.SIGNOFF_CONFIG)) {
    file = parseFileConfig(readFileSync(env.SIGNOFF_CONFIG, "utf8"), env.SIGNOFF_CONFIG);
  } else if (environment.SIGNOFF_CONFIG) {
    throw new ConfigError(`environment is invalid:\n  SIGNOFF_CONFIG: no file at ${env.SIGNOFF_CONFIG}`);
  } else {
    configPath = null;
    const credentials = options.demoCredentials?.();
    file = FileConfigSchema.parse({
      operators: [{ name: "you", roles: ["owner", "approver"] }],
      sources: credentials
        ? [{ name: "demo", tokenSha256: createHash("sha256").update(credentials.token).digest("hex") }]
        : [],
    });
    if (credentials) {
      demo = { token: credentials.token, file: credentials.file };
      env = { ...env, SIGNOFF_SIGNING_SECRET: env.SIGNOFF_SIGNING_SECRET ?? credentials.signingSecret };
    }
  }
  if (file.sources.length > 0 && !env.SIGNOFF_SIGNING_SECRET) {
    throw new ConfigError(
      "environment is invalid:\n  SIGNOFF_SIGNING_SECRET: required when sources are configured (callbacks and commands are signed with it)",
    );
  }
  if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError(
      "environment is invalid:\n  TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set",
    );
  }
  const hasChatCredentials = Boolean(env.TELEGRAM_BOT_TOKEN) || env.WHATSAPP_ENABLED;
  const wanted = env.WEBCHAT_ENABLED === "auto" ? !hasChatCredentials : env.WEBCHAT_ENABLED === "true";
  // The web chat trusts whoever reaches it, so it is served only when nobody else can reach it.
  const webchatEnabled = wanted && isLoopbackHost(env.HTTP_HOST);
  return deepFreeze({ env, file, configPath, webchatEnabled, demo });
}

/**
 * Only the database settings, for tools such as `audit verify`: an auditor must not need the
 * signing secret or a valid config file. Throws {@link ConfigError} naming the field.
 */
export function loadDatabaseEnv(
  environment: NodeJS.ProcessEnv = process.env,
): Pick<Env, "DATABASE_URL" | "DATABASE_SCHEMA"> {
  const parsed = EnvSchema.pick({ DATABASE_URL: true, DATABASE_SCHEMA: true }).safeParse(environment);
  if (!parsed.success) throw new ConfigError(`environment is invalid:\n${formatIssues("", parsed.error)}`);
  return parsed.data;
}

/** Whether an address to bind to is reachable only from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}

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

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
