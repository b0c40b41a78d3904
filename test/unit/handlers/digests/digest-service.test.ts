/**
 * The digest service with tiny fakes: a scheduled digest is claimed once per operator and slot;
 * when sending fails, the claim is released so the retry sends it (otherwise that morning's
 * digest would be lost for good); missed digests older than the grace are not sent late.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import { createDigestService, type DigestServiceDeps } from "../../../../src/handlers/digests/digest-service.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";

const directory = createOperatorDirectory(
  [{ name: "adam", roles: ["owner"], webchat: true, timezone: "Pacific/Auckland" }],
  "UTC",
  PLATFORMS,
);
// 08:00 in Auckland on 2026-11-23 (NZDT, UTC+13) is 19:00 UTC the day before.
const SLOT = new Date("2026-11-22T19:00:00Z");

function harness(options: { failSends?: number; now?: Date } = {}) {
  const claims = new Set<string>();
  const released: string[] = [];
  let failures = options.failSends ?? 0;
  let sent = 0;
  const deps: DigestServiceDeps = {
    queries: { digest: async () => ({ template: "digest", view: {} }) as never },
    digests: {
      claim: async (name, slot) => {
        const key = `${name}@${slot.toISOString()}`;
        if (claims.has(key)) return false;
        claims.add(key);
        return true;
      },
      release: async (name, slot) => {
        const key = `${name}@${slot.toISOString()}`;
        claims.delete(key);
        released.push(key);
      },
    },
    broadcaster: {
      toOperator: async () => {
        if (failures > 0) {
          failures--;
          throw new Error("outbox unreachable");
        }
        sent++;
        return 1;
      },
    },
    directory,
    schedules: new Map([["adam", "0 8 * * *"]]),
    graceMs: 3 * 3_600_000,
    now: () => options.now ?? new Date(SLOT.getTime() + 1_000),
    logger: { info: () => undefined, warn: () => undefined },
  };
  return { service: createDigestService(deps), released, sentCount: () => sent };
}

describe("scheduled digests", () => {
  it("go out once per slot however often the job runs", async () => {
    const h = harness();
    expect(await h.service.sendScheduled("adam", "schedule")).toBe("sent");
    expect(await h.service.sendScheduled("adam", "schedule")).toBe("already_sent");
    expect(await h.service.sendScheduled("adam", "catch-up")).toBe("already_sent");
    expect(h.sentCount()).toBe(1);
  });

  it("a failed send releases its claim, so the retry sends the digest", async () => {
    const h = harness({ failSends: 1 });
    await expect(h.service.sendScheduled("adam", "schedule")).rejects.toThrow(/unreachable/);
    expect(h.released).toEqual([`adam@${SLOT.toISOString()}`]);
    expect(await h.service.sendScheduled("adam", "schedule")).toBe("sent");
    expect(h.sentCount()).toBe(1);
  });

  it("a digest missed by more than the grace is not sent late", async () => {
    const h = harness({ now: new Date(SLOT.getTime() + 4 * 3_600_000) });
    expect(await h.service.sendScheduled("adam", "catch-up")).toBe("too_late");
    expect(h.sentCount()).toBe(0);
  });
});
