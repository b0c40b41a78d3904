import { describe, expect, it } from "vitest";
import { createOnceLogger } from "../../../src/lib/log-once.js";

describe("createOnceLogger", () => {
  it("prints a repeated failure once per interval and counts the rest", () => {
    const lines: Array<{ o: Record<string, unknown>; m: string | undefined }> = [];
    let t = 0;
    const log = createOnceLogger(
      { warn: (o, m) => lines.push({ o: o as Record<string, unknown>, m }) },
      1_000,
      () => t,
    );
    for (let i = 0; i < 50; i++) log.warn("redis", { err: "ECONNREFUSED" }, "redis error");
    log.warn("postgres", { err: "down" }, "postgres error");
    expect(lines.map((l) => l.m)).toEqual(["redis error", "postgres error"]);
    t = 1_000;
    log.warn("redis", { err: "ECONNREFUSED" }, "redis error");
    expect(lines).toHaveLength(3);
    expect(lines[2]!.o).toMatchObject({ repeatedSinceLastLine: 49 });
  });
});
