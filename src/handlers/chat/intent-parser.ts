/**
 * Turns what an operator typed into a query or command: `status`, "how's the queue?",
 * "what did we spend yesterday?", `/status@signoff_bot`, `kill task T-12`, `pair K7QF2M as
 * viewer`. Queries are forgiving (keywords, small typos, any case and punctuation); commands
 * that change things need their exact verb, and text that only resembles one (a typo, a
 * negation, a question) is a near miss that changes nothing (see command-parser.ts). Pure and
 * total: any string gives an intent or null.
 */
import type { CommandKind, Intent, QueryKind } from "../../domain/intent.js";
import { parseCommand, parseNearMiss } from "./command-parser.js";
import { editDistance, normalize, typedText, wordsOf } from "./text-words.js";

export { COMMAND_KINDS, type CommandKind, type Intent, QUERY_KINDS, type QueryKind } from "../../domain/intent.js";
export { editDistance } from "./text-words.js";

/** Keyword weights per query; a query needs a score of 2 or more. Order breaks ties (specific first). */
const KEYWORDS: ReadonlyArray<readonly [Exclude<QueryKind, "help"> | "help", Readonly<Record<string, number>>]> = [
  [
    "failures",
    {
      failures: 3,
      failure: 3,
      failed: 3,
      fail: 3,
      fails: 3,
      failing: 3,
      errors: 3,
      error: 3,
      broken: 3,
      broke: 3,
      dead: 3,
      deadletter: 3,
      deadletters: 3,
      wrong: 2,
      problems: 3,
      problem: 3,
      issues: 2,
      crashed: 3,
      crash: 3,
      crashes: 3,
      incidents: 3,
      incident: 3,
      down: 2,
      outage: 3,
      outages: 3,
    },
  ],
  [
    "spend",
    {
      spend: 3,
      spent: 3,
      spending: 3,
      cost: 3,
      costs: 3,
      costing: 3,
      bill: 3,
      billing: 3,
      money: 3,
      budget: 3,
      burn: 3,
      expenses: 3,
      expense: 3,
      expensive: 2,
      dollars: 2,
      paid: 2,
      pay: 2,
    },
  ],
  [
    "pending",
    { pending: 3, waiting: 3, approvals: 3, approval: 3, awaiting: 3, signoff: 1, sign: 1, decide: 2, decisions: 2 },
  ],
  [
    "digest",
    {
      digest: 3,
      summary: 3,
      summarise: 3,
      summarize: 3,
      recap: 3,
      overnight: 3,
      night: 2,
      morning: 2,
      briefing: 3,
      report: 2,
      happened: 2,
    },
  ],
  [
    "queue",
    {
      queue: 3,
      queued: 3,
      queues: 3,
      backlog: 3,
      tasks: 2,
      task: 2,
      running: 2,
      working: 2,
      progress: 2,
      jobs: 2,
      todo: 2,
      ready: 1,
      review: 1,
      doing: 1,
    },
  ],
  ["help", { help: 3, commands: 3, command: 2, menu: 3, start: 3, usage: 3, howto: 3, options: 2 }],
  [
    "status",
    {
      status: 3,
      overview: 3,
      sitrep: 3,
      situation: 2,
      dashboard: 3,
      health: 2,
      healthy: 2,
      state: 2,
      things: 1,
      going: 1,
      everything: 1,
      doing: 1,
      ok: 1,
      okay: 1,
      good: 1,
      up: 1,
      agents: 1,
      services: 1,
    },
  ],
];

/** Idioms that keywords alone would miss. */
const PHRASES: ReadonlyArray<readonly [RegExp, QueryKind]> = [
  [/\bwhat can (you|i|we) (do|say|ask)\b/, "help"],
  [/\bhow (do|does) (this|it|i)\b/, "help"],
  [/\b(whats|what is) up\b/, "status"],
  [/\bhow are (we|things|you)\b/, "status"],
  [/\bhows (it|everything|things) (going|looking)\b/, "status"],
  [/\b(all|everything) (good|ok|okay|fine)\b/, "status"],
  [/\bhow much\b/, "spend"],
  [/\bwent wrong\b/, "failures"],
  [/\bwhat happened\b/, "digest"],
  [/\b(needs?|waiting for) (my|an?|your) (answer|ok|decision|approval)\b/, "pending"],
];

