/**
 * signoff killed with SIGKILL while a callback is in flight: the restarted process sends it again
 * within 15 s of starting (BullMQ's default stall detection took 65–97 s), with the same delivery id.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startScriptedReceiver } from "../helpers/scripted-receiver.js";
import { startSignoffProcess, writeProcessConfig } from "../helpers/signoff-process.js";
import { api, cleanupTestInstance, eventually, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("t");
const prefix = uniqueName("q");
afterAll(() => cleanupTestInstance(schema, prefix));

describe("kill -9 during a callback", () => {
  it("the restarted process resumes the delivery within 15 s", async () => {
    const receiver = await startScriptedReceiver((n) => (n === 1 ? "hang" : 200));
    const configFile = writeProcessConfig({ callbackTimeoutMs: 30_000 });
    const first = startSignoffProcess({ schema, prefix, configFile });
    let second: ReturnType<typeof startSignoffProcess> | null = null;
    try {
      const url = await first.started;
      await api({ url }, "POST", "/api/approvals", {
        title: "crash mid-callback",
        gate: "auto",
        callbackUrl: receiver.url,
      });
      await eventually(() => receiver.hangingCount() === 1, "the callback in flight");
      first.child.kill("SIGKILL");
      expect((await first.exited).signal).toBe("SIGKILL");

      const restartedAt = Date.now();
      second = startSignoffProcess({ schema, prefix, configFile });
      await second.started;
      const startedAfter = Date.now() - restartedAt;
      const resent = await eventually(() => receiver.successes()[0], "the callback sent again", 30_000);
      const resumedAfter = resent.at - restartedAt;
      process.stdout.write(`restart: process up after ${startedAfter} ms, callback resent after ${resumedAfter} ms\n`);
      expect(resumedAfter).toBeLessThan(15_000);
      expect(receiver.received).toHaveLength(2);
      expect(receiver.received[1]!.headers["x-signoff-delivery"]).toBe(
        receiver.received[0]!.headers["x-signoff-delivery"],
      );
    } finally {
      first.child.kill("SIGKILL");
      if (second) {
        second.child.kill("SIGTERM");
        await second.exited;
      }
      await receiver.close();
    }
  }, 90_000);
});
