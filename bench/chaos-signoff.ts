/**
 * signoff as a real child process (`node --import tsx src/main.ts`) against the private
 * PostgreSQL and Redis of `test/helpers/private-services.ts`, with a temp YAML config, its JSON
 * logs captured; plus the HTTP helpers and webhook receivers the chaos scenarios use.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { stringify } from "yaml";
import { freePort, type PrivatePostgres, type PrivateRedis } from "../test/helpers/private-services.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const TSX = pathToFileURL(join(REPO, "node_modules", "tsx", "dist", "loader.mjs")).href;

/** Bearer token of the chaos source `forge`. */
export const CHAOS_TOKEN = "chaos-forge-token-0123456789";
export const CHAOS_SECRET = "chaos-signing-secret-0123456789";
/** Operators of the chaos config; all see the web chat. */
export const CHAOS_OPERATORS = [
  { name: "adam", roles: ["owner", "approver"], timezone: "UTC" },
  { name: "eve", roles: ["approver"], timezone: "Europe/Berlin" },
  { name: "bob", roles: ["approver", "ops-lead"], timezone: "UTC" },
  { name: "vic", roles: ["viewer"], timezone: "UTC" },
];

/** One parsed JSON log line (or `{ msg: <raw text> }` when it was not JSON). */
export type LogLine = Record<string, unknown> & { level?: number; msg?: string };

