/** `rules` and `revoke rule R12` as typed in chat, and the texts that are neither. */
import { describe, expect, it } from "vitest";
import { parseRuleCommand } from "../../../../src/handlers/chatops/rule-commands.js";

describe("parseRuleCommand", () => {
  it.each([
    "rules",
    "Rules",
    "/rules",
    "/rules@signoff_bot",
    "list rules",
    "show standing rules",
    "rules?",
    "all rules",
  ])("%j lists the rules", (text) => {
    expect(parseRuleCommand(text)).toEqual({ kind: "rules" });
  });

  it.each([
    ["revoke rule R12", "R12"],
    ["Revoke rule r12", "R12"],
    ["revoke R12", "R12"],
    ["revoke 12", "R12"],
    ["/revoke #12", "R12"],
    ["revoke the standing rule R3.", "R3"],
    ["revoke  rule   R12", "R12"],
  ])("%j revokes %s", (text, id) => {
    expect(parseRuleCommand(text)).toEqual({ kind: "revoke", id });
  });

  it.each(["revoke rule", "revoke", "revoke rule K7QF", "revoke rule R0"])("%j is a revoke without a rule", (text) => {
    expect(parseRuleCommand(text)).toEqual({ kind: "revoke", id: null });
  });

  it.each(["rule", "rules are rules", "what are the rules for deploys", "don't revoke rule R12", "status", ""])(
    "%j is not a rule command",
    (text) => {
      expect(parseRuleCommand(text)).toBeNull();
    },
  );
});
