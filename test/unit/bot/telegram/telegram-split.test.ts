import { describe, expect, it } from "vitest";
import { splitTelegramText, TELEGRAM_TEXT_LIMIT } from "../../../../src/bot/telegram/telegram-split.js";

describe("splitTelegramText", () => {
  it("leaves a text that fits alone", () => {
    expect(splitTelegramText("<b>hi</b> there")).toEqual(["<b>hi</b> there"]);
  });

  it("splits a long text at line breaks into parts that fit, losing nothing", () => {
    const lines = Array.from({ length: 900 }, (_, i) => `line ${i} &amp; more`);
    const text = lines.join("\n");
    const parts = splitTelegramText(text);
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(parts.join("\n")).toBe(text);
  });

  it("never cuts inside an entity and closes/reopens tags across a cut", () => {
    const text = `<pre>${"x &amp; y ".repeat(1200)}</pre>`;
    const parts = splitTelegramText(text, 500);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(500);
      expect(part.startsWith("<pre>")).toBe(true);
      expect(part.endsWith("</pre>")).toBe(true);
      expect(part.replace(/&amp;/g, "")).not.toMatch(/&[a-z]*$/m);
      expect(part).not.toMatch(/&am(?!p;)|&a(?!mp;)/);
    }
    const inner = parts
      .map((p) => p.slice(5, -6))
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
    expect(inner).toBe(text.slice(5, -6).replace(/\s+/g, " ").trim());
  });
});
