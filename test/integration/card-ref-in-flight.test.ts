/**
 * A card's reference is written a moment after the card is on screen. A reply or reaction that
 * quick looks it up while the write is still on its way: the lookup waits for that write (in
 * the real PostgreSQL, with the insert held up by a lock) instead of finding nothing.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApprovalStore } from "../../src/store/approval-store.js";
import { type ChatStore, createChatStore } from "../../src/store/chat-store.js";
import { type Database, createDatabase } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { approvalFixture } from "../helpers/approval-fixture.js";
import { DATABASE_URL, eventually, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("cardref");
let db: Database;
let chat: ChatStore;
let raw: pg.Client;
const approval = approvalFixture();

beforeAll(async () => {
  db = createDatabase({ url: DATABASE_URL, schema, max: 4 });
  await migrate(db);
  await createApprovalStore(db).insert(approval, [], null);
  chat = createChatStore(db);
  raw = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
  await raw.connect();
});
afterAll(async () => {
  await raw?.end();
  await db?.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await db?.close();
});

/** Whether an insert is waiting for the lock `raw` holds on this schema's table. */
async function insertIsBlocked(): Promise<boolean> {
  const { rows } = await db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'card_refs'::regclass AND NOT granted",
  );
  return rows[0]!.n > 0;
}

describe("a card reference on its way", () => {
  it("is found by a lookup made while its insert waits", async () => {
    const ref = { channel: "webchat" as const, chatId: "adam", messageId: "w-17" };
    // Reads pass an EXCLUSIVE lock; the insert does not.
    await raw.query("BEGIN");
    await raw.query("LOCK TABLE card_refs IN EXCLUSIVE MODE");
    const saved = chat.saveCardRef({ ...ref, approvalId: approval.id, kind: "card" });
    let found: Awaited<ReturnType<ChatStore["findCardRef"]>> | undefined;
    let lookup: Promise<void>;
    try {
      await eventually(insertIsBlocked, "the insert to wait for the lock");
      lookup = chat.findCardRef(ref).then((r) => {
        found = r;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(found, "the lookup answered before the write it waits for").toBeUndefined();
    } finally {
      await raw.query("COMMIT");
    }
    await Promise.all([saved, lookup]);
    expect(found).toEqual({ ...ref, approvalId: approval.id, kind: "card" });
  });

  it("a message that is no card finds nothing", async () => {
    expect(await chat.findCardRef({ channel: "webchat", chatId: "adam", messageId: "w-18" })).toBeNull();
  });

  it("a lookup waiting for a write that fails finds nothing, and does not fail", async () => {
    const ref = { channel: "webchat" as const, chatId: "adam", messageId: "w-19" };
    const missing = "00000000-0000-4000-8000-000000000099";
    await raw.query("BEGIN");
    await raw.query("LOCK TABLE card_refs IN EXCLUSIVE MODE");
    const saved = chat.saveCardRef({ ...ref, approvalId: missing, kind: "card" });
    saved.catch(() => undefined);
    let found: Promise<unknown>;
    try {
      await eventually(insertIsBlocked, "the insert to wait for the lock");
      found = chat.findCardRef(ref);
    } finally {
      await raw.query("COMMIT");
    }
    await expect(saved).rejects.toThrow(/foreign key/);
    expect(await found).toBeNull();
  });
});
