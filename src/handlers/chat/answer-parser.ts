/**
 * Turns what an operator typed or reacted into an answer: emoji reactions, replies
 * starting with ✅ / ❌ / 📝, `approve K7QF note`, and bare yes / no. Pure and total: any string
 * gives a result or null, never an exception.
 */
import type { Verdict } from "../../domain/approval.js";

/**
 * A parsed answer; `code` when the text named the request. `always` is "✅ always": approve it
 * and make a standing rule (`always`, `✅ always`, `approve K7QF always`, `always K7QF`).
 */
export interface ParsedAnswer {
  verdict: Verdict;
  code?: string;
  note: string | null;
  always?: true;
}

/** Strip skin tones and variation selectors so 👍🏽 and ✔️ compare as their base emoji. */
export function normalizeEmoji(text: string): string {
  return text.replace(/[\u{1F3FB}-\u{1F3FF}\u{FE0E}\u{FE0F}\u{200D}]/gu, "");
}

const APPROVE_EMOJI = ["✅", "👍", "✔", "☑", "🆗"];
const REJECT_EMOJI = ["❌", "👎", "✖", "🚫", "⛔", "✋"];
const MODIFY_EMOJI = ["📝", "✏", "✍"];

/** The verdict a reaction emoji means, or null for any other emoji. */
export function verdictOfReaction(emoji: string): "approve" | "reject" | null {
  const base = normalizeEmoji(emoji).trim();
  if (APPROVE_EMOJI.includes(base)) return "approve";
  if (REJECT_EMOJI.includes(base)) return "reject";
  return null;
}

const EMOJI_MODIFIER = /^[\u{1F3FB}-\u{1F3FF}\u{FE0E}\u{FE0F}\u{200D}]/u;

/** A leading ✅ / ❌ / 📝 (with any modifiers); `rest` is the original text after it, untouched. */
function leadingEmojiVerdict(text: string): { verdict: Verdict; rest: string } | null {
  const t = text.trimStart();
  for (const [list, verdict] of [
    [APPROVE_EMOJI, "approve"],
    [REJECT_EMOJI, "reject"],
    [MODIFY_EMOJI, "modify"],
  ] as const) {
    for (const e of list) {
      if (!t.startsWith(e)) continue;
      let end = e.length;
      // Skip this emoji's own skin tone / variation selector, but not the note's emoji.
      while (end < t.length && EMOJI_MODIFIER.test(t.slice(end))) end += t.codePointAt(end)! > 0xffff ? 2 : 1;
      return { verdict, rest: t.slice(end) };
    }
  }
  return null;
}

const WORD_VERDICTS: Record<string, Verdict> = {
  approve: "approve",
  approved: "approve",
  ok: "approve",
  okay: "approve",
  yes: "approve",
  y: "approve",
  lgtm: "approve",
  go: "approve",
  reject: "reject",
  rejected: "reject",
  deny: "reject",
  no: "reject",
  n: "reject",
  object: "reject",
  stop: "reject",
  veto: "reject",
  modify: "modify",
  change: "modify",
  changes: "modify",
  amend: "modify",
  always: "approve",
};

/** After ✅ or `approve`, a note that is only "always" makes it "✅ always" ("✅ always check X" stays a note). */
const ALWAYS_NOTE = /^always[!.]*$/i;

/** `answer` as "✅ always" when it starts with the word "always" or approves with "always" as its whole note. */
function withAlways(answer: ParsedAnswer, word: string | undefined): ParsedAnswer {
  if (answer.verdict !== "approve") return answer;
  if (word === "always") return { ...answer, note: answer.note?.replace(/^[!.?]+$/, "") || null, always: true };
  return answer.note !== null && ALWAYS_NOTE.test(answer.note) ? { ...answer, note: null, always: true } : answer;
}

/** Codes are 4-6 characters of the card alphabet with at least one digit (so words never match). */
const CODE = /^(?=.*[2-9])[2-9a-hj-km-np-z]{4,6}$/i;

/** Whether `word` could be a request's code (`K7QF`), so near misses can name it. */
export const looksLikeCode = (word: string) => CODE.test(word);

const cleanNote = (s: string) => {
  const t = s.replace(/^[\s:,.\-–—]+/, "").trim();
  return t.length ? t : null;
};

/**
 * Parse text as an answer. `inReply` is true when the text replies to a card: then a leading
 * verdict is enough and no code is needed.
 */
export function parseAnswer(text: string, inReply: boolean): ParsedAnswer | null {
  const trimmed = text.trim();
  if (!trimmed || trimmed.length > 4000) return null;
  const emoji = leadingEmojiVerdict(trimmed);
  let verdict: Verdict | undefined = emoji?.verdict;
  let rest = emoji?.rest ?? trimmed;
  let word: string | undefined;
  if (!verdict) {
    // `/approve@signoff_bot K7QF` is how Telegram sends commands in groups.
    const m = /^\/?([a-z]+)(?:@\w+)?(?=$|[\s,.:;!?])(.*)$/is.exec(trimmed);
    word = m?.[1]?.toLowerCase();
    // Own keys only: "constructor" is on every object's prototype, not a verdict.
    if (!word || !Object.hasOwn(WORD_VERDICTS, word)) return null;
    verdict = WORD_VERDICTS[word]!;
    rest = m![2] ?? "";
  }
  const tokens = rest.trim().split(/\s+/).filter(Boolean);
  const first = tokens[0];
  if (first && CODE.test(first)) {
    const note = cleanNote(rest.trim().slice(first.length));
    // In a reply the card already names the request; a code there is redundant, not the note.
    return withAlways(inReply ? { verdict, note } : { verdict, code: first.toUpperCase(), note }, word);
  }
  // Without a code: a reply to a card, or a bare yes / no (the caller checks exactly one pending).
  // A bare word followed by chatter ("no idea what that is") is not an answer; "yes!" is.
  if (!inReply && !emoji && rest.replace(/[\s!.?,]+/g, "") !== "") return null;
  return withAlways({ verdict, note: cleanNote(rest) }, word);
}
