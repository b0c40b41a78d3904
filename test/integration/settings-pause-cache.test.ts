/**
 * The cached pause switch on the real PostgreSQL: when the cache lapses under load, the callers
 * of that moment share one read (a failed one fails them all, and the next call reads again); a
 * pause flipped here while a read is on its way applies at once (the old value that read brings
 * back is not cached over it); losing the race to pause still leaves this process paused.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Database, createDatabase } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { createSettingsStore } from "../../src/store/settings-store.js";
import { DATABASE_URL, uniqueName } from "../helpers/harness.js";

const PAUSE_READ = "SELECT value FROM settings WHERE key = 'pause'";
let db: Database;

beforeAll(async () => {
  db = createDatabase({ url: DATABASE_URL, schema: uniqueName("pausecache"), max: 4 });
  await migrate(db);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await db?.pool.query(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`).catch(() => undefined);
  await db?.close();
});

/**
 * Watches the pool's real queries; `hold` (when set) delays the result of each pause read, and
 * `failNext` makes the next one fail after it ran.
 */
function watchPauseReads() {
  const seen = { reads: 0, hold: null as Promise<void> | null, failNext: false };
  const query = db.pool.query.bind(db.pool) as (...args: unknown[]) => Promise<unknown>;
  vi.spyOn(db.pool, "query").mockImplementation((async (...args: unknown[]) => {
    const result = await query(...args);
    if (args[0] === PAUSE_READ) {
      seen.reads++;
      if (seen.hold) await seen.hold;
      if (seen.failNext) {
        seen.failNext = false;
        throw new Error("connection reset");
      }
    }
    return result;
  }) as never);
  return seen;
}

describe("the pause cache", () => {
  it("200 callers at a lapsed cache send one read", async () => {
    const settings = createSettingsStore(db, { cacheMs: 1 });
    const seen = watchPauseReads();
    const answers = await Promise.all(Array.from({ length: 200 }, () => settings.isPaused()));
    expect(answers.every((a) => a === false)).toBe(true);
    expect(seen.reads).toBe(1);
    vi.restoreAllMocks();
  });

  it("a pause set while a read is on its way is what the next caller sees", async () => {
    const settings = createSettingsStore(db, { cacheMs: 60_000 });
    const seen = watchPauseReads();
    let release!: () => void;
    seen.hold = new Promise((r) => {
      release = r;
    });
    const before = settings.isPaused();
    await vi.waitFor(() => expect(seen.reads).toBe(1));
    await settings.setPaused(true, "adam");
    release();
    expect(await before, "the caller already waiting gets the value written meanwhile").toBe(true);
    expect(await settings.isPaused()).toBe(true);
    vi.restoreAllMocks();
    await settings.setPaused(false, "adam");
  });

  it("a failed read fails every caller sharing it, and the next call reads again", async () => {
    const settings = createSettingsStore(db, { cacheMs: 60_000 });
    const seen = watchPauseReads();
    seen.failNext = true;
    const shared = await Promise.allSettled(Array.from({ length: 5 }, () => settings.isPaused()));
    expect(shared.map((r) => r.status)).toEqual(Array(5).fill("rejected"));
    expect(await settings.isPaused()).toBe(false);
    expect(seen.reads).toBe(2);
    vi.restoreAllMocks();
  });

  it("a pause another process set first still leaves this one paused at once", async () => {
    const here = createSettingsStore(db, { cacheMs: 60_000 });
    const elsewhere = createSettingsStore(db);
    expect(await here.isPaused()).toBe(false);
    await elsewhere.setPaused(true, "eve");
    expect(await here.pauseIfRunning("breaker")).toBe(false);
    expect(await here.isPaused()).toBe(true);
    await elsewhere.setPaused(false, "eve");
  });
});
