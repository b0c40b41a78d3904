/**
 * The chat-ops intent parser: the phrasings the spec names and realistic
 * variants map to the right intent; commands need their verb; gibberish gets suggestions; no
 * input makes it throw (property test over seeded random strings).
 */
import { describe, expect, it } from "vitest";
import {
  COMMAND_KINDS,
  type Intent,
  QUERY_KINDS,
  editDistance,
  parseIntent,
  suggestIntents,
} from "../../../../src/handlers/chat/intent-parser.js";
import { prng } from "../../../helpers/prng.js";

const DOCUMENTED_PHRASES: Array<[string, Intent]> = [
  ["status", { kind: "status" }],
  ["how's the queue?", { kind: "queue" }],
  ["queue", { kind: "queue" }],
  ["spend", { kind: "spend", day: "today" }],
  ["what did we spend today?", { kind: "spend", day: "today" }],
  ["what did we spend yesterday?", { kind: "spend", day: "yesterday" }],
  ["failures", { kind: "failures" }],
  ["any failures?", { kind: "failures" }],
  ["pending", { kind: "pending" }],
  ["digest", { kind: "digest" }],
  ["help", { kind: "help" }],
  ["/status", { kind: "status" }],
  ["/status@signoff_bot", { kind: "status" }],
  ["kill task X", { kind: "kill", taskId: "X" }],
  ["retry task X", { kind: "retry", taskId: "X" }],
  ["prioritise task X", { kind: "prioritise", taskId: "X" }],
  ["prioritize task X", { kind: "prioritise", taskId: "X" }],
  ["pause", { kind: "pause" }],
  ["resume", { kind: "resume" }],
];

/** How people actually type these (and 20+ more than the spec lists). */
const VARIANTS: Array<[string, Intent]> = [
  ["STATUS!!", { kind: "status" }],
  ["Status?", { kind: "status" }],
  ["what's the status?", { kind: "status" }],
  ["what’s up", { kind: "status" }],
  ["how are things?", { kind: "status" }],
  ["how's everything going", { kind: "status" }],
  ["give me an overview", { kind: "status" }],
  ["sitrep", { kind: "status" }],
  ["everything ok?", { kind: "status" }],
  ["are all services healthy?", { kind: "status" }],
  ["staus", { kind: "status" }],
  ["stat", { kind: "status" }],
  ["what's in the queue", { kind: "queue" }],
  ["queue status", { kind: "queue" }],
  ["show me the backlog", { kind: "queue" }],
  ["what's running?", { kind: "queue" }],
  ["what are the agents working on?", { kind: "queue" }],
  ["list tasks", { kind: "queue" }],
  ["queu", { kind: "queue" }],
  ["how much have we spent", { kind: "spend", day: "today" }],
  ["costs today", { kind: "spend", day: "today" }],
  ["what's the bill", { kind: "spend", day: "today" }],
  ["spending yesterday?", { kind: "spend", day: "yesterday" }],
  ["how much did it cost yesterday", { kind: "spend", day: "yesterday" }],
  ["spend yday", { kind: "spend", day: "yesterday" }],
  ["/spend@signoff_bot yesterday", { kind: "spend", day: "yesterday" }],
  ["spned yesterday", { kind: "spend", day: "yesterday" }],
  ["anything broken?", { kind: "failures" }],
  ["what failed?", { kind: "failures" }],
  ["show errors", { kind: "failures" }],
  ["dead letters", { kind: "failures" }],
  ["what went wrong", { kind: "failures" }],
  ["anything down?", { kind: "failures" }],
  ["failrues", { kind: "failures" }],
  ["what's pending?", { kind: "pending" }],
  ["anything waiting for me?", { kind: "pending" }],
  ["what needs my approval?", { kind: "pending" }],
  ["send me the digest", { kind: "digest" }],
  ["morning summary", { kind: "digest" }],
  ["what happened overnight?", { kind: "digest" }],
  ["recap", { kind: "digest" }],
  ["/help", { kind: "help" }],
  ["?", { kind: "help" }],
  ["what can you do", { kind: "help" }],
  ["what can I say?", { kind: "help" }],
  ["commands", { kind: "help" }],
  ["/start", { kind: "help" }],
  ["Kill task T-12!", { kind: "kill", taskId: "T-12" }],
  ["kill T-12", { kind: "kill", taskId: "T-12" }],
  ["/kill@signoff_bot T-12", { kind: "kill", taskId: "T-12" }],
  ["please kill task #build-7.", { kind: "kill", taskId: "build-7" }],
  ["abort task NOPE-9", { kind: "kill", taskId: "NOPE-9" }],
  ["can you retry task deploy.api", { kind: "retry", taskId: "deploy.api" }],
  ["rerun task 42", { kind: "retry", taskId: "42" }],
  ["bump task 42", { kind: "prioritise", taskId: "42" }],
  ["Prioritize the task ingest/eu-1", { kind: "prioritise", taskId: "ingest/eu-1" }],
  ["kill", { kind: "kill", taskId: null }],
  ["kill it", { kind: "kill", taskId: null }],
  ["/pause", { kind: "pause" }],
  ["pause everything now", { kind: "pause" }],
  ["Pause all agents please", { kind: "pause" }],
  ["unpause", { kind: "resume" }],
  ["resume autonomy", { kind: "resume" }],
  ["pair q7xk2m as viewer", { kind: "pair", code: "Q7XK2M", role: "viewer", name: null }],
  ["pair Q7XK2M as an approver named sam", { kind: "pair", code: "Q7XK2M", role: "approver", name: "sam" }],
  ["pair", { kind: "pair", code: null }],
];

