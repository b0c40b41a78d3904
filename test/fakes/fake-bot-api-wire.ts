/**
 * The wire side of the fake Bot API: request parsing (JSON, form, multipart, as Telegram accepts
 * them), Telegram's error envelopes and its checks of text, HTML and inline keyboards.
 */
import type { IncomingMessage } from "node:http";
import type { InlineKeyboardMarkup } from "grammy/types";

export type Params = Record<string, unknown>;
export type Json = Record<string, unknown>;

const HTML_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "span",
  "tg-spoiler",
  "a",
  "tg-emoji",
  "code",
  "pre",
  "blockquote",
]);
// Form fields that must stay strings even when they look like numbers or JSON.
const STRING_FIELDS = new Set([
  "text",
  "caption",
  "data",
  "callback_query_id",
  "url",
  "secret_token",
  "emoji",
  "description",
]);
/** Telegram's answer to an edit that changes nothing. */
export const NOT_MODIFIED =
  "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

/** A Bot API failure the server answers with (`error_code`, `description`, `parameters`). */
export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    description: string,
    readonly parameters?: Json,
  ) {
    super(description);
  }
}
/** A 400 as Telegram words it. */
export const bad = (description: string) => new ApiFailure(400, `Bad Request: ${description}`);

export function now(): number {
  return Math.floor(Date.now() / 1000);
}

export function commandsKey(p: Params): string {
  return `${JSON.stringify(p.scope ?? { type: "default" })}|${String(p.language_code ?? "")}`;
}

export function checkText(p: Params): string {
  const text = typeof p.text === "string" ? p.text : "";
  if (text.trim() === "") throw bad("message text is empty");
  const visible = p.parse_mode === "HTML" ? checkHtml(text) : text;
  if (visible.length > 4096) throw bad("message is too long");
  return text;
}

export function checkMarkup(markup: unknown): InlineKeyboardMarkup | undefined {
  if (markup === undefined) return undefined;
  const rows = (markup as { inline_keyboard?: Array<Array<{ text?: string; callback_data?: string }>> })
    .inline_keyboard;
  if (!Array.isArray(rows)) return markup as InlineKeyboardMarkup;
  for (const button of rows.flat()) {
    if (!button.text) throw bad("text buttons are unallowed in the inline keyboard");
    const bytes = Buffer.byteLength(button.callback_data ?? "");
    if (button.callback_data !== undefined && (bytes < 1 || bytes > 64)) throw bad("BUTTON_DATA_INVALID");
  }
  return rows.length > 0 ? (markup as InlineKeyboardMarkup) : undefined;
}

/** Checks Telegram's HTML subset the way the server does; returns the visible text. */
export function checkHtml(text: string): string {
  const open: string[] = [];
  // A bare "&" is left alone: Telegram's parser tolerates it in practice.
  const tag = /<(\/?)([a-zA-Z0-9-]*)[^<>]*>|</g;
  for (let m = tag.exec(text); m; m = tag.exec(text)) {
    const at = Buffer.byteLength(text.slice(0, m.index));
    if (m[0] === "<") throw bad(`can't parse entities: Unsupported start tag "" at byte offset ${at}`);
    const name = (m[2] ?? "").toLowerCase();
    if (!HTML_TAGS.has(name)) throw bad(`can't parse entities: Unsupported start tag "${name}" at byte offset ${at}`);
    if (m[1] === "") open.push(name);
    else if (open.pop() !== name) throw bad(`can't parse entities: Unexpected end tag at byte offset ${at}`);
  }
  if (open.length > 0)
    throw bad(`can't parse entities: Can't find end tag corresponding to start tag "${open[open.length - 1]}"`);
  return text.replace(/<[^>]*>/g, "").replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/gi, "_");
}

export async function readParams(req: IncomingMessage): Promise<Params> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  const type = req.headers["content-type"] ?? "";
  if (body === "") return {};
  if (type.includes("application/json")) return JSON.parse(body) as Params;
  if (type.includes("application/x-www-form-urlencoded")) return parseQuery(new URLSearchParams(body));
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (type.includes("multipart/form-data") && boundary) return parseMultipart(body, boundary[1] ?? boundary[2] ?? "");
  return {};
}

export function parseQuery(search: URLSearchParams): Params {
  const out: Params = {};
  for (const [k, v] of search) out[k] = formValue(k, v);
  return out;
}

function parseMultipart(body: string, boundary: string): Params {
  const out: Params = {};
  for (const part of body.split(`--${boundary}`)) {
    const [head, ...rest] = part.split("\r\n\r\n");
    const name = /name="([^"]+)"/.exec(head ?? "")?.[1];
    if (!name) continue;
    const value = rest.join("\r\n\r\n").replace(/\r\n$/, "");
    const filename = /filename="([^"]*)"/.exec(head ?? "")?.[1];
    out[name] = filename !== undefined ? { filename, size: Buffer.byteLength(value) } : formValue(name, value);
  }
  return out;
}

/** Form fields arrive as strings; Telegram reads numbers and JSON-serialized objects from them. */
function formValue(key: string, value: string): unknown {
  if (STRING_FIELDS.has(key)) return value;
  if (/^-?\d+$/.test(value) || /^[[{]/.test(value) || value === "true" || value === "false") {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}