const YESTERDAY = new Set(["yesterday", "yday", "yest", "ystd", "last night"]);

/**
 * The weight `word` carries for one query. Strong keywords of 5+ letters also match a clear
 * abbreviation ("stat", "spen": a prefix of 4+ letters and 60% of the word) at full weight, and
 * one typo after the first letter ("staus", "spned") at one less.
 */
function weightOf(word: string, keywords: Readonly<Record<string, number>>): number {
  // Own keys only: "constructor" is on every object's prototype, not a keyword.
  if (Object.hasOwn(keywords, word)) return keywords[word]!;
  if (word.length < 4) return 0;
  let best = 0;
  for (const [keyword, weight] of Object.entries(keywords)) {
    if (weight < 3 || keyword.length < 5) continue; // only strong, long keywords tolerate this
    if (keyword.startsWith(word) && word.length >= keyword.length * 0.6) return weight;
    // A typo keeps the first letter: "staus" is status, "posts" is not "costs".
    if (word[0] === keyword[0] && editDistance(word, keyword, 1) <= 1) best = Math.max(best, weight - 1);
  }
  return best;
}

function parseQuery(normalized: string, words: string[]): Intent | null {
  if (words.length === 0) return normalized.replace(/\s/g, "") === "?" ? { kind: "help" } : null;
  if (words.length > 16) return null; // a paragraph is not a question for a bot
  const phrase = normalized.replace(/'/g, "").replace(/[^\p{L}\p{N}]+/gu, " ");
  let bestKind: QueryKind | null = null;
  let bestScore = 0;
  for (const [kind, keywords] of KEYWORDS) {
    let score = 0;
    for (const word of words) score += weightOf(word, keywords);
    for (const [pattern, phraseKind] of PHRASES) if (phraseKind === kind && pattern.test(phrase)) score += 2;
    if (score > bestScore) {
      bestScore = score;
      bestKind = kind;
    }
  }
  if (!bestKind || bestScore < 2) return null;
  if (bestKind === "spend") {
    const day = words.some((w) => YESTERDAY.has(w)) || /\blast night\b/.test(phrase) ? "yesterday" : "today";
    return { kind: "spend", day };
  }
  return { kind: bestKind };
}

/** Parse text into an intent, or null when it is none of the chat queries and commands. */
export function parseIntent(text: string): Intent | null {
  if (typeof text !== "string") return null;
  const normalized = normalize(text);
  if (!normalized) return null;
  const typed = typedText(text);
  return parseCommand(normalized, typed) ?? parseNearMiss(typed) ?? parseQuery(normalized, wordsOf(normalized));
}

/** How each intent is written in help and suggestions. */
export const INTENT_USAGE: Record<QueryKind | CommandKind, string> = {
  status: "status",
  queue: "queue",
  spend: "spend",
  failures: "failures",
  pending: "pending",
  digest: "digest",
  help: "help",
  kill: "kill task <id>",
  retry: "retry task <id>",
  prioritise: "prioritise task <id>",
  pause: "pause",
  resume: "resume",
  pair: "pair <code> as <role>",
};

/**
 * The `max` intents (of those `allowed`) closest to what was typed, by edit distance of any
 * word to the intent's name; for "I didn't understand — did you mean …".
 */
export function suggestIntents(
  text: string,
  allowed: ReadonlyArray<QueryKind | CommandKind>,
  max = 3,
): Array<QueryKind | CommandKind> {
  const words =
    typeof text === "string"
      ? wordsOf(normalize(text))
          .slice(0, 20)
          .map((w) => w.slice(0, 30))
      : [];
  const scored = allowed.map((kind, index) => {
    const name = kind === "prioritise" ? "prioritise" : kind;
    const distance = words.length ? Math.min(...words.map((w) => editDistance(w, name) / Math.max(name.length, 1))) : 1;
    return { kind, distance, index };
  });
  scored.sort((a, b) => a.distance - b.distance || a.index - b.index);
  return scored.slice(0, max).map((s) => s.kind);
}
