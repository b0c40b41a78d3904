/**
 * Near misses of commands: a misspelt verb or "task", words saying not to, or a question gives
 * a suggestion (the command as it would be typed), never the command itself and never the queue
 * report; exact commands and every documented query keep their meaning.
 */
import { describe, expect, it } from "vitest";
import type { Suggestion } from "../../../../src/domain/intent.js";
import { type Intent, parseIntent } from "../../../../src/handlers/chat/intent-parser.js";

/** A suggestion's kind is its first word: `kill task X` is a kill. */
const named = (texts: string[]): Suggestion[] =>
  texts.map((text) => ({ kind: text.split(" ")[0] as Suggestion["kind"], text }));
const typo = (...texts: string[]): Intent => ({ kind: "near-miss", why: "typo", suggestions: named(texts) });
const negated = (...texts: string[]): Intent => ({ kind: "near-miss", why: "negated", suggestions: named(texts) });
const question = (...texts: string[]): Intent => ({ kind: "near-miss", why: "question", suggestions: named(texts) });

const NEAR_MISSES: Array<[string, Intent]> = [
  // misspelt verbs
  ["kil task X", typo("kill task X")],
  ["kll T-16", typo("kill task T-16")],
  ["kil", typo("kill task <id>")],
  ["rety task t-16", typo("retry task t-16")],
  ["rerty task T-16", typo("retry task T-16")],
  ["prioritse task T-16", typo("prioritise task T-16")],
  ["priortize task T-16", typo("prioritise task T-16")],
  ["pasue", typo("pause")],
  ["puase everything", typo("pause")],
  ["resum", typo("resume")],
  ["please kil task X", typo("kill task X")],
  ["aprove K7QF", typo("approve K7QF")],
  ["rejct K7QF too risky", typo("reject K7QF too risky")],
  ["modfy K7QF", typo("modify K7QF <what to change>")],
  // misspelt "task"
  ["kill tsak X", typo("kill task X")],
  ["kill taks T-16", typo("kill task T-16")],
  ["retry tsk T-16", typo("retry task T-16")],
  ["kil tsak X", typo("kill task X")],
  // negations: never the command
  ["do not kill task X", negated("kill task X")],
  ["don't kill task X", negated("kill task X")],
  ["don’t retry task T-16", negated("retry task T-16")],
  ["dont prioritize task T-16", negated("prioritise task T-16")],
  ["please don't pause", negated("pause")],
  ["don't pause", negated("pause")],
  ["do not resume", negated("resume")],
  ["never kill task X", negated("kill task X")],
  ["no, don't kill task X", negated("kill task X")],
  ["I don't want to kill task X", negated("kill task X")],
  ["don't you dare kill task X", negated("kill task X")],
  ["do NOT kil task X", negated("kill task X")],
  ["don't approve K7QF", negated("approve K7QF", "reject K7QF")],
  ["do not reject K7QF", negated("approve K7QF", "reject K7QF")],
  ["don't modify K7QF", negated("modify K7QF <what to change>")],
  // an order taken back after the command
  ["kill task X, no wait", negated("kill task X")],
  ["kill task X not yet", negated("kill task X")],
  ["retry task T-16 — never mind", negated("retry task T-16")],
  ["pause? no", negated("pause")],
  ["pause, not now", negated("pause")],
  ["kil task X, no", negated("kill task X")],
  // questions are not orders
  ["pause please?", question("pause")],
  ["pause?", question("pause")],
  ["resume?", question("resume")],
  ["kill task T-16?", question("kill task T-16")],
];

describe("near misses", () => {
  it.each(NEAR_MISSES)("%j", (text, intent) => expect(parseIntent(text)).toEqual(intent));

  it("none of them is a command or a query", () => {
    for (const [text] of NEAR_MISSES) expect(parseIntent(text)?.kind, text).toBe("near-miss");
  });

  it("every suggestion without a placeholder parses as the command it names", () => {
    for (const [text, intent] of NEAR_MISSES) {
      if (intent.kind !== "near-miss") continue;
      for (const s of intent.suggestions) {
        if (s.text.includes("<") || ["approve", "reject", "modify"].includes(s.kind)) continue; // answers are parsed elsewhere
        expect(parseIntent(s.text)?.kind, `${text} → ${s.text}`).toBe(s.kind);
      }
    }
  });
});

describe("what stays as it was", () => {
  it.each<[string, Intent | null]>([
    ["kill task X", { kind: "kill", taskId: "X" }],
    ["Kill task T-12!", { kind: "kill", taskId: "T-12" }],
    ["kill task X now please", { kind: "kill", taskId: "X" }],
    ["retry task t-16", { kind: "retry", taskId: "t-16" }],
    ["prioritize task T-16", { kind: "prioritise", taskId: "T-16" }],
    ["pause", { kind: "pause" }],
    ["pause please", { kind: "pause" }],
    ["/pause", { kind: "pause" }],
    ["resume autonomy", { kind: "resume" }],
    ["kill task tsak", { kind: "kill", taskId: "tsak" }], // a task may be called that
    ["how's the queue?", { kind: "queue" }],
    ["what did we spend today?", { kind: "spend", day: "today" }],
    ["any failures?", { kind: "failures" }],
    ["what did we kill yesterday?", null], // a verb mid-question is no order
    ["don't show me the queue", { kind: "queue" }], // negated queries change nothing: answered
    ["paused?", null], // a past tense asks, it is not a misspelt order
    ["parse it", null],
    ["retro notes for the week", null],
    ["pause the deploy of api until tomorrow", null],
    ["no idea", null],
    ["constructor", null],
    ["constructor task X", { kind: "queue" }], // not a verb, however objects are built
  ])("%j", (text, intent) => expect(parseIntent(text)).toEqual(intent));
});
