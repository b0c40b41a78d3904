/**
 * Private PostgreSQL and Redis servers for chaos tests: each on its own free port and temp
 * directory, so a test may stop, kill -9 or flush them without touching the shared ones on
 * 5432 / 6379. Whatever is started here is removed by `remove()`, on process exit or signal,
 * and, when a run was itself killed, by the next start (it sweeps directories whose owner died).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";

const run = promisify(execFile);
const ROOT = join(tmpdir(), "signoff-private");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (t0: number) => Math.round((performance.now() - t0) / 10) / 100;

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// ── cleanup that survives failures ──────────────────────────────────────────────────────────

const live = new Set<{ killNow(): void }>();
let hooked = false;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Child pids of `pid` (Linux /proc), so a crashed postmaster's backends can be ended too. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

/** SIGKILL `pid` and its children, but only while its command line still shows `marker` (ours). */
function killTree(pid: number, marker: string): number[] {
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return [];
  }
  if (!cmdline.includes(marker)) return []; // pid reused by someone else: leave it alone
  const pids = [pid, ...childrenOf(pid)];
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  return pids;
}

function signalTree(pid: number | null, signal: NodeJS.Signals): void {
  if (!pid) return;
  for (const p of [pid, ...childrenOf(pid)]) {
    try {
      process.kill(p, signal);
    } catch {
      /* gone */
    }
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const cleanAll = () => {
    for (const instance of live) instance.killNow();
    live.clear();
  };
  process.once("exit", cleanAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // Only when nobody else handles the signal: then the default (exit) would skip `exit` hooks.
    if (process.listenerCount(signal) > 0) continue;
    process.once(signal, () => {
      cleanAll();
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[signal]);
    });
  }
}

/** Remove directories (and their servers) left behind by runs that were killed outright. */
function sweepStale(): void {
  if (!existsSync(ROOT)) return;
  for (const name of readdirSync(ROOT)) {
    const dir = join(ROOT, name);
    const owner = Number(readFileSafe(join(dir, "owner.pid")));
    // No owner yet: another process may be creating it this very moment.
    if (owner ? isAlive(owner) : Date.now() - statSync(dir).mtimeMs < 60_000) continue;
    const [redisPid, redisPort] = readFileSafe(join(dir, "redis.pid")).split(" ").map(Number);
    if (redisPid) killTree(redisPid, `127.0.0.1:${redisPort}`);
    const postmaster = Number(readFileSafe(join(dir, "data", "postmaster.pid")).split("\n")[0]);
    if (postmaster) killTree(postmaster, dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

function makeDir(kind: string): string {
  sweepStale();
  mkdirSync(ROOT, { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(ROOT, `${kind}-`));
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
  hookExit();
  return dir;
}

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(probe)
      .catch(() => false))
  ) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

// ── Redis ───────────────────────────────────────────────────────────────────────────────────

/** A private redis-server; `start`/`restart` reuse the same port, and resolve with seconds taken. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Seconds each start took, in order. */
  readonly startTimes: number[];
  running(): boolean;
  start(): Promise<number>;
  /** SHUTDOWN NOSAVE: clients see the connection close, new connections are refused. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  restart(): Promise<number>;
  /** SIGSTOP / SIGCONT: the port stays open but nothing answers (a hung server). */
  freeze(): void;
  thaw(): void;
  /** One command on a throwaway connection, e.g. `command("FLUSHALL")`. */
  command(...args: string[]): Promise<unknown>;
  remove(): Promise<void>;
}

/** Start a private redis-server on a free port (`--save "" --appendonly no --hz 100`). */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = makeDir("redis");
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const startTimes: number[] = [];

  const command = async (...args: string[]) => {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      return await client.call(args[0]!, ...args.slice(1));
    } finally {
      client.disconnect();
    }
  };
  const waitExit = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    return child === null;
  };
  const instance: PrivateRedis & { killNow(): void } = {
    port,
    url,
    dir,
    startTimes,
    running: () => child !== null,
    async start() {
      if (child) throw new Error("private redis already running");
      const t0 = performance.now();
      const args = [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--hz",
        "100",
        "--dir",
        dir,
        "--logfile",
        join(dir, "redis.log"),
        "--daemonize",
        "no",
      ];
      const started = spawn("redis-server", args, { stdio: "ignore" });
      child = started;
      writeFileSync(join(dir, "redis.pid"), `${started.pid} ${port}`);
      exited = new Promise((resolve) =>
        started.once("exit", () => {
          if (child === started) child = null;
          resolve();
        }),
      );
      await until(`redis on ${port}`, 10_000, async () => {
        if (child !== started) throw new Error(`redis-server exited; see ${join(dir, "redis.log")}`);
        return (await command("PING")) === "PONG";
      });
      startTimes.push(seconds(t0));
      return startTimes.at(-1)!;
    },
    async stop() {
      if (!child) return;
      await command("SHUTDOWN", "NOSAVE").catch(() => undefined); // the server hangs up instead of replying
      if (!(await waitExit(5_000))) await instance.kill();
    },
    async kill() {
      child?.kill("SIGKILL");
      await waitExit(5_000);
    },
    async restart() {
      await instance.stop();
      return instance.start();
    },
    freeze: () => void child?.kill("SIGSTOP"),
    thaw: () => void child?.kill("SIGCONT"),
    command,
    async remove() {
      live.delete(instance);
      await instance.kill().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
    killNow() {
      if (child?.pid) killTree(child.pid, `127.0.0.1:${port}`); // redis-server retitles itself "redis-server 127.0.0.1:<port>"
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(instance);
  try {
    await instance.start();
  } catch (error) {
    await instance.remove();
    throw error;
  }
  return instance;
}

// ── PostgreSQL ──────────────────────────────────────────────────────────────────────────────

/** A private PostgreSQL cluster (trust auth, fsync off) with one database. */
export interface PrivatePostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  readonly url: string;
  readonly database: string;
  readonly dir: string;
  /** Seconds: `initdb`, then each start in order. */
  readonly initSeconds: number;
  readonly startTimes: number[];
  running(): Promise<boolean>;
  start(): Promise<number>;
  /** `pg_ctl stop -m fast`: sessions are ended, new connections refused. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** SIGKILL the postmaster and every backend, as a crash; the next start runs recovery. */
  kill(): Promise<void>;
  restart(): Promise<number>;
  /** SIGSTOP / SIGCONT the postmaster and every backend: connections open, nothing answers. */
  freeze(): void;
  thaw(): void;
  remove(): Promise<void>;
}

function postgresBin(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "pg_ctl"))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${base}/*/bin`);
  return join(base, newest, "bin");
}

/** Run a PostgreSQL tool as the `postgres` OS user (initdb refuses root). */
async function asPostgres(tool: string, args: string[]): Promise<void> {
  const argv = [join(postgresBin(), tool), ...args];
  await (process.getuid?.() === 0
    ? run("runuser", ["-u", "postgres", "--", ...argv], { timeout: 60_000 })
    : run(argv[0]!, argv.slice(1), { timeout: 60_000 }));
}

