/**
 * `signoff whatsapp login | logout | status`: link signoff to the bot's WhatsApp number (QR, or a
 * pairing code when `WHATSAPP_PAIRING_PHONE` is set), unlink it, or show whether it is linked.
 * The session lives in PostgreSQL (`DATABASE_URL`, `DATABASE_SCHEMA`). Stop signoff first: two
 * clients on one session replace each other.
 */
import { loginWhatsApp, logoutWhatsApp, type WhatsAppCliOptions } from "./bot/whatsapp/whatsapp-login.js";
import { parseCreds, isLinked } from "./bot/whatsapp/whatsapp-auth-state.js";
import type { WhatsAppLogger } from "./bot/whatsapp/whatsapp-logger.js";
import { type Config, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { createDatabase } from "./store/db.js";
import { migrate } from "./store/migrate.js";
import { createWhatsAppAuthStore } from "./store/whatsapp-auth-store.js";
import { type CliCommand, UsageError } from "./cli/command.js";

/** Usage lines of the `whatsapp` command (for `src/cli.ts`'s help). */
export const WHATSAPP_USAGE = `  whatsapp login       link the bot's WhatsApp number (QR, or a pairing code with WHATSAPP_PAIRING_PHONE)
  whatsapp logout      unlink it and delete the session
  whatsapp status      show whether a WhatsApp account is linked`;

const USAGE = `usage: signoff whatsapp <login | logout | status>

${WHATSAPP_USAGE}

  The session lives in PostgreSQL (DATABASE_URL, DATABASE_SCHEMA). Stop signoff first: two
  clients on one session replace each other. Exit 1 from status when nothing is linked.`;

/** Overrides for tests and for `src/cli.ts`. */
export interface WhatsAppCliDeps {
  config?: Readonly<Config>;
  /** The environment to load the config from when `config` is absent. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Where logs go. @defaultValue JSON on stderr, at warn unless LOG_LEVEL asks for more */
  logger?: WhatsAppLogger;
  /** Socket factory and QR rendering, passed through to the login helpers. */
  login?: Partial<Pick<WhatsAppCliOptions, "makeSocket" | "renderQr" | "clock" | "timeoutMs">>;
}

/**
 * Runs `signoff whatsapp <sub>` (argv without the leading "whatsapp"); returns the exit code.
 *
 * @example
 * if (argv[0] === "whatsapp") return runWhatsAppCli(argv.slice(1), out);
 */
export async function runWhatsAppCli(
  argv: string[],
  out: (line: string) => void,
  deps: WhatsAppCliDeps = {},
): Promise<number> {
  const sub = argv[0];
  if (!isSubcommand(sub)) {
    out(USAGE);
    return 2;
  }
  const config = deps.config ?? loadConfig(deps.env);
  const { env } = config;
  // Baileys and signoff logs go to stderr, quiet unless LOG_LEVEL asks for more; stdout is for the person.
  const logger =
    deps.logger ??
    createLogger(env.LOG_LEVEL === "info" ? "warn" : env.LOG_LEVEL, process.stderr).child({
      component: "whatsapp-cli",
    });
  const db = createDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, max: 2 });
  try {
    await migrate(db);
    const store = createWhatsAppAuthStore(db);
    if (sub === "status") {
      const stored = await store.loadCreds();
      const creds =
        [stored.current, stored.previous].map((t) => (t === null ? null : parseCreds(t))).find((c) => c) ?? null;
      if (creds && isLinked(creds)) {
        out(`WhatsApp is linked as ${creds.me?.id ?? "?"} (session updated ${stored.updatedAt?.toISOString() ?? "?"})`);
        if (stored.currentDamaged)
          out("warning: the newest copy of the session is damaged; signoff will use the last good copy");
        return 0;
      }
      out("WhatsApp is not linked. Run `signoff whatsapp login`.");
      return 1;
    }
    const options: WhatsAppCliOptions = { store, logger, out, pairingPhone: env.WHATSAPP_PAIRING_PHONE, ...deps.login };
    if (sub === "login") {
      const result = await loginWhatsApp(options);
      if (result.status === "linked") out(`Linked as ${result.me}. Start signoff with WHATSAPP_ENABLED=true.`);
      else if (result.status === "already-linked")
        out(`Already linked as ${result.me}. Run \`signoff whatsapp logout\` first to link another number.`);
      else if (result.status === "timed-out") out("Gave up waiting for the phone. Run the command again.");
      else out("WhatsApp refused the link. Check the number and try again.");
      return result.status === "linked" || result.status === "already-linked" ? 0 : 1;
    }
    const result = await logoutWhatsApp(options);
    if (result.status === "logged-out") out("Unlinked from WhatsApp and deleted the session.");
    else if (result.status === "not-linked") out("WhatsApp was not linked; nothing to do.");
    else
      out("Deleted the session, but WhatsApp could not be reached: remove the device on the phone (Linked devices).");
    return 0;
  } finally {
    await db.close();
  }
}

/** The `whatsapp` entry of the command table. */
export const whatsappCommand: CliCommand = {
  summary: WHATSAPP_USAGE,
  usage: USAGE,
  async run(args, io) {
    const [sub, extra] = args;
    if (!isSubcommand(sub))
      throw new UsageError(
        sub === undefined ? "whatsapp needs a subcommand" : `unknown whatsapp subcommand '${sub}'`,
        USAGE,
      );
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`, USAGE);
    return runWhatsAppCli(args, io.out, { env: io.env });
  },
};

function isSubcommand(sub: string | undefined): sub is "login" | "logout" | "status" {
  return sub === "login" || sub === "logout" || sub === "status";
}
