/** Card button payloads with "✅ Always": made and read back, within Telegram's 64 bytes. */
import { describe, expect, it } from "vitest";
import { buttonData, parseButtonData } from "../../../../src/handlers/approvals/card-presenter.js";

const ID = "7f0c2a8e-4b1d-4c3e-9a5f-0d6e1b2c3a4f";

describe("card buttons", () => {
  it.each(["approve", "reject", "modify", "always"] as const)("%s round-trips", (answer) => {
    const data = buttonData(ID, answer);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    expect(parseButtonData(data)).toEqual({ approvalId: ID, verdict: answer });
  });
  it("always is its own letter, not approve's", () => {
    expect(buttonData(ID, "always")).toBe(`ap:${ID}:s`);
  });
  it.each([`ap:${ID}:x`, `ap:${ID}:`, `ap:${ID}:as`, "ap:not-a-uuid:s", ""])("%j is not a button", (data) => {
    expect(parseButtonData(data)).toBeNull();
  });
});
