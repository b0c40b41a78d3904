/**
 * Hostile input against signoff as a real process (private PostgreSQL and Redis): one poisoned
 * request among concurrent creates fails alone, and 500 fuzzed bodies over every route get no
 * 5xx. The fuzz is seeded: a failure names the seed and the cases, so it can be replayed.
 */
import { describe, expect, it } from "vitest";
import { runApiFuzz, runChatFuzz } from "../../bench/chaos-fuzz-run.js";
import { toRawJson } from "../../bench/chaos-fuzz.js";
import { call } from "../../bench/chaos-signoff.js";
import { usePrivateSignoff } from "../helpers/private-signoff.js";

const chaos = usePrivateSignoff();

const CONCURRENT = 40;
const POISONED = 17;

async function poisonBatch(batch: string, poison: Record<string, unknown>) {
  const bodies = Array.from({ length: CONCURRENT }, (_, i) =>
    i === POISONED ? { title: `${batch} ${i}`, gate: "medium", ...poison } : { title: `${batch} ${i}`, gate: "medium" },
  );
  const results = await Promise.all(
    bodies.map((body) => call(chaos.signoff.url, "POST", "/api/approvals", { raw: toRawJson(body) })),
  );
  const { rows } = await chaos.signoff.pool.query<{ id: string; title: string }>(
    "SELECT id, title FROM approvals WHERE title LIKE $1",
    [`${batch} %`],
  );
  return { results, stored: new Map(rows.map((r) => [r.id, r.title])) };
}

function expectOthersUnharmed(
  batch: string,
  results: Awaited<ReturnType<typeof poisonBatch>>["results"],
  stored: Map<string, string>,
) {
  results.forEach((r, i) => {
    if (i === POISONED) return;
    expect(r.status, `caller ${i} was failed by another caller's bad request: ${JSON.stringify(r.body)}`).toBe(201);
    expect(stored.get(r.body.id), `caller ${i}'s row`).toBe(`${batch} ${i}`);
  });
}

describe("hostile input", () => {
  it(`one request with a NUL byte in its title among ${CONCURRENT} concurrent creates fails alone, with a 400 naming title`, async () => {
    const { results, stored } = await poisonBatch("nul title", { title: "bad\u0000title" });
    expectOthersUnharmed("nul title", results, stored);
    const poisoned = results[POISONED]!;
    expect(poisoned.status, JSON.stringify(poisoned.body)).toBe(400);
    expect(poisoned.body.problems.map((p: { path: string }) => p.path)).toContain("title");
    expect(stored.size, "nothing of the bad request was written").toBe(CONCURRENT - 1);
  });

  it(`one request whose metadata PostgreSQL cannot store (NUL, lone surrogate) fails alone, never with a 5xx`, async () => {
    for (const [batch, metadata] of [
      ["nul metadata", { note: "\u0000" }],
      ["surrogate metadata", { note: "@@LONE_HIGH@@" }],
    ] as const) {
      const { results, stored } = await poisonBatch(batch, { metadata });
      expectOthersUnharmed(batch, results, stored);
      const poisoned = results[POISONED]!;
      expect(poisoned.status, `${batch}: ${JSON.stringify(poisoned.body)}`).toBeLessThan(500);
      if (poisoned.status === 400)
        expect(
          poisoned.body.problems.some((p: { path: string }) => p.path.startsWith("metadata")),
          JSON.stringify(poisoned.body),
        ).toBe(true);
    }
  });

  it("answers 500 fuzzed bodies over every route (NUL, lone surrogates, 5,000-deep metadata, huge numbers, wrong types, unknown fields) without a 5xx", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await call(chaos.signoff.url, "POST", "/api/approvals", {
            body: { title: `fuzz target ${i}`, gate: "medium" },
          })
        ).body.id as string,
      );
    const seed = 20_260_101;
    const report = await runApiFuzz(chaos.signoff.url, seed, 500, { ids, concurrency: 8 });
    expect(report.byClass["5xx"], `seed ${seed}: ${JSON.stringify(report.samples, null, 1)}`).toBe(0);
    expect(report.byClass.none, `seed ${seed}: ${JSON.stringify(report.samples, null, 1)}`).toBe(0);
    expect(report.unexplained4xx, "every 4xx carries an error code").toBe(0);
    // The fuzz must reach the handlers, not only the validator.
    expect(report.byClass["2xx"]).toBeGreaterThan(20);
    expect(report.byClass["4xx"]).toBeGreaterThan(200);
    expect(chaos.signoff.alive()).toBe(true);
    expect((await call(chaos.signoff.url, "GET", "/api/health", { token: null })).status).toBe(200);
  }, 45_000);

  it("answers 200 fuzzed web chat messages without a 5xx and never stays silent", async () => {
    const seed = 20_260_102;
    const report = await runChatFuzz(chaos.signoff.url, seed, 200, { replyMs: 3_000, stopAfterSilent: 3 });
    expect(report.fiveXX + report.noAnswer, `seed ${seed}: ${JSON.stringify(report.samples, null, 1)}`).toBe(0);
    expect(report.silent, `seed ${seed}: ${JSON.stringify(report.samples, null, 1)}`).toBe(0);
    expect(report.accepted).toBeGreaterThan(150);
    expect(chaos.signoff.alive()).toBe(true);
  }, 45_000);
});
