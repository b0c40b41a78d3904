/**
 * Telegram refuses messages over 4,096 characters. Long texts are split at line breaks (or, for
 * one huge line, at a space) into parts that each fit, never inside an HTML entity or tag, and
 * with `<pre>`/`<b>` blocks closed and reopened across the cut so each part is valid HTML.
 */

/** Telegram's limit for one message's text. */
export const TELEGRAM_TEXT_LIMIT = 4096;

function unclosedTags(html: string): string[] {
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)(b|i|u|s|code|pre)>/g)) {
    if (m[1]) {
      const at = stack.lastIndexOf(m[2]!);
      if (at >= 0) stack.splice(at, 1);
    } else stack.push(m[2]!);
  }
  return stack;
}

function safeCut(text: string, max: number): number {
  let cut = text.lastIndexOf("\n", max);
  if (cut < max / 2) cut = text.lastIndexOf(" ", max);
  if (cut < max / 2) cut = max;
  // Never inside an entity (&amp;) or a tag (<b>).
  const amp = text.lastIndexOf("&", cut);
  if (amp >= 0 && amp > text.lastIndexOf(";", cut - 1) && cut - amp < 10) cut = amp;
  const lt = text.lastIndexOf("<", cut);
  if (lt >= 0 && lt > text.lastIndexOf(">", cut - 1)) cut = lt;
  return Math.max(1, cut);
}

/** Split HTML `text` into parts of at most `limit` characters (one part when it fits). */
export function splitTelegramText(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let rest = text;
  let reopen = "";
  const reserve = 40; // room for closing and reopening tags around a cut
  while (reopen.length + rest.length > limit) {
    const budget = limit - reopen.length - reserve;
    const cut = safeCut(rest, budget);
    const head = reopen + rest.slice(0, cut);
    const open = unclosedTags(head);
    parts.push(
      head +
        open
          .slice()
          .reverse()
          .map((t) => `</${t}>`)
          .join(""),
    );
    reopen = open.map((t) => `<${t}>`).join("");
    rest = rest.slice(cut).replace(/^\n/, "");
  }
  parts.push(reopen + rest);
  return parts;
}
