/**
 * Reading answers out of chat: reactions, replies to a card, `approve K7QF …`, bare
 * yes / no; and a seeded fuzz run showing the parser is total.
 */
import { describe, expect, it } from "vitest";
import {
  normalizeEmoji,
  parseAnswer,
  verdictOfReaction,
  type ParsedAnswer,
} from "../../../../src/handlers/chat/answer-parser.js";
import { prng } from "../../../helpers/prng.js";

describe("verdictOfReaction", () => {
  it.each([
    ["✅", "approve"],
    ["👍", "approve"],
    ["👍🏻", "approve"],
    ["👍🏽", "approve"],
    ["👍🏿", "approve"],
    ["✔️", "approve"],
    ["✔", "approve"],
    ["❌", "reject"],
    ["👎", "reject"],
    ["👎🏾", "reject"],
    [" ✅ ", "approve"],
  ] as const)("%s → %s", (emoji, verdict) => {
    expect(verdictOfReaction(emoji)).toBe(verdict);
  });

  it.each(["❤️", "🔥", "🎉", "👀", "😂", "🙏", "👌", "🤔", "📝", "🏳️‍🌈", "", "a", "yes", "👍👍"])(
    "%j is not an answer",
    (emoji) => {
      expect(verdictOfReaction(emoji)).toBeNull();
    },
  );
});

describe("normalizeEmoji", () => {
  it("strips skin tones and variation selectors only", () => {
    expect(normalizeEmoji("👍🏽")).toBe("👍");
    expect(normalizeEmoji("✔️")).toBe("✔");
    expect(normalizeEmoji("plain text")).toBe("plain text");
  });
});

const reply = (text: string) => parseAnswer(text, true);
const say = (text: string) => parseAnswer(text, false);

describe("replies to a card", () => {
  it.each<[string, ParsedAnswer]>([
    ["✅", { verdict: "approve", note: null }],
    ["❌", { verdict: "reject", note: null }],
    ["❌ not now", { verdict: "reject", note: "not now" }],
    ["❌not now", { verdict: "reject", note: "not now" }],
    ["  ✅  fine  ", { verdict: "approve", note: "fine" }],
    ["👍🏽 go", { verdict: "approve", note: "go" }],
    ["✔️", { verdict: "approve", note: null }],
    ["👎", { verdict: "reject", note: null }],
    ["📝 use staging first", { verdict: "modify", note: "use staging first" }],
    ["📝: use staging first", { verdict: "modify", note: "use staging first" }],
    ["📝", { verdict: "modify", note: null }],
    ["📝    ", { verdict: "modify", note: null }],
    ["yes", { verdict: "approve", note: null }],
    ["no", { verdict: "reject", note: null }],
    ["reject too risky today", { verdict: "reject", note: "too risky today" }],
  ])("%j → %j", (text, want) => {
    const got = reply(text);
    expect(got).toEqual(want);
    expect(got).not.toHaveProperty("code");
  });

  it("keeps multi-line notes", () => {
    expect(reply("📝 first do A\nthen B")).toEqual({ verdict: "modify", note: "first do A\nthen B" });
  });

  it("a reply that is not an answer is null", () => {
    expect(reply("what does this do?")).toBeNull();
    expect(reply("status")).toBeNull();
  });

  // A note is the operator's own instruction: it must reach the source as written. Emoji in it
  // (skin tones, ZWJ sequences, keycaps, VS16) must not be rewritten.
  it.each([
    ["❌ ask the 👩🏽‍💻 team", "ask the 👩🏽‍💻 team"],
    ["📝 use the 1️⃣ node", "use the 1️⃣ node"],
    ["✅ thanks ❤️", "thanks ❤️"],
  ])("keeps emoji inside the note intact: %j", (text, note) => {
    expect(reply(text)?.note).toBe(note);
  });
});

describe("text naming a request", () => {
  it.each<[string, ParsedAnswer]>([
    ["approve K7QF", { verdict: "approve", code: "K7QF", note: null }],
    ["Approve k7qf", { verdict: "approve", code: "K7QF", note: null }],
    ["APPROVE K7QF", { verdict: "approve", code: "K7QF", note: null }],
    ["reject k7qf too risky", { verdict: "reject", code: "K7QF", note: "too risky" }],
    ["modify K7QF use staging first", { verdict: "modify", code: "K7QF", note: "use staging first" }],
    ["modify K7QF", { verdict: "modify", code: "K7QF", note: null }],
    ["/approve K7QF", { verdict: "approve", code: "K7QF", note: null }],
    ["/reject K7QF nope", { verdict: "reject", code: "K7QF", note: "nope" }],
    ["approve   K7QF   ", { verdict: "approve", code: "K7QF", note: null }],
    ["approve 23456", { verdict: "approve", code: "23456", note: null }],
    ["approve ABC234", { verdict: "approve", code: "ABC234", note: null }],
    ["✅ K7QF", { verdict: "approve", code: "K7QF", note: null }],
    ["❌ K7QF not today", { verdict: "reject", code: "K7QF", note: "not today" }],
  ])("%j → %j", (text, want) => {
    expect(say(text)).toEqual(want);
  });

  // Telegram appends the bot's username to commands in groups ("/approve@signoff_bot K7QF");
  // the inbound mapper leaves it for handlers to strip (src/bot/telegram/telegram-inbound.ts).
  it("accepts a Telegram group command with the bot's username", () => {
    expect(say("/approve@signoff_bot K7QF")).toEqual({ verdict: "approve", code: "K7QF", note: null });
  });

  it.each(["approve K7", "approve K7QFXYZ", "approve K0QF", "approve KIQF", "approve KLQF", "approve KOQF"])(
    "%j names no valid code and is not an answer",
    (text) => {
      expect(say(text)).toBeNull();
    },
  );
});

