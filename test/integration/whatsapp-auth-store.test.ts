/**
 * The WhatsApp session in the real PostgreSQL: what is written comes back byte-identical after
 * a restart, null deletes, writes are one at a time in order, and a torn write falls back to
 * the last good copy instead of locking the account out.
 */
import { BufferJSON, proto, type SignalDataTypeMap } from "@whiskeysockets/baileys";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadWhatsAppAuthState, serializeCreds } from "../../src/bot/whatsapp/whatsapp-auth-state.js";
import { createDatabase, type Database } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import {
  createWhatsAppAuthStore,
  createWhatsAppMessageStore,
  type WhatsAppAuthStore,
} from "../../src/store/whatsapp-auth-store.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { linkedCreds } from "../fakes/fake-baileys-socket.js";
import { DATABASE_URL, cleanupTestInstance, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("wa");
const open: Database[] = [];
const connect = () => {
  const db = createDatabase({ url: DATABASE_URL, schema, max: 4 });
  open.push(db);
  return db;
};
let db: Database;
let raw: pg.Client;

beforeAll(async () => {
  db = connect();
  await migrate(db);
  raw = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
  await raw.connect();
});
afterAll(async () => {
  await raw.end();
  for (const d of open) await d.close().catch(() => undefined);
  await cleanupTestInstance(schema, uniqueName("none"));
});

const logger = () => captureLogger().logger;
const noWait = { retryDelaysMs: [], sleep: async () => undefined };

function sampleKeys() {
  return {
    "pre-key": { "1": { public: Buffer.from("a1".repeat(16), "hex"), private: Buffer.from("b2".repeat(16), "hex") } },
    session: { "64211234567.0": new Uint8Array([0, 1, 2, 250, 255]) },
    "sender-key": { "120363@g.us::64211234567::0": Buffer.from([9, 8, 7]) },
    "app-state-sync-key": {
      AAAAAA: proto.Message.AppStateSyncKeyData.fromObject({
        keyData: Buffer.from("secret-key-data"),
        fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0, 1] },
        timestamp: 1700000000,
      }),
    },
    "lid-mapping": { "64211234567": "99887766", "99887766_reverse": "64211234567" },
    "device-list": { "64211234567": ["0", "12"] },
    tctoken: { "64211234567@s.whatsapp.net": { token: Buffer.from("tok"), timestamp: "1700000000" } },
  } satisfies { [T in keyof SignalDataTypeMap]?: Record<string, SignalDataTypeMap[T]> };
}

const json = (v: unknown) => JSON.stringify(v, BufferJSON.replacer);

