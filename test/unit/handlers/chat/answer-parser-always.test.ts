/**
 * "✅ always" in chat: `always`, `✅ always`, `approve K7QF always`, `always K7QF`, as a reply or
 * not; and the texts that stay plain answers (or no answer) because "always" is only part of them.
 */
import { describe, expect, it } from "vitest";
import { parseAnswer } from "../../../../src/handlers/chat/answer-parser.js";

describe("parseAnswer: always", () => {
  it.each([
    ["always", false, { verdict: "approve", note: null, always: true }],
    ["Always!", false, { verdict: "approve", note: null, always: true }],
    ["/always", false, { verdict: "approve", note: null, always: true }],
    ["✅ always", false, { verdict: "approve", note: null, always: true }],
    ["✅ ALWAYS.", false, { verdict: "approve", note: null, always: true }],
    ["approve K7QF always", false, { verdict: "approve", code: "K7QF", note: null, always: true }],
    ["✅ K7QF always", false, { verdict: "approve", code: "K7QF", note: null, always: true }],
    ["always K7QF", false, { verdict: "approve", code: "K7QF", note: null, always: true }],
    ["always K7QF staging is fine", false, { verdict: "approve", code: "K7QF", note: "staging is fine", always: true }],
    ["always", true, { verdict: "approve", note: null, always: true }],
    ["✅ always", true, { verdict: "approve", note: null, always: true }],
    ["yes always", true, { verdict: "approve", note: null, always: true }],
    ["always, it is safe", true, { verdict: "approve", note: "it is safe", always: true }],
  ] as const)("%j (in reply: %s) is ✅ always", (text, inReply, expected) => {
    expect(parseAnswer(text, inReply)).toEqual(expected);
  });

  it.each([
    ["✅ always check the logs first", true, { verdict: "approve", note: "always check the logs first" }],
    ["approve K7QF always check the logs", false, { verdict: "approve", code: "K7QF", note: "always check the logs" }],
    ["approve K7QF", false, { verdict: "approve", code: "K7QF", note: null }],
    ["❌ always", true, { verdict: "reject", note: "always" }],
    ["reject K7QF always", false, { verdict: "reject", code: "K7QF", note: "always" }],
  ] as const)("%j stays a plain answer", (text, inReply, expected) => {
    expect(parseAnswer(text, inReply)).toEqual(expected);
  });

  it.each(["always be closing", "always the same with you", "alwaysK7QF", "not always"])(
    "%j is not an answer",
    (text) => {
      expect(parseAnswer(text, false)).toBeNull();
    },
  );
});
