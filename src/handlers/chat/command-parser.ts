/**
 * Commands that change something, and the text that only looks like one. A command needs its
 * exact verb first (`kill task T-12`, `pause`); anything that resembles one without being a clear
 * order is a near miss that changes nothing and is answered with the command it resembles:
 * a misspelt verb or word ("kil task X", "kill tsak X"), words saying not to ("do not kill task
 * X", "don't pause", "kill task X, no wait"), or a question ("pause please?"). A negated command
 * is never one to act on, whatever else the text says.
 */
import type { Intent, NearMissReason, Suggestion } from "../../domain/intent.js";
import { looksLikeCode } from "./answer-parser.js";
import { editDistance, normalize, stripPoliteness, wordsOf } from "./text-words.js";

type TaskVerb = "kill" | "retry" | "prioritise";
type SwitchVerb = "pause" | "resume";
type AnswerVerb = "approve" | "reject" | "modify";

const TASK_VERBS = new Map<string, TaskVerb>([
  ["kill", "kill"],
  ["abort", "kill"],
  ["terminate", "kill"],
  ["cancel", "kill"],
  ["retry", "retry"],
  ["rerun", "retry"],
  ["re-run", "retry"],
  ["requeue", "retry"],
  ["prioritise", "prioritise"],
  ["prioritize", "prioritise"],
  ["expedite", "prioritise"],
  ["bump", "prioritise"],
]);

const SWITCH_VERBS = new Map<string, SwitchVerb>([
  ["pause", "pause"],
  ["resume", "resume"],
  ["unpause", "resume"],
]);

/** Every verb a near miss can name; answers are parsed elsewhere, but their near misses are caught here. */
const VERBS = new Map<string, TaskVerb | SwitchVerb | AnswerVerb>([
  ...TASK_VERBS,
  ...SWITCH_VERBS,
  ["approve", "approve"],
  ["reject", "reject"],
  ["modify", "modify"],
]);

/** Verbs whose misspellings are caught: the ones help shows, not every synonym. */
const TYPO_VERBS = ["kill", "retry", "prioritise", "prioritize", "pause", "resume", "approve", "reject", "modify"];

/** Real words a letter or two from a verb: never read as its misspelling. */
const NOT_TYPOS = new Set([
  "parse",
  "retro",
  "kilt",
  "kiln",
  "kills",
  "killed",
  "paused",
  "pauses",
  "resumed",
  "resumes",
  "retried",
  "retries",
  "rejects",
  "approves",
  "modified",
  "priorities",
  "prioritised",
  "prioritized",
]);

/** Words that say not to, or take an order back ("kill task X, no wait"); apostrophes dropped. */
const STOP_WORDS = new Set([
  "not",
  "dont",
  "never",
  "no",
  "nope",
  "nah",
  "doesnt",
  "shouldnt",
  "wont",
  "cant",
  "cannot",
  "mustnt",
  "wait",
  "hold",
  "nevermind",
  "nvm",
  "jk",
  "kidding",
  "undo",
  "scratch",
]);

/** Words at the front that do not change what follows ("please", "can you"). */
const POLITE = new Set(["please", "pls", "plz", "kindly", "hey", "ok", "okay", "can", "could", "would", "you"]);

/** Words that may follow a command without changing the meaning. */
const FILLER = new Set([
  "all",
  "everything",
  "autonomy",
  "automation",
  "agents",
  "the",
  "now",
  "please",
  "pls",
  "it",
  "signoff",
  "bots",
  "for",
  "a",
  "bit",
  "while",
]);

/** Words standing for "a task" without naming one. */
const PRONOUN = /^(task|tasks|it|this|that|all|everything|them)$/i;

const isQuestion = (text: string) => /\?\s*$/.test(text);
const hasStopWord = (words: readonly string[]) => words.some((w) => STOP_WORDS.has(w));

/** "tsak", "taks", "tsk": one edit from "task", keeping its first letter. */
const isMisspeltTask = (word: string) =>
  word !== "task" && word.length >= 3 && word[0] === "t" && editDistance(word, "task", 1) <= 1;

/** The verb `word` misspells ("kil", "pasue", "prioritse"), or null. */
function misspeltVerb(word: string): TaskVerb | SwitchVerb | AnswerVerb | null {
  if (word.length < 3 || NOT_TYPOS.has(word) || VERBS.has(word)) return null;
  for (const verb of TYPO_VERBS) {
    const max = verb.length >= 8 ? 2 : 1;
    // A typo keeps the first letter: "kil" is kill, "bill" is not.
    if (word[0] === verb[0] && editDistance(word, verb, max) <= max) return VERBS.get(verb)!;
  }
  return null;
}

