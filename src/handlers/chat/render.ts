/**
 * Renders the templates in `prompts/` for one channel's format. Templates use two lambdas for
 * markup, `{{#b}}bold{{/b}}` and `{{#pre}}block{{/pre}}` (and `{{#code_}}x{{/code_}}` inline),
 * so wording lives in one file while Telegram gets HTML, WhatsApp `*bold*` and web chat plain text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Mustache from "mustache";
import type { ChannelName, MessageFormat, PlatformFacts } from "../../domain/channel.js";

export type { MessageFormat } from "../../domain/channel.js";

const DEFAULT_PROMPTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "prompts");

const escapeHtml = (value: unknown) => String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Markup {
  escape(value: unknown): string;
  bold(text: string): string;
  pre(text: string): string;
  code(text: string): string;
}

const MARKUP: Record<MessageFormat, Markup> = {
  html: {
    escape: escapeHtml,
    bold: (t) => `<b>${t}</b>`,
    pre: (t) => `<pre>${t}</pre>`,
    code: (t) => `<code>${t}</code>`,
  },
  whatsapp: { escape: String, bold: (t) => `*${t}*`, pre: (t) => `\`\`\`${t}\`\`\``, code: (t) => `\`${t}\`` },
  plain: { escape: String, bold: (t) => t, pre: (t) => t, code: (t) => t },
};

/** Renders prompt templates by name. */
export interface Renderer {
  render(name: string, format: MessageFormat, view: Record<string, unknown>): string;
  has(name: string): boolean;
  /** The markup a channel speaks, as its adapter declares it. */
  formatOf(channel: ChannelName): MessageFormat;
}

/**
 * Load every `*.mustache` file once; an unknown template name is a programming error. Each
 * channel's markup comes from its platform's facts.
 */
export function createRenderer(
  platforms: Readonly<Record<ChannelName, Pick<PlatformFacts, "format">>>,
  dir = DEFAULT_PROMPTS_DIR,
): Renderer {
  const templates = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".mustache")) continue;
    const text = readFileSync(join(dir, file), "utf8");
    Mustache.parse(text);
    templates.set(file.replace(/\.mustache$/, ""), text);
  }
  return {
    has: (name) => templates.has(name),
    formatOf: (channel) => platforms[channel].format,
    render(name, format, view) {
      const template = templates.get(name);
      if (template === undefined) throw new Error(`no template prompts/${name}.mustache`);
      const markup = MARKUP[format];
      const wrap = (fn: (t: string) => string) => () => (text: string, render: (t: string) => string) =>
        fn(render(text));
      const fullView = { ...view, b: wrap(markup.bold), pre: wrap(markup.pre), code_: wrap(markup.code) };
      return Mustache.render(template, fullView, {}, { escape: markup.escape })
        .replace(/\n{3,}/g, "\n\n")
        .trim();
    },
  };
}