describe("bare answers (caller checks exactly one pending)", () => {
  it.each<[string, ParsedAnswer["verdict"]]>([
    ["yes", "approve"],
    ["YES", "approve"],
    ["  yes  ", "approve"],
    ["ok", "approve"],
    ["approve", "approve"],
    ["✅", "approve"],
    ["👍", "approve"],
    ["no", "reject"],
    ["No", "reject"],
    ["stop", "reject"],
    ["object", "reject"],
    ["❌", "reject"],
    ["👎", "reject"],
  ])("%j → %s with no code and no note", (text, verdict) => {
    const got = say(text);
    expect(got).toEqual({ verdict, note: null });
    expect(got).not.toHaveProperty("code");
  });
});

describe("not answers", () => {
  it.each([
    "no idea what that is",
    "yes I saw the thing",
    "status",
    "how's the queue?",
    "pending",
    "help",
    "yesterday",
    "nobody",
    "okay-ish",
    "",
    "   ",
    "\n\t",
    "kill task 42",
    "approved?? what",
    "constructor", // on every object's prototype, not a verdict
    "constructor K7QF",
    "don't approve K7QF",
    "do not approve K7QF",
    "no, don't approve K7QF",
    "never reject K7QF",
  ])("%j → null", (text) => {
    expect(say(text)).toBeNull();
  });

  it("very long strings are not answers and do not throw", () => {
    expect(say("x".repeat(100_000))).toBeNull();
    expect(say(`approve K7QF ${"a".repeat(10_000)}`)).toBeNull();
    expect(reply(`✅ ${"a".repeat(10_000)}`)).toBeNull();
    expect(say("👍".repeat(50_000))).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Property: total over arbitrary text
// ---------------------------------------------------------------------------------------------

const PIECES = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  ..."!?.,:;-–—_/\\@#*()[]{}'\"`~<>|&%$^+=",
  " ",
  " ",
  " ",
  "\t",
  "\n",
  "\r\n",
  "\u00a0",
  "\u2028",
  "\u200b",
  "\u3000",
  "✅",
  "❌",
  "📝",
  "👍",
  "👎",
  "✔️",
  "✔",
  "🏽",
  "🏿",
  "\ufe0f",
  "\ufe0e",
  "\u200d",
  "❤️",
  "🏳️‍🌈",
  "👩🏽‍💻",
  "1️⃣",
  "🇳🇿",
  "approve",
  "reject",
  "modify",
  "yes",
  "no",
  "ok",
  "stop",
  "K7QF",
  "k7qf",
  "/",
  "/approve",
  "ABC234",
  "\ud800",
  "\udfff",
  "\u0000",
  "é",
  "ß",
  "İ",
  "ﬃ",
  "Ω",
  "中文",
  "𝔸",
];

function randomString(rand: () => number): string {
  const len = rand() < 0.02 ? 4000 + Math.floor(rand() * 200) : Math.floor(rand() * 24);
  let s = "";
  for (let i = 0; i < len; i++) {
    const r = rand();
    if (r < 0.7) s += PIECES[Math.floor(rand() * PIECES.length)]!;
    else s += String.fromCodePoint(Math.floor(rand() * 0x10ffff));
  }
  return s;
}

const VALID_CODE = /^[2-9A-HJ-KMNP-Z]{4,6}$/;

function assertValid(text: string, got: ParsedAnswer | null): void {
  if (got === null) return;
  expect(["approve", "reject", "modify"], text).toContain(got.verdict);
  for (const key of Object.keys(got)) expect(["verdict", "code", "note"], text).toContain(key);
  if (got.note !== null) {
    expect(typeof got.note, text).toBe("string");
    expect(got.note.length, text).toBeGreaterThan(0);
    expect(got.note, text).toBe(got.note.trim());
  }
  if ("code" in got) expect(got.code, text).toMatch(VALID_CODE);
}

describe("property: any text", () => {
  it("5,000 seeded random strings never throw and give null or a valid answer", () => {
    const rand = prng(0x516e0ff);
    let answers = 0;
    for (let i = 0; i < 5_000; i++) {
      const text = randomString(rand);
      for (const inReply of [false, true]) {
        let got: ParsedAnswer | null = null;
        expect(() => {
          got = parseAnswer(text, inReply);
        }, JSON.stringify(text)).not.toThrow();
        assertValid(text, got);
        if (got !== null) answers++;
      }
      expect(() => verdictOfReaction(text)).not.toThrow();
      expect([null, "approve", "reject"]).toContain(verdictOfReaction(text));
    }
    // The generator must reach the answering branches too, or the property proves little.
    expect(answers).toBeGreaterThan(100);
  });
});
