/**
 * One process at a time holds the WhatsApp socket (real Redis lease, real PostgreSQL session):
 * a second process stands by, and takes over with the session the first one left when the
 * first stops or dies — never while the first still holds its socket.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeCreds } from "../../src/bot/whatsapp/whatsapp-auth-state.js";
import { createWhatsAppChannel, type WhatsAppChannel } from "../../src/bot/whatsapp/whatsapp-channel.js";
import { whatsappLeaseKey } from "../../src/bot/whatsapp/whatsapp-setup.js";
import { createRedisLease } from "../../src/jobs/redis/lease.js";
import { createDatabase, type Database } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { createWhatsAppAuthStore, createWhatsAppMessageStore } from "../../src/store/whatsapp-auth-store.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { createFakeBaileys, linkedCreds, settle, type FakeSocket } from "../fakes/fake-baileys-socket.js";
import { DATABASE_URL, REDIS_URL, cleanupTestInstance, eventually, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("wal");
const prefix = uniqueName("q");
let db: Database;
const redisClients: Redis[] = [];
const channels: WhatsAppChannel[] = [];

beforeAll(async () => {
  db = createDatabase({ url: DATABASE_URL, schema, max: 6 });
  await migrate(db);
});
afterAll(async () => {
  for (const c of channels) await c.stop().catch(() => undefined);
  for (const r of redisClients) r.disconnect();
  await db.close();
  await cleanupTestInstance(schema, prefix);
});

/** One "process": its own Redis connection, lease and socket factory, sharing the database. */
function node(name: string, account: string, timeline: string[]) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  redisClients.push(redis);
  const wa = createFakeBaileys();
  const channel = createWhatsAppChannel({
    authStore: createWhatsAppAuthStore(db, { account }),
    messageStore: createWhatsAppMessageStore(db, { account }),
    logger: captureLogger().logger,
    makeSocket: (config) => {
      timeline.push(`${name} connects`);
      const sock = wa.makeSocket(config) as FakeSocket;
      const end = sock.end.bind(sock);
      sock.end = async (error) => {
        timeline.push(`${name} lets go`);
        await end(error);
      };
      return sock;
    },
    lease: createRedisLease(redis, { key: whatsappLeaseKey(prefix, account), ttlMs: 1_000, renewEveryMs: 300 }),
    policy: { leaseRetryMs: 100 },
  });
  channels.push(channel);
  return { redis, wa, channel };
}

describe("whatsapp socket lease", () => {
  it("a standby process takes over with the latest session when the holder dies", async () => {
    const account = "dies";
    await createWhatsAppAuthStore(db, { account }).saveCreds(serializeCreds(linkedCreds()));
    const timeline: string[] = [];
    const a = node("A", account, timeline);
    const b = node("B", account, timeline);
    await a.channel.start(async () => undefined);
    await eventually(() => a.wa.sockets.length === 1, "A's socket");
    a.wa.latest().open();
    await b.channel.start(async () => undefined);
    await new Promise((r) => setTimeout(r, 400));
    expect(b.wa.sockets).toHaveLength(0);
    expect(b.channel.health()).toMatchObject({ ok: true, detail: { leaseHeld: false, state: "standby" } });

    // A learns something the next holder needs, then dies without releasing anything.
    a.wa.latest().emit("creds.update", { nextPreKeyId: 777 });
    await settle();
    await eventually(
      async () =>
        JSON.parse((await createWhatsAppAuthStore(db, { account }).loadCreds()).current!).nextPreKeyId === 777,
      "A's creds saved",
    );
    a.redis.disconnect();

    await eventually(() => b.wa.sockets.length === 1, "B takes over", 5_000);
    expect(b.wa.latest().config.auth.creds.nextPreKeyId).toBe(777);
    expect(timeline).toEqual(["A connects", "A lets go", "B connects"]);
    b.wa.latest().open();
    expect(b.channel.health().detail).toMatchObject({ leaseHeld: true, connected: true });
  });

  it("a clean stop hands the socket over at once", async () => {
    const account = "stops";
    await createWhatsAppAuthStore(db, { account }).saveCreds(serializeCreds(linkedCreds()));
    const timeline: string[] = [];
    const a = node("A", account, timeline);
    const b = node("B", account, timeline);
    await a.channel.start(async () => undefined);
    await b.channel.start(async () => undefined);
    await eventually(() => a.wa.sockets.length === 1, "A's socket");
    const stoppedAt = Date.now();
    await a.channel.stop();
    await eventually(() => b.wa.sockets.length === 1, "B takes over", 2_000);
    expect(Date.now() - stoppedAt).toBeLessThan(900); // within a retry, not a lease expiry
    expect(timeline).toEqual(["A connects", "A lets go", "B connects"]);
  });
});