/** A signoff child process; `start` may be called again after `kill9` / `terminate`. */
export interface SignoffProcess {
  readonly url: string;
  readonly port: number;
  readonly schema: string;
  /** Seconds from spawn to the "signoff started" log line, per start. */
  readonly startTimes: number[];
  /** Every stdout line of every start, parsed. */
  readonly logs: LogLine[];
  stderr(): string;
  alive(): boolean;
  /** How the last run ended, and the tail of its output: for failure messages. */
  lastExit(): string;
  start(): Promise<number>;
  /** SIGKILL, as a crash. */
  kill9(): Promise<void>;
  /** Send SIGTERM and wait for the exit (at most `timeoutMs`, then SIGKILL). */
  terminate(timeoutMs?: number): Promise<{ code: number | null; signal: string | null; ms: number }>;
  /** A connection pool to its PostgreSQL schema, for checking what was stored. */
  pool: pg.Pool;
  remove(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Spawn signoff on a free port with its own schema and queue prefix; resolves once it serves. */
export async function startSignoffProcess(options: {
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  /** Merged over the chaos config file (operators, source `forge`, fast callback retries). */
  file?: Record<string, unknown>;
  /** At least `info`: the start is seen in the "signoff started" line. */
  logLevel?: "info" | "debug" | "trace";
  env?: Record<string, string>;
  /** Checkout to run (default this one, or `SIGNOFF_CHAOS_REPO`): e.g. a snapshot of the last commit. */
  repo?: string;
}): Promise<SignoffProcess> {
  const repo = options.repo ?? process.env.SIGNOFF_CHAOS_REPO ?? REPO;
  const dir = mkdtempSync(join(tmpdir(), "signoff-chaos-"));
  const schema = `chaos_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const port = await freePort();
  const configPath = join(dir, "signoff.yaml");
  const file = {
    timezone: "UTC",
    operators: CHAOS_OPERATORS,
    sources: [{ name: "forge", tokenSha256: createHash("sha256").update(CHAOS_TOKEN).digest("hex") }],
    approvals: { callbackBackoffMs: 200, callbackAttempts: 6, callbackTimeoutMs: 10_000 },
    ...(options.file ?? {}),
  };
  writeFileSync(configPath, stringify(file));
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    DATABASE_URL: options.postgres.url,
    DATABASE_SCHEMA: schema,
    REDIS_URL: options.redis.url,
    SIGNOFF_QUEUE_PREFIX: schema,
    HTTP_PORT: String(port),
    HTTP_HOST: "127.0.0.1",
    SIGNOFF_CONFIG: configPath,
    SIGNOFF_SIGNING_SECRET: CHAOS_SECRET,
    LOG_LEVEL: options.logLevel ?? "info",
    ...(options.env ?? {}),
  };
  const logs: LogLine[] = [];
  const startTimes: number[] = [];
  let stderr = "";
  let child: ChildProcess | null = null;
  let exitNote = "running";
  let exited: Promise<{ code: number | null; signal: string | null }> = Promise.resolve({ code: null, signal: null });
  const pool = new pg.Pool({ connectionString: options.postgres.url, max: 4, options: `-c search_path=${schema}` });
  pool.on("error", () => undefined); // the server is killed on purpose

  const proc: SignoffProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    schema,
    startTimes,
    logs,
    stderr: () => stderr,
    alive: () => child !== null,
    lastExit: () =>
      `${exitNote}; stderr: ${stderr.slice(-1500)}; last logs: ${logs
        .slice(-5)
        .map((l) => JSON.stringify(l).slice(0, 400))
        .join("\n")}`,
    pool,
    async start() {
      if (child) throw new Error("signoff process already running");
      const t0 = performance.now();
      // cwd is a temp dir so a developer's .env in the checkout cannot change the run.
      const started = spawn(process.execPath, ["--import", TSX, join(repo, "src", "main.ts")], {
        cwd: dir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      running.add(started);
      let buffer = "";
      let onLine: ((line: LogLine) => void) | null = null;
      started.stdout!.on("data", (chunk: Buffer) => {
        buffer += chunk.toString("utf8");
        for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
          const text = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (!text.trim()) continue;
          let line: LogLine;
          try {
            line = JSON.parse(text) as LogLine;
          } catch {
            line = { msg: text };
          }
          logs.push(line);
          onLine?.(line);
        }
      });
      started.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      exited = new Promise((resolve) =>
        started.once("exit", (code, signal) => {
          exitNote = `exited with code ${code}, signal ${signal}`;
          running.delete(started);
          if (child === started) child = null;
          resolve({ code, signal });
        }),
      );
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`signoff did not start within 60 s; stderr: ${stderr.slice(-2000)}`)),
          60_000,
        );
        onLine = (line) => {
          if (line.msg !== "signoff started") return;
          clearTimeout(timer);
          resolve();
        };
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(
            new Error(
              `signoff exited (code ${code}, signal ${signal}) before starting; stderr: ${stderr.slice(-2000)}`,
            ),
          );
        });
      });
      onLine = null;
      startTimes.push(Math.round(performance.now() - t0) / 1000);
      return startTimes.at(-1)!;
    },
    async kill9() {
      child?.kill("SIGKILL");
      await exited;
    },
    async terminate(timeoutMs = 15_000) {
      if (!child) return { code: null, signal: null, ms: 0 };
      const t0 = performance.now();
      const victim = child;
      victim.kill("SIGTERM");
      const timer = setTimeout(() => victim.kill("SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return { ...result, ms: Math.round(performance.now() - t0) };
    },
    async remove() {
      await proc.kill9();
      await pool.end().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await proc.start();
  } catch (error) {
    await proc.remove();
    throw error;
  }
  return proc;
}

/**
 * signoff whose operators (adam, eve) are on a fake Telegram only: its sends go through Redis as
 * in production, so while Redis is down no notice can reach anyone.
 */
export function startSignoffOnTelegram(
  services: { postgres: PrivatePostgres; redis: PrivateRedis },
  telegram: { token: string; apiRoot: string },
): Promise<SignoffProcess> {
  return startSignoffProcess({
    postgres: services.postgres,
    redis: services.redis,
    env: { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot },
    file: {
      operators: [
        { name: "adam", roles: ["owner", "approver"], telegram: 1001, webchat: false },
        { name: "eve", roles: ["approver"], telegram: 1002, webchat: false },
      ],
    },
  });
}

/** The outcome of one HTTP call: status 0 means no answer (`error` says why). */
export interface CallResult {
  status: number;
  ms: number;
  // biome-ignore lint/suspicious/noExplicitAny: the drills read whatever JSON a route returned
  body: any;
  headers: Headers | null;
  error?: string;
}

/**
 * Call the API as source `forge`. `raw` sends a body text as is (JSON with escapes such as
 * `\ud800` that a JS string would lose); the call gives up after `timeoutMs`.
 */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; token?: string | null; timeoutMs?: number; contentType?: string } = {},
): Promise<CallResult> {
  const t0 = performance.now();
  const token = options.token === undefined ? CHAOS_TOKEN : options.token;
  const text = options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(text !== undefined ? { "content-type": options.contentType ?? "application/json" } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(text !== undefined ? { body: text } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const answer = await response.text();
    let body: unknown = answer;
    try {
      body = JSON.parse(answer);
    } catch {
      /* not JSON */
    }
    return { status: response.status, ms: performance.now() - t0, body, headers: response.headers };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    return {
      status: 0,
      ms: performance.now() - t0,
      body: null,
      headers: null,
      error: e.name === "TimeoutError" ? "timeout" : (e.cause?.code ?? e.message),
    };
  }
}

/** One request a receiver got. */
export interface Received {
  delivery: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A webhook receiver on 127.0.0.1: answers 200 (after `delayMs`), or never when `hang` is set. */
export async function startReceiver(options: { hang?: boolean; delayMs?: number } = {}) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const delivery = req.headers["x-signoff-delivery"];
      received.push({
        delivery: Array.isArray(delivery) ? delivery[0] : delivery,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      });
      if (options.hang) return;
      const answer = () => res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Deliveries by `X-Signoff-Delivery`: how many distinct, and how many repeats. */
    counts() {
      const byId = new Map<string, number>();
      for (const r of received) byId.set(r.delivery ?? "(none)", (byId.get(r.delivery ?? "(none)") ?? 0) + 1);
      return { requests: received.length, distinct: byId.size, duplicates: received.length - byId.size, byId };
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Run `count` tasks, at most `concurrency` at a time. */
export async function inParallel<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
