/**
 * The one way signoff runs Lua in Redis: each script is its own `.lua` file whose header comment
 * names its KEYS and ARGV, read once per process and defined on a connection with ioredis
 * `defineCommand`. ioredis then sends EVALSHA, falls back to EVAL when the server does not know
 * the script (a restarted or replaced Redis), and the command works in pipelines too.
 */
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/** One script: its file, and how many of its arguments are keys. */
export interface ScriptFile {
  /** The `.lua` file, e.g. `new URL("./lease-acquire.lua", import.meta.url)`. */
  file: URL;
  /**
   * How many KEYS the script takes; its header must name exactly KEYS[1] … KEYS[n]. Leave it out
   * for a script with optional keys: the caller then passes the count as the first argument.
   */
  numberOfKeys?: number;
}

/** Each file's text and the KEYS its header names, read on first use (files do not change while running). */
const sources = new Map<string, { lua: string; keys: Set<number> }>();
/** What each connection has defined, so defining again is free and a clash is caught. */
const defined = new WeakMap<Redis, Map<string, string>>();

/**
 * Defines `scripts` as commands on `redis` (again on the same connection: nothing happens) and
 * returns the connection typed with them. `Commands` states each command's arguments; the names
 * should start with "signoff" so they never shadow a Redis command.
 *
 * @example
 * interface LeaseCommands { signoffLeaseRenew(key: string, owner: string, ttlMs: number): Promise<number> }
 * const r = defineScripts<LeaseCommands>(redis, {
 *   signoffLeaseRenew: { file: new URL("./lease-renew.lua", import.meta.url), numberOfKeys: 1 },
 * });
 * await r.signoffLeaseRenew(key, owner, 15_000);
 */
export function defineScripts<Commands extends object>(
  redis: Redis,
  scripts: { [Name in keyof Commands & string]: ScriptFile },
): Redis & Commands {
  const mine = defined.get(redis) ?? new Map<string, string>();
  defined.set(redis, mine);
  for (const [name, script] of Object.entries(scripts) as Array<[string, ScriptFile]>) {
    const lua = readScript(script);
    const definition = `${script.numberOfKeys ?? "caller"}\n${lua}`;
    const earlier = mine.get(name);
    if (earlier === definition) continue;
    if (earlier !== undefined) throw new Error(`redis command ${name} is already defined by another script`);
    redis.defineCommand(name, {
      lua,
      ...(script.numberOfKeys === undefined ? {} : { numberOfKeys: script.numberOfKeys }),
    });
    mine.set(name, definition);
  }
  return redis as Redis & Commands;
}

/** The script's text, checked against its header: a script whose header lies fails at start. */
function readScript({ file, numberOfKeys }: ScriptFile): string {
  let source = sources.get(file.href);
  if (!source) {
    const lua = readFileSync(file, "utf8");
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(lua)?.[1];
    if (header === undefined || !/\bKEYS\[1\]/.test(header))
      throw new Error(`${file.pathname}: a script starts with a --[[ ]] header naming its KEYS and ARGV`);
    source = { lua, keys: new Set([...header.matchAll(/\bKEYS\[(\d+)\]/g)].map((m) => Number(m[1]))) };
    sources.set(file.href, source);
  }
  const { keys } = source;
  if (numberOfKeys !== undefined && (keys.size !== numberOfKeys || !keys.has(numberOfKeys)))
    throw new Error(
      `${file.pathname}: the header names ${keys.size} KEYS, the command is defined with ${numberOfKeys}`,
    );
  return source.lua;
}
