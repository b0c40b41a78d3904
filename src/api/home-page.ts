/**
 * The home page (`GET /`) and the favicon. Anyone who can reach the port sees the page, so it
 * names nothing about the setup (no operators, no sources, no secrets): what signoff is, its
 * version, and links to the web chat (or why it is off), health, metrics and the API document.
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance, FastifyReply } from "fastify";
import { type Config, isLoopbackHost } from "../config.js";
import { OPENAPI_PATH } from "./openapi.js";

/** What the home page says about this instance. */
export interface HomePageFacts {
  version: string;
  /** Why the web chat is not served, or null when it is (then `/chat` is linked). */
  webchatOff: string | null;
}

/** signoff's version, from its package.json. */
export function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version?: string }).version ?? "unknown";
}

/** The home page's facts for this config; `webchatServed` is whether the web chat's routes exist. */
export function homePageFacts(
  config: { env: Pick<Config["env"], "HTTP_HOST" | "WEBCHAT_ENABLED" | "TELEGRAM_BOT_TOKEN" | "WHATSAPP_ENABLED"> },
  webchatServed: boolean,
): HomePageFacts {
  const { env } = config;
  const webchatOff = webchatServed
    ? null
    : !isLoopbackHost(env.HTTP_HOST)
      ? "HTTP_HOST is not a loopback address, and the web chat trusts whoever reaches it."
      : env.WEBCHAT_ENABLED === "false"
        ? "WEBCHAT_ENABLED is false."
        : env.TELEGRAM_BOT_TOKEN || env.WHATSAPP_ENABLED
          ? "chat credentials (Telegram or WhatsApp) are configured; set WEBCHAT_ENABLED=true to serve it as well."
          : "it is turned off in the configuration.";
  return { version: packageVersion(), webchatOff };
}

/** The icon: a check mark on signoff's dark blue, small enough to inline. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#1f2a37"/>' +
  '<path d="M8 16.5l5.5 5.5L24 10.5" fill="none" stroke="#7ee2a8" stroke-width="3.5" ' +
  'stroke-linecap="round" stroke-linejoin="round"/></svg>';

/** Where the icon is served; pages link it with `<link rel="icon">`. */
export const FAVICON_PATH = "/favicon.svg";

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The page's HTML for these facts. */
export function renderHomePage(facts: HomePageFacts): string {
  const link = (href: string, label: string, what: string) => `<li><a href="${href}">${label}</a> — ${what}</li>`;
  const chat = facts.webchatOff
    ? `<li>Web chat: off — ${escapeHtml(facts.webchatOff)}</li>`
    : link("/chat", "Web chat", "answer approval cards as any operator (served on loopback only)");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>signoff</title>
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1f2a37; }
  h1 { display: flex; gap: .5rem; align-items: center; margin-bottom: .25rem; }
  h1 img { width: 1.6em; height: 1.6em; }
  .version { color: #667; font-size: .9rem; }
  li { margin: .4rem 0; }
</style>
</head>
<body>
<h1><img src="${FAVICON_PATH}" alt="">signoff</h1>
<p class="version">version ${escapeHtml(facts.version)}</p>
<p>Conversational approvals and chat-ops: agents and scripts ask for a sign-off over this HTTP API, and people answer in chat.</p>
<ul>
${chat}
${link("/api/health", "Health", "PostgreSQL, Redis and each channel, as JSON")}
${link("/metrics", "Metrics", "Prometheus text format")}
${link(OPENAPI_PATH, "API document", "OpenAPI 3.1; the API needs a source's bearer token")}
</ul>
</body>
</html>
`;
}

/** Add `GET /`, the icon at {@link FAVICON_PATH} and `/favicon.ico` (the same SVG); all public. */
export function registerHomePage(app: FastifyInstance, facts: HomePageFacts): void {
  const page = renderHomePage(facts);
  app.get("/", { schema: { summary: "The home page (HTML)" } }, async (_request, reply) =>
    reply
      .type("text/html; charset=utf-8")
      // A static page: nothing to run, nothing loaded from elsewhere.
      .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'")
      .header("x-content-type-options", "nosniff")
      .send(page),
  );
  const icon = async (_request: unknown, reply: FastifyReply) =>
    reply.type("image/svg+xml").header("cache-control", "public, max-age=86400").send(FAVICON_SVG);
  app.get(FAVICON_PATH, icon);
  app.get("/favicon.ico", icon);
}