/**
 * What follows a task verb, case kept: `[the] [task] [#]ID [trailing…]`; "tsak" is noticed as a
 * misspelt "task". `raw` is the word in the id's place (a pronoun such as "it" names no task).
 */
function readTaskRef(rest: string): {
  raw: string | null;
  id: string | null;
  misspeltTask: boolean;
  afterTask: string;
  trailing: string;
} {
  let r = rest.trim().replace(/^the\s+/i, "");
  let misspeltTask = false;
  const first = /^([A-Za-z]+)\s+(?=\S)/.exec(r);
  if (/^task\b/i.test(r)) r = r.replace(/^task\b\s*/i, "");
  else if (first && isMisspeltTask(first[1]!.toLowerCase())) {
    misspeltTask = true;
    r = r.slice(first[0].length);
  }
  const m = /^(?:#|no\.\s*|number\s+)?([A-Za-z0-9][\w.:/-]{0,127})?/i.exec(r)!;
  const raw = m[1]?.replace(/[.,!?;:]+$/, "") || null;
  return { raw, id: raw && PRONOUN.test(raw) ? null : raw, misspeltTask, afterTask: r, trailing: r.slice(m[0].length) };
}

/** Text after the task word that is neither an id nor punctuation ("kill ✅"): not a task command. */
const namesNoTask = (ref: ReturnType<typeof readTaskRef>) => !ref.raw && ref.afterTask.replace(/[\s.!?]/g, "") !== "";

const taskUsage = (verb: TaskVerb, id: string | null): Suggestion => ({
  kind: verb,
  text: `${verb} task ${id ?? "<id>"}`,
});
const nearMiss = (why: NearMissReason, suggestions: Suggestion[]): Intent => ({ kind: "near-miss", why, suggestions });

/** A task command as typed (verb first), or the near miss it is; null when the rest is not a task at all. */
function parseTaskCommand(verb: TaskVerb, restTyped: string, text: string): Intent | null {
  const ref = readTaskRef(restTyped);
  if (namesNoTask(ref)) return null;
  const usage = [taskUsage(verb, ref.id)];
  if (hasStopWord(wordsOf(normalize(ref.trailing)))) return nearMiss("negated", usage);
  if (ref.misspeltTask) return nearMiss("typo", usage);
  if (isQuestion(text)) return nearMiss("question", usage);
  return { kind: verb, taskId: ref.id };
}

/** `pause` / `resume` with nothing but filler after it, or the near miss it is. */
function parseSwitch(verb: SwitchVerb, rest: string, text: string): Intent | null {
  const words = wordsOf(rest);
  const usage = [{ kind: verb, text: verb }];
  if (hasStopWord(words)) return nearMiss("negated", usage);
  if (words.length > 4 || !words.every((w) => FILLER.has(w))) return null;
  if (isQuestion(text)) return nearMiss("question", usage);
  return { kind: verb };
}

/** `pair <code> as <role> [named <name>]`. */
function parsePair(rest: string): Intent {
  const p =
    /^([a-z0-9]{4,8})\s+(?:as\s+)?(?:an?\s+)?([a-z][a-z0-9_-]{0,31})(?:\s+(?:named|called|name)\s+([\p{L}\p{N}_.-]{1,64}))?[.!]?$/u.exec(
      rest,
    );
  if (!p) return { kind: "pair", code: null };
  return { kind: "pair", code: p[1]!.toUpperCase(), role: p[2]!, name: p[3] ?? null };
}

/**
 * `away until <date> [delegate to <name>]` (the date as typed, read later in the speaker's
 * timezone); `away` without a well-formed `until` gives the usage (until null).
 */
function parseAway(rest: string): Intent {
  const m =
    /^(?:until|till|til)\s+(.+?)(?:\s*,?\s+(?:and\s+)?(?:delegate|delegating)\s+(?:to\s+)?([\p{L}\p{N}_.-]{1,64}))?[.!]?$/u.exec(
      rest,
    );
  if (!m) return { kind: "away", until: null, delegate: null };
  return { kind: "away", until: m[1]!.trim(), delegate: m[2] ?? null };
}

/** Verbs about the speaker's presence and digest, and `unpair`; null when the rest does not fit. */
function parseSelfCommand(verb: string, rest: string, text: string): Intent | null {
  if (verb === "away") return parseAway(rest);
  if (verb === "back") return rest === "" || /^(now|again|online)[.!]?$/.test(rest) ? { kind: "back" } : null;
  if (verb === "digest" && /^(on|off)[.!]?$/.test(rest)) return { kind: "digest-switch", on: rest.startsWith("on") };
  if (verb === "unpair") {
    const name = /^([\p{L}\p{N}_.-]{1,64})[.!]?$/u.exec(rest)?.[1] ?? null;
    return isQuestion(text)
      ? nearMiss("question", [{ kind: "pair", text: `unpair ${name ?? "<name>"}` }])
      : { kind: "unpair", name };
  }
  return null;
}

/**
 * A command whose exact verb comes first (after "please" and the like), or the near miss it is;
 * null when the text does not start with a command verb or the rest does not fit it.
 */
export function parseCommand(normalized: string, typed: string): Intent | null {
  const text = stripPoliteness(normalized);
  const m = /^([a-z-]+)(?=$|[\s.!?,:;])(.*)$/s.exec(text);
  if (!m) return null;
  const verb = m[1]!;
  const rest = m[2]!.trim();
  const taskVerb = TASK_VERBS.get(verb);
  if (taskVerb) {
    // The id keeps its case as typed: take it from the typed text at the same position.
    return parseTaskCommand(taskVerb, typed.slice(typed.length - m[2]!.length), text);
  }
  const switchVerb = SWITCH_VERBS.get(verb);
  if (switchVerb) return parseSwitch(switchVerb, rest, text);
  if (verb === "pair") return parsePair(rest);
  return parseSelfCommand(verb, rest, text);
}

/**
 * The commands a near miss of `verb` suggests, given what followed it (case kept). `loose` is
 * for negated text, which names a command in any shape; a misspelt verb must otherwise be
 * followed by what the command takes, so "retro notes for the week" is not taken for retry.
 */
function suggestionsFor(verb: TaskVerb | SwitchVerb | AnswerVerb, rest: string, loose: boolean): Suggestion[] | null {
  if (verb === "pause" || verb === "resume") {
    const words = wordsOf(normalize(rest));
    return loose || (words.length <= 4 && words.every((w) => FILLER.has(w))) ? [{ kind: verb, text: verb }] : null;
  }
  if (verb === "approve" || verb === "reject" || verb === "modify") {
    const [first = "", ...note] = rest.split(/\s+/).filter(Boolean);
    const code = looksLikeCode(first) ? first.toUpperCase() : null;
    if (!code && first && !loose) return null;
    const named = code ?? "<code>";
    const change = verb === "modify" && (loose || !note.length) ? ["<what to change>"] : note;
    // Words saying not to approve do not say to reject: both are offered.
    const verbs: AnswerVerb[] = loose && verb !== "modify" ? ["approve", "reject"] : [verb];
    return verbs.map((v) => ({ kind: v, text: [v, named, ...(loose && v !== "modify" ? [] : change)].join(" ") }));
  }
  const ref = readTaskRef(rest);
  const fits = !namesNoTask(ref) && wordsOf(normalize(ref.trailing)).every((w) => FILLER.has(w));
  return loose || fits ? [taskUsage(verb, ref.id)] : null;
}

/**
 * Text that names a command without being one: a misspelt verb first ("kil task X", "pasue"),
 * or a command verb after words saying not to ("do not kill task X", "please don't pause",
 * "I don't want to retry task X"). Null for anything else, which is then read as a query.
 */
export function parseNearMiss(typed: string): Intent | null {
  const tokens = typed
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 40)
    .map((raw) => ({ raw, word: wordsOf(normalize(raw)).join("") }));
  let start = 0;
  while (start < tokens.length && POLITE.has(tokens[start]!.word)) start++;
  for (let i = start; i < Math.min(tokens.length, start + 8); i++) {
    const word = tokens[i]!.word;
    // "don't you dare kill": a stop word up to three words before the verb negates it.
    const negated = tokens.slice(Math.max(start, i - 3), i).some((t) => STOP_WORDS.has(t.word));
    const exact = VERBS.get(word);
    if (exact && !negated) {
      if (i === start) return null; // a command verb first: the command parser already judged it
      continue; // "what did we kill": a verb mid-sentence is a question's word, not an order
    }
    const verb = exact ?? (i === start || STOP_WORDS.has(tokens[i - 1]!.word) ? misspeltVerb(word) : null);
    if (!verb) continue;
    const after = tokens.slice(i + 1);
    const takenBack = negated || after.some((t) => STOP_WORDS.has(t.word)); // "kil task X, no wait"
    const suggestions = suggestionsFor(verb, after.map((t) => t.raw).join(" "), takenBack);
    if (suggestions) return nearMiss(takenBack ? "negated" : "typo", suggestions);
  }
  return null;
}