/** Init and start a private PostgreSQL on a free port and create `database` in it. */
export async function startPrivatePostgres(database = "chaos"): Promise<PrivatePostgres> {
  const dir = makeDir("pg");
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    const [uid, gid] = await Promise.all(
      ["-u", "-g"].map(async (flag) => Number((await run("id", [flag, "postgres"])).stdout)),
    );
    chownSync(dir, uid!, gid!);
  }
  const port = await freePort();
  const startTimes: number[] = [];
  const postmasterPid = () => Number(readFileSafe(join(data, "postmaster.pid")).split("\n")[0]) || null;
  // fsync off is safe against kill -9 (the OS keeps the writes); synchronous_commit stays on, or a
  // killed server would lose commits it had already acknowledged.
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c full_page_writes=off",
    `-c unix_socket_directories=${dir}`,
    "-c max_connections=200",
  ].join(" ");
  const t0 = performance.now();
  await asPostgres("initdb", [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "-E",
    "UTF8",
    "--no-sync",
    "--no-instructions",
  ]);
  const initSeconds = seconds(t0);
  const ping = async (db: string) => {
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${port}/${db}`,
      connectionTimeoutMillis: 1000,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const instance: PrivatePostgres & { killNow(): void } = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    database,
    dir,
    initSeconds,
    startTimes,
    running: () => ping("postgres").catch(() => false),
    async start() {
      const t1 = performance.now();
      await asPostgres("pg_ctl", [
        "-D",
        data,
        "-l",
        join(dir, "postgres.log"),
        "-w",
        "-t",
        "30",
        "-o",
        options,
        "start",
      ]);
      await until(`postgres on ${port}`, 10_000, () => ping("postgres"));
      startTimes.push(seconds(t1));
      return startTimes.at(-1)!;
    },
    async stop(mode = "fast") {
      if (!postmasterPid()) return;
      await asPostgres("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]).catch(async (error) => {
        if (postmasterPid()) throw error;
      });
    },
    async kill() {
      const pid = postmasterPid();
      if (!pid) return;
      const pids = killTree(pid, dir);
      // A new postmaster refuses to start while an old backend still holds shared memory.
      await until("killed postgres processes to exit", 10_000, () => pids.every((p) => !isAlive(p)));
    },
    async restart() {
      await instance.stop();
      return instance.start();
    },
    freeze: () => signalTree(postmasterPid(), "SIGSTOP"),
    thaw: () => signalTree(postmasterPid(), "SIGCONT"),
    async remove() {
      live.delete(instance);
      instance.thaw();
      await instance.stop("immediate").catch(() => instance.kill());
      rmSync(dir, { recursive: true, force: true });
    },
    killNow() {
      const pid = postmasterPid();
      if (pid) killTree(pid, dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(instance);
  try {
    await instance.start();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
  } catch (error) {
    await instance.remove();
    throw error;
  }
  return instance;
}

/** Both private servers, started side by side; `remove()` stops and deletes both. */
export async function startPrivateServices(
  database = "chaos",
): Promise<{ redis: PrivateRedis; postgres: PrivatePostgres; startSeconds: number; remove(): Promise<void> }> {
  const t0 = performance.now();
  const [redis, postgres] = await Promise.allSettled([startPrivateRedis(), startPrivatePostgres(database)]);
  if (redis.status === "rejected" || postgres.status === "rejected") {
    if (redis.status === "fulfilled") await redis.value.remove();
    if (postgres.status === "fulfilled") await postgres.value.remove();
    throw redis.status === "rejected" ? redis.reason : (postgres as PromiseRejectedResult).reason;
  }
  return {
    redis: redis.value,
    postgres: postgres.value,
    startSeconds: seconds(t0),
    remove: async () => void (await Promise.allSettled([redis.value.remove(), postgres.value.remove()])),
  };
}
