/**
 * Redis unreachable (a private server, stopped for real): health says so within 2 s and
 * recovers on its own, creates are still acknowledged within 5 s and committed to PostgreSQL,
 * their timers follow when Redis returns, and a `low` window never approves what nobody saw.
 * signoff runs as a real process.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadRows } from "../../bench/chaos-crash.js";
import { call, type SignoffProcess, sleep, startSignoffOnTelegram } from "../../bench/chaos-signoff.js";
import { startFakeBotApi } from "../fakes/fake-bot-api.js";
import { usePrivateSignoff } from "../helpers/private-signoff.js";

const chaos = usePrivateSignoff();

afterEach(async () => {
  if (!chaos.services.redis.running()) await chaos.services.redis.start();
});

const health = () => call(chaos.signoff.url, "GET", "/api/health", { token: null, timeoutMs: 5_000 });

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | null | undefined | false>,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

describe("Redis down", () => {
  it("answers /api/health with 503 naming redis within 2 s while down, and 200 again on its own", async () => {
    expect((await health()).status).toBe(200);
    await chaos.services.redis.stop();
    for (let i = 0; i < 3; i++) {
      const down = await health();
      expect(down.status, down.error ?? JSON.stringify(down.body)).toBe(503);
      expect(down.ms, "health answers within 2 s").toBeLessThan(2_000);
      expect(down.body.down).toContain("redis");
    }
    await chaos.services.redis.start();
    await waitFor("health 200 after Redis returned", 15_000, async () => (await health()).status === 200);
  }, 45_000);

  it("acknowledges creates within 5 s while down, stores them, and fires their deadlines once Redis is back", async () => {
    await chaos.services.redis.stop();
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(chaos.signoff.url, "POST", "/api/approvals", {
          body: { title: `redis down ${i}`, gate: "medium", deadlineSeconds: 3, onTimeout: "deny" },
          timeoutMs: 8_000,
        }),
      ),
    );
    for (const r of created) {
      expect(r.status, r.error ?? JSON.stringify(r.body)).toBe(201);
      expect(r.ms, "a create answers within 5 s").toBeLessThan(5_000);
    }
    const ids = created.map((r) => r.body.id as string);
    expect((await loadRows(chaos.signoff, ids)).length, "every 201 is in PostgreSQL").toBe(ids.length);

    await sleep(1_000);
    await chaos.services.redis.start();
    const rows = await waitFor("the deadlines to fire after Redis returned", 25_000, async () => {
      const r = await loadRows(chaos.signoff, ids);
      return r.every((row) => row.status !== "pending") && r;
    });
    for (const row of rows) {
      expect(row.decided_by).toBe("timeout");
      expect(row.decided_entries, "decided exactly once").toBe(1);
    }
  }, 45_000);

  it("never approves a low request created while down by its window unless its notice was delivered (web chat, delivered in-process)", async () => {
    await chaos.services.redis.stop();
    const ids = await createLow(chaos.signoff, 4);
    await sleep(3_000);
    await chaos.services.redis.start();
    for (const row of await settled(chaos.signoff, ids)) {
      if (row.decided_by === "objection-window") {
        expect(row.notice_delivered_at, `${row.id} approved by its window without a delivered notice`).not.toBeNull();
        const seenAt = new Date(row.notice_delivered_at!).getTime();
        expect(row.decided_at!.getTime(), "the window counts from the delivered notice").toBeGreaterThanOrEqual(
          seenAt + 1_000 - 50,
        );
      } else {
        expect(row.effective_gate, `${row.id}: ${row.status} by ${row.decided_by}`).toBe("medium");
        expect(row.escalated_entries, "the escalation is audited").toBe(1);
      }
    }
  }, 45_000);

  it("turns a low request into medium when its notice could not reach anyone while Redis was down (Telegram, sent through Redis)", async () => {
    const telegram = await startFakeBotApi();
    const viaTelegram = await startSignoffOnTelegram(chaos.services, telegram);
    try {
      await chaos.services.redis.stop();
      const ids = await createLow(viaTelegram, 3);
      await sleep(3_000); // longer than the window: nobody could have objected
      await chaos.services.redis.start();
      for (const row of await settled(viaTelegram, ids)) {
        expect(row.decided_by, `${row.id} was approved by a window whose notice nobody saw`).not.toBe(
          "objection-window",
        );
        expect(row.effective_gate).toBe("medium");
        expect(row.status).toBe("pending"); // a card now, waiting for a person until the default deadline
        expect(row.escalated_entries, "the escalation is audited").toBe(1);
      }
      const titles = await waitFor("the cards on Telegram", 20_000, async () => {
        const texts = telegram
          .sent(1001)
          .map((m) => m.text)
          .join("\n");
        return ["unseen 0", "unseen 1", "unseen 2"].every((t) => texts.includes(t)) && texts;
      });
      expect(titles).toContain("unseen 0");
    } finally {
      await viaTelegram.remove();
      await telegram.close();
    }
  }, 50_000);
});

async function createLow(target: SignoffProcess, count: number): Promise<string[]> {
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      call(target.url, "POST", "/api/approvals", {
        body: { title: `unseen ${i}`, gate: "low", objectionSeconds: 1 },
        timeoutMs: 8_000,
      }),
    ),
  );
  for (const r of created) {
    expect(r.status, r.error ?? JSON.stringify(r.body)).toBe(201);
    expect(r.ms).toBeLessThan(5_000);
  }
  return created.map((r) => r.body.id as string);
}

/** Rows once each is decided or escalated to medium. */
function settled(target: SignoffProcess, ids: string[]) {
  return waitFor("each low request to be decided or escalated", 20_000, async () => {
    const rows = await loadRows(target, ids);
    return (
      rows.length === ids.length &&
      rows.every((row) => row.status !== "pending" || row.effective_gate === "medium") &&
      rows
    );
  });
}