describe("whatsapp session in PostgreSQL", () => {
  it("reads back creds and every kind of key byte-identical after a restart", async () => {
    const store = createWhatsAppAuthStore(db, { account: "roundtrip" });
    const auth = await loadWhatsAppAuthState({ store, logger: logger() });
    expect(auth.linked).toBe(false);
    auth.state.creds = linkedCreds();
    const written = serializeCreds(auth.state.creds);
    await auth.saveCreds();
    const keys = sampleKeys();
    await auth.state.keys.set(keys);
    await auth.flush();

    // A restart: a new pool, a new auth state, nothing shared in memory.
    const again = await loadWhatsAppAuthState({
      store: createWhatsAppAuthStore(connect(), { account: "roundtrip" }),
      logger: logger(),
    });
    expect(again.linked).toBe(true);
    expect(serializeCreds(again.state.creds)).toBe(written);
    expect(Buffer.compare(again.state.creds.noiseKey.private, auth.state.creds.noiseKey.private)).toBe(0);
    const { rows } = await raw.query("SELECT creds FROM whatsapp_auth_creds WHERE account = 'roundtrip'");
    expect(rows[0].creds).toBe(written);

    for (const [type, entries] of Object.entries(keys) as Array<[keyof SignalDataTypeMap, Record<string, unknown>]>) {
      const got = await again.state.keys.get(type, Object.keys(entries));
      expect(Object.keys(got).sort(), type).toEqual(Object.keys(entries).sort());
      for (const [id, value] of Object.entries(entries)) expect(json(got[id]), `${type}/${id}`).toBe(json(value));
    }
    const session = (await again.state.keys.get("session", ["64211234567.0"]))["64211234567.0"]!;
    expect([...session]).toEqual([0, 1, 2, 250, 255]);
    const syncKey = (await again.state.keys.get("app-state-sync-key", ["AAAAAA"])).AAAAAA!;
    expect(syncKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(Buffer.from(syncKey.keyData!).toString()).toBe("secret-key-data");
  });

  it("deletes a key set to null", async () => {
    const store = createWhatsAppAuthStore(db, { account: "nulls" });
    const auth = await loadWhatsAppAuthState({ store, logger: logger() });
    await auth.state.keys.set({
      "pre-key": {
        "1": { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) },
        "2": { public: Buffer.alloc(32, 3), private: Buffer.alloc(32, 4) },
      },
    });
    await auth.state.keys.set({ "pre-key": { "1": null }, session: { never: null } });
    expect(Object.keys(await auth.state.keys.get("pre-key", ["1", "2"]))).toEqual(["2"]);
    const { rows } = await raw.query("SELECT id FROM whatsapp_auth_keys WHERE account = 'nulls' ORDER BY id");
    expect(rows.map((r) => r.id)).toEqual(["2"]);
  });

  it("writes one at a time, in the order of the calls, and reads what it wrote", async () => {
    const real = createWhatsAppAuthStore(db, { account: "order" });
    let inFlight = 0;
    let maxInFlight = 0;
    const calls: string[] = [];
    const track =
      <A extends unknown[]>(name: string, fn: (...a: A) => Promise<void>) =>
      async (...a: A) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        calls.push(name);
        try {
          await new Promise((r) => setTimeout(r, 2)); // widen the window a race would need
          await fn(...a);
        } finally {
          inFlight--;
        }
      };
    const store: WhatsAppAuthStore = {
      ...real,
      saveCreds: track("creds", real.saveCreds),
      setKeys: track("keys", real.setKeys),
    };
    const auth = await loadWhatsAppAuthState({ store, logger: logger() });
    auth.state.creds = linkedCreds();
    const pending: Array<Promise<void>> = [];
    for (let i = 1; i <= 20; i++) {
      auth.state.creds.nextPreKeyId = i;
      pending.push(auth.saveCreds());
      pending.push(
        Promise.resolve(
          auth.state.keys.set({
            "pre-key": { [String(i)]: { public: Buffer.alloc(32, i), private: Buffer.alloc(32, i) } },
          }),
        ),
      );
      if (i % 5 === 0) pending.push(Promise.resolve(auth.state.keys.set({ "pre-key": { [String(i - 1)]: null } })));
    }
    // A read issued now waits for the writes queued before it.
    const read = await auth.state.keys.get("pre-key", ["20", "19"]);
    expect(Object.keys(read)).toEqual(["20"]);
    await Promise.all(pending);
    expect(maxInFlight).toBe(1);
    expect(calls[0]).toBe("creds");
    expect(calls.filter((c) => c === "keys")).toHaveLength(24);
    const stored = JSON.parse((await real.loadCreds()).current!);
    expect(stored.nextPreKeyId).toBe(20);
  });

  it("falls back to the last good creds when the newest write is torn", async () => {
    const store = createWhatsAppAuthStore(db, { account: "torn" });
    const a = { ...linkedCreds(), nextPreKeyId: 101 };
    const b = { ...a, nextPreKeyId: 102 };
    await store.saveCreds(serializeCreds(a));
    await store.saveCreds(serializeCreds(b));
    // The newest copy is cut short, as by a write that never finished.
    await raw.query("UPDATE whatsapp_auth_creds SET creds = left(creds, 120) WHERE account = 'torn'");
    expect(await store.loadCreds()).toMatchObject({ current: null, currentDamaged: true, previous: serializeCreds(a) });

    // A write after the damage must not make the damaged copy the last good one.
    const c = { ...a, nextPreKeyId: 103 };
    await store.saveCreds(serializeCreds(c));
    await raw.query("UPDATE whatsapp_auth_creds SET creds = creds || 'garbage' WHERE account = 'torn'");
    const log = captureLogger();
    const auth = await loadWhatsAppAuthState({ store, logger: log.logger });
    expect(auth.linked).toBe(true);
    expect(serializeCreds(auth.state.creds)).toBe(serializeCreds(a));
    expect(log.lines.some((l) => l.level === "warn" && /last good copy/.test(l.msg ?? ""))).toBe(true);
    // …and the newest copy is repaired from it.
    expect((await store.loadCreds()).current).toBe(serializeCreds(a));
  });

  it("falls back when the newest creds are intact text but not usable creds", async () => {
    const store = createWhatsAppAuthStore(db, { account: "unusable" });
    await store.saveCreds(serializeCreds(linkedCreds("64200000009")));
    await store.saveCreds(JSON.stringify({ registrationId: "nope" }));
    const auth = await loadWhatsAppAuthState({ store, logger: logger(), ...noWait });
    expect(auth.state.creds.me?.id).toBe("64200000009:7@s.whatsapp.net");
  });

  it("starts unlinked when nothing usable is stored, and clear forgets everything", async () => {
    const store = createWhatsAppAuthStore(db, { account: "clear" });
    const auth = await loadWhatsAppAuthState({ store, logger: logger() });
    auth.state.creds = linkedCreds();
    await auth.saveCreds();
    await auth.state.keys.set({ session: { x: new Uint8Array([1]) } });
    await auth.clear();
    expect(auth.linked).toBe(false);
    expect(await store.loadCreds()).toMatchObject({ current: null, previous: null });
    expect((await store.getKeys("session", ["x"])).size).toBe(0);
    expect((await loadWhatsAppAuthState({ store, logger: logger() })).linked).toBe(false);
  });
});

describe("whatsapp sent messages", () => {
  it("keeps messages for retries, finds follow-ups, and stays bounded", async () => {
    const sent = createWhatsAppMessageStore(db, { account: "sent" });
    const message = Buffer.from(proto.Message.encode({ conversation: "card" }).finish());
    for (let i = 0; i < 5; i++)
      await sent.save({
        messageId: `M${i}`,
        chatId: "64211234567@s.whatsapp.net",
        message,
        ...(i === 4 ? { followUpKey: "fk" } : {}),
      });
    const got = await sent.get("M1");
    expect(proto.Message.decode(got!.message).conversation).toBe("card");
    expect(await sent.hasFollowUp("fk")).toBe(true);
    expect(await sent.hasFollowUp("other")).toBe(false);
    await raw.query(
      "UPDATE whatsapp_sent_messages SET created_at = now() - interval '30 days' WHERE message_id = 'M0'",
    );
    expect(await sent.prune({ olderThan: new Date(Date.now() - 7 * 86_400_000), keep: 3 })).toBe(2);
    expect(await sent.get("M0")).toBeNull();
    const left = await raw.query("SELECT count(*)::int AS n FROM whatsapp_sent_messages WHERE account = 'sent'");
    expect(left.rows[0].n).toBe(3);
  });
});
