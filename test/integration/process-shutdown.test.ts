/**
 * `npm start` as a real process, shut down while a callback receiver holds the request open and
 * never answers: SIGTERM still exits 0 within 10 s (the callback timeout alone is 10 s, longer
 * than the forced exit), the cut-off delivery stays pending with no attempt counted, and the next
 * start delivers it.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startScriptedReceiver } from "../helpers/scripted-receiver.js";
import { startSignoffProcess, writeProcessConfig } from "../helpers/signoff-process.js";
import { DATABASE_URL, api, cleanupTestInstance, eventually, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("t");
const prefix = uniqueName("q");
afterAll(() => cleanupTestInstance(schema, prefix));

async function deliveryOf(approvalId: string): Promise<{ id: string; status: string; attempts: number } | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query("SELECT id::text, status, attempts FROM deliveries WHERE subject_id = $1", [approvalId]))
      .rows[0];
  } finally {
    await client.end();
  }
}

describe("SIGTERM with a receiver that never answers", () => {
  it("exits 0 within 10 s; the delivery stays pending and the next start delivers it", async () => {
    const receiver = await startScriptedReceiver((n) => (n === 1 ? "hang" : 200));
    const configFile = writeProcessConfig({ callbackTimeoutMs: 10_000 });
    const first = startSignoffProcess({ schema, prefix, configFile });
    try {
      const url = await first.started;
      const approval = (
        await api({ url }, "POST", "/api/approvals", {
          title: "hanging receiver",
          gate: "auto",
          callbackUrl: receiver.url,
        })
      ).body;
      await eventually(() => receiver.hangingCount() === 1, "the receiver holding the callback open");

      const t0 = Date.now();
      first.child.kill("SIGTERM");
      const { code } = await first.exited;
      const took = Date.now() - t0;
      process.stdout.write(`SIGTERM to exit: ${took} ms\n`);
      expect(code, first.output()).toBe(0);
      expect(took).toBeLessThan(10_000);
      expect(first.output()).toContain('"shutting down"');
      const delivery = await deliveryOf(approval.id);
      expect(delivery).toMatchObject({ status: "pending", attempts: 0 });

      const second = startSignoffProcess({ schema, prefix, configFile });
      try {
        await second.started;
        await eventually(() => receiver.successes().length === 1, "the callback delivered after the restart", 15_000);
        expect(receiver.received.map((r) => r.headers["x-signoff-delivery"])).toEqual([delivery!.id, delivery!.id]);
      } finally {
        second.child.kill("SIGTERM");
        await second.exited;
      }
    } finally {
      first.child.kill("SIGKILL");
      await receiver.close();
    }
  }, 60_000);
});
