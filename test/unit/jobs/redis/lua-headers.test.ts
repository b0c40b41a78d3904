/**
 * Every Lua script in src/ is its own file whose header names each KEYS[i] and ARGV[i] the body
 * uses, so a reader (or redis-cli) never has to guess what a script takes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = new URL("../../../../src/", import.meta.url).pathname;
const scripts = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith(".lua")).sort();
const indexes = (text: string, name: "KEYS" | "ARGV") =>
  [...new Set([...text.matchAll(new RegExp(`\\b${name}\\[(\\d+)\\]`, "g"))].map((m) => Number(m[1])))].sort();

describe("Lua scripts", () => {
  it("are found (the lease, the rate limiter and the outbox have some)", () => {
    expect(scripts.length).toBeGreaterThanOrEqual(7);
  });

  it.each(scripts)("%s names every KEYS and ARGV it uses in its header", (file) => {
    const lua = readFileSync(join(SRC, file), "utf8");
    const match = /^--\[\[([\s\S]*?)\]\]([\s\S]*)$/.exec(lua);
    expect(match, "the file starts with a --[[ ]] header").not.toBeNull();
    const [, header = "", body = ""] = match ?? [];
    for (const name of ["KEYS", "ARGV"] as const) {
      const named = indexes(header, name);
      for (const i of indexes(body, name)) expect(named, `${name}[${i}] is used but not named`).toContain(i);
    }
    // Lines like "KEYS[2]  what it holds": one per parameter, with a description.
    for (const line of header.split("\n").filter((l) => /^\s*(KEYS|ARGV)\[\d+\]/.test(l)))
      expect(line.trim(), "a parameter line says what it is").toMatch(/^(KEYS|ARGV)\[\d+\]\s+\S/);
  });
});
