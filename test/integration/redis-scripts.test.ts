/**
 * The Lua loader against the real Redis: a defined script runs directly, in a pipeline and in
 * MULTI; defining again is free; a name taken by another script, a file without a header, or a
 * header that disagrees with the key count fail at once; and on a private server that forgot
 * every script (as after a Redis restart) the same commands still run.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";
import { defineScripts } from "../../src/jobs/redis/scripts.js";
import { startPrivateRedis } from "../helpers/private-services.js";
import { REDIS_URL } from "../helpers/harness.js";

/** Test scripts: they add ARGV[1] to the counter in KEYS[1] and return the new value. */
interface Commands {
  signoffTestAdd(key: string, by: number): Promise<number>;
}

/** A pipeline or MULTI with the test command queued on it. */
interface Batch {
  signoffTestAdd(key: string, by: number): unknown;
  exec(): Promise<unknown>;
}

const dir = mkdtempSync(join(tmpdir(), "signoff-lua-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return pathToFileURL(path);
};
const ADD = file(
  "add.lua",
  `--[[
  KEYS[1]  a counter
  ARGV[1]  how much to add
  Returns  the new value
]]
return redis.call('INCRBY', KEYS[1], ARGV[1])
`,
);
const script = { signoffTestAdd: { file: ADD, numberOfKeys: 1 } };

/** A connection that never connects: defining commands needs no server. */
const idle: Redis[] = [];
const unconnected = () => {
  const r = new Redis(REDIS_URL, { lazyConnect: true });
  idle.push(r);
  return r;
};

const prefix = `test-scripts-${randomUUID()}`;
let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
  for (const r of idle) r.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe("defineScripts", () => {
  it("runs a script directly, in a pipeline and in MULTI, and defining it again changes nothing", async () => {
    const r = defineScripts<Commands>(redis, script);
    expect(defineScripts<Commands>(redis, script)).toBe(r);
    const key = `${prefix}:counter`;
    expect(await r.signoffTestAdd(key, 2)).toBe(2);
    const pipeline = r.pipeline() as unknown as Batch;
    pipeline.signoffTestAdd(key, 10);
    pipeline.signoffTestAdd(key, 100);
    expect(await pipeline.exec()).toEqual([
      [null, 12],
      [null, 112],
    ]);
    const multi = r.multi() as unknown as Batch;
    multi.signoffTestAdd(key, 1);
    expect(await multi.exec()).toEqual([[null, 113]]);
  });

  it("refuses a second script under a name already taken on the connection", () => {
    const other = file("other.lua", "--[[\n  KEYS[1]  a counter\n  ARGV[1]  ignored\n]]\nreturn 0\n");
    defineScripts<Commands>(redis, script);
    expect(() => defineScripts<Commands>(redis, { signoffTestAdd: { file: other, numberOfKeys: 1 } })).toThrow(
      /already defined by another script/,
    );
  });

  it("refuses a script without a header, or whose header names another number of KEYS", () => {
    const bare = file("bare.lua", "return redis.call('GET', KEYS[1])\n");
    expect(() =>
      defineScripts<Commands>(unconnected(), {
        signoffTestAdd: { file: bare, numberOfKeys: 1 },
      }),
    ).toThrow(/header naming its KEYS and ARGV/);
    expect(() =>
      defineScripts<Commands>(unconnected(), {
        signoffTestAdd: { file: ADD, numberOfKeys: 2 },
      }),
    ).toThrow(/names 1 KEYS, the command is defined with 2/);
  });

  it("still runs its commands after the server forgot every script (restart, SCRIPT FLUSH)", async () => {
    const server = await startPrivateRedis();
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    client.on("error", () => undefined);
    try {
      const r = defineScripts<Commands>(client, script);
      expect(await r.signoffTestAdd("counter", 1)).toBe(1);
      await server.command("SCRIPT", "FLUSH");
      expect(await r.signoffTestAdd("counter", 1), "the command after SCRIPT FLUSH").toBe(2);
      const pipeline = r.pipeline() as unknown as Batch;
      await server.command("SCRIPT", "FLUSH");
      pipeline.signoffTestAdd("counter", 1);
      expect(await pipeline.exec(), "a pipeline after SCRIPT FLUSH").toEqual([[null, 3]]);
    } finally {
      client.disconnect();
      await server.remove();
    }
  });
});