describe("parseIntent", () => {
  it.each(DOCUMENTED_PHRASES)("documented phrase %j", (text, intent) => expect(parseIntent(text)).toEqual(intent));
  it.each(VARIANTS)("variant %j", (text, intent) => expect(parseIntent(text)).toEqual(intent));

  it("has more than 20 realistic variants beyond the spec's phrases", () => {
    expect(VARIANTS.length).toBeGreaterThan(DOCUMENTED_PHRASES.length + 20);
  });

  it.each([
    "asdkjh qwe",
    "the weather is nice",
    "lol",
    "",
    "   ",
    "pause the deploy of api until tomorrow", // a pause needs the bare verb: this is not one
    "please tell me a story about dragons and their hoards of gold in the mountains far away from here",
    "cause",
    "posts",
  ])("%j is no intent", (text) => {
    expect(parseIntent(text)).toBeNull();
  });

  it("changing commands never come from typos (no fuzzy kill or pause): at most a near miss", () => {
    for (const text of ["kil task 1", "pasue", "resum", "kll T-1", "paws"]) {
      const intent = parseIntent(text);
      expect(
        intent === null || intent.kind === "near-miss" || (QUERY_KINDS as readonly string[]).includes(intent.kind),
        text,
      ).toBe(true);
    }
  });
});

describe("suggestIntents", () => {
  const all = [...QUERY_KINDS, ...COMMAND_KINDS];
  it("offers the closest allowed commands", () => {
    expect(suggestIntents("stts", all)[0]).toBe("status");
    expect(suggestIntents("kil taks T-1", all)[0]).toBe("kill");
    expect(suggestIntents("pasue", all)).toContain("pause");
    expect(suggestIntents("kil taks T-1", QUERY_KINDS)).not.toContain("kill");
    expect(suggestIntents("", all)).toHaveLength(3);
  });

  it("edit distance counts an adjacent swap as one edit", () => {
    expect(editDistance("spned", "spend")).toBe(1);
    expect(editDistance("status", "status")).toBe(0);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("abc", "abcdefgh", 2)).toBe(3);
  });
});

const PIECES = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  ..."!?.,:;-–—_/\\@#*()[]{}'\"`~<>|&%$^+=’",
  " ",
  " ",
  " ",
  "\t",
  "\n",
  "\u00a0",
  "\u200b",
  "\u3000",
  "✅",
  "❌",
  "👍🏽",
  "🇳🇿",
  "\ud800",
  "\udfff",
  "\u0000",
  "İ",
  "ﬃ",
  "ß",
  "中文",
  "𝔸",
  "status",
  "queue",
  "spend",
  "yesterday",
  "failures",
  "kill",
  "task",
  "retry",
  "prioritise",
  "pause",
  "resume",
  "pair",
  "as",
  "viewer",
  "/",
  "@bot",
  "T-12",
  "#",
  "please",
];

function randomString(rand: () => number): string {
  const len = rand() < 0.02 ? 2000 + Math.floor(rand() * 4000) : Math.floor(rand() * 16);
  let s = "";
  for (let i = 0; i < len; i++)
    s +=
      rand() < 0.8 ? PIECES[Math.floor(rand() * PIECES.length)]! : String.fromCodePoint(Math.floor(rand() * 0x10ffff));
  return s;
}

describe("property: total over arbitrary text", () => {
  it("5,000 seeded random strings never throw and give null or a well-formed intent", () => {
    const rand = prng(0x5eed);
    const kinds = new Set<string>([...QUERY_KINDS, ...COMMAND_KINDS, "near-miss"]);
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const text = randomString(rand);
      const intent = parseIntent(text);
      if (intent) {
        seen.add(intent.kind);
        expect(kinds.has(intent.kind), JSON.stringify(text)).toBe(true);
        if ("taskId" in intent && intent.taskId !== null)
          expect(intent.taskId, JSON.stringify(text)).toMatch(/^[A-Za-z0-9][\w.:/-]{0,127}$/);
        if (intent.kind === "pair" && intent.code !== null) expect(intent.code).toMatch(/^[A-Z0-9]{4,8}$/);
        if (intent.kind === "near-miss") {
          expect(intent.suggestions.length, JSON.stringify(text)).toBeGreaterThan(0);
          for (const suggestion of intent.suggestions) expect(parseIntent(suggestion.text)?.kind).not.toBe("near-miss");
        }
      }
      const suggestions = suggestIntents(text, [...QUERY_KINDS, ...COMMAND_KINDS]);
      expect(suggestions.length).toBe(3);
    }
    expect(seen.size).toBeGreaterThan(5); // the generator reaches many intents, not just null
  });

  it("non-strings and huge inputs are handled", () => {
    expect(parseIntent(undefined as unknown as string)).toBeNull();
    expect(parseIntent("status ".repeat(50_000))).toBeNull(); // a wall of text is not a question
    expect(() => suggestIntents("x".repeat(100_000), [...QUERY_KINDS])).not.toThrow();
  });
});
