/**
 * The one place that reads the environment and the YAML config file.
 * Both are parsed by zod, merged into a frozen {@link Config}, and any problem stops the start
 * with a message naming the bad field.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseEnv } from "node:util";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { type FileConfig, FileConfigSchema } from "./config-file.js";

export {
  DEFAULT_DIGEST_CRON,
  type EscalationStep,
  EscalationStepSchema,
  type FileConfig,
  FileConfigSchema,
  type ReminderPoint,
  ReminderPointSchema,
} from "./config-file.js";

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
  /**
   * How far (percent) the JavaScript heap may grow past what it held at its last full collection
   * before the next one; 0 leaves V8's own rule (up to 4×). Not a limit: the heap still grows as
   * far as it must.
   */
  SIGNOFF_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(1000).default(50),
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

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
