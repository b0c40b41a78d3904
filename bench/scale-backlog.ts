/**
 * A backlog of pending `medium` approvals for the scale benchmarks, and signoff as a real
 * process on it.
 *
 * Seeding: a signoff process migrates a fresh schema, one approval is created through the API
 * (so its row and its web chat card reference are exactly what signoff writes), the process
 * stops, and that row is copied `count − 1` times with one `INSERT … SELECT … FROM
 * generate_series` (every column copied, except: a new id, a code unique among pending ones, a
 * distinct title, creation times 1 ms apart, deadlines a day away), and its card reference with
 * it. Audit entries are not copied: neither the reconcile nor creating reads them. Then the
 * prefix's Redis keys are deleted, so no timer of the backlog exists until a start re-creates it.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { deleteKeysWithPrefix } from "../src/jobs/redis/connections.js";
import {
  REDIS_URL,
  SIGNING_SECRET,
  SOURCE_TOKEN,
  api,
  cleanupTestInstance,
  eventually,
  uniqueName,
} from "../test/helpers/harness.js";
import { spawnSignoff } from "../test/helpers/signoff-process.js";
import { sql } from "../test/helpers/sql.js";
import { freePort } from "./process-watch.js";

/** The log line start-up writes when its reconcile is done. */
export const RECONCILED_LINE = "reconciled timers and deliveries from PostgreSQL";

// The card alphabet (no 0/O, 1/I/L) and its digits; a code always holds a digit.
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const DIGITS = "23456789";
// Codes of seeded rows: a digit, then three letters of the alphabet counting up, so
// 8 × 31³ = 238,328 distinct 4-character codes, as many taken as creating would have taken.
const SEED_CODE = `substr('${DIGITS}', (g % 8) + 1, 1)
  || substr('${ALPHABET}', ((g / 8) % 31) + 1, 1)
  || substr('${ALPHABET}', ((g / 248) % 31) + 1, 1)
  || substr('${ALPHABET}', ((g / 7688) % 31) + 1, 1)`;
const SEED_ID = "md5($2 || g)::uuid";
const MAX_SEED = 8 * 31 ** 3;

/** A schema and queue prefix holding a seeded backlog. */
export interface Backlog {
  schema: string;
  prefix: string;
  configFile: string;
  /** Pending approvals in the schema. */
  pending: number;
  seedSeconds: number;
}

/** Config of every scale run: the test source, and one operator who gets cards in the web chat. */
function writeScaleConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), "signoff-scale-")), "signoff.yaml");
  const tokenSha256 = createHash("sha256").update(SOURCE_TOKEN).digest("hex");
  writeFileSync(
    file,
    [
      "operators:",
      "  - name: adam",
      "    roles: [owner, approver]",
      "sources:",
      "  - name: forge",
      `    tokenSha256: ${tokenSha256}`,
      "",
    ].join("\n"),
  );
  return file;
}

/** A signoff process of a scale run. */
export interface ScaleProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Resolves (ms since spawn) once a log line holds `text`; rejects after `timeoutMs`. */
  logged(text: string, timeoutMs?: number): Promise<number>;
  /** SIGTERM, then SIGKILL if it has not exited within 15 s. */
  stop(): Promise<void>;
}

/** Spawn signoff on the backlog's schema and prefix, on a port chosen now, with `env` on top. */
export async function spawnScaleProcess(
  backlog: Pick<Backlog, "schema" | "prefix" | "configFile">,
  env: Record<string, string> = {},
): Promise<ScaleProcess> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const signoff = spawnSignoff({
    DATABASE_SCHEMA: backlog.schema,
    SIGNOFF_QUEUE_PREFIX: backlog.prefix,
    SIGNOFF_CONFIG: backlog.configFile,
    SIGNOFF_SIGNING_SECRET: SIGNING_SECRET,
    HTTP_PORT: String(port),
    ...env,
  });
  const pid = signoff.child.pid;
  if (pid === undefined) throw new Error("signoff did not spawn");
  let exited = false;
  void signoff.exited.then(() => (exited = true));
  return {
    child: signoff.child,
    pid,
    url: `http://127.0.0.1:${port}`,
    async logged(text, timeoutMs = 180_000) {
      await eventually(
        () => {
          if (exited) throw new Error(`signoff exited: ${signoff.output().slice(-2000)}`);
          return signoff.output().includes(text);
        },
        `log line "${text}"`,
        timeoutMs,
        25,
      );
      return performance.now() - spawnedAt;
    },
    async stop() {
      if (exited) return;
      signoff.child.kill("SIGTERM");
      const killer = setTimeout(() => signoff.child.kill("SIGKILL"), 15_000);
      await signoff.exited;
      clearTimeout(killer);
    },
  };
}

/** Create a fresh schema and prefix with `count` pending medium approvals (see the module comment). */
export async function seedBacklog(count: number): Promise<Backlog> {
  if (count < 1 || count > MAX_SEED) throw new Error(`backlog of ${count}: 1 to ${MAX_SEED} approvals`);
  const began = performance.now();
  const backlog = { schema: uniqueName("scale"), prefix: uniqueName("qscale"), configFile: writeScaleConfig() };
  const template = await spawnScaleProcess(backlog);
  let templateId: string;
  try {
    await template.logged('"signoff started"', 60_000);
    const created = await api(template, "POST", "/api/approvals", {
      title: "deploy",
      reason: "scale bench",
      agent: "forge",
      gate: "medium",
      deadlineSeconds: 86_400,
    });
    if (created.status !== 201) throw new Error(`template approval: ${created.status} ${JSON.stringify(created.body)}`);
    templateId = created.body.id as string;
    await eventually(
      async () => (await sql(backlog.schema, "SELECT 1 FROM card_refs WHERE approval_id = $1", [templateId])).length,
      "the template approval's card in the web chat",
    );
  } finally {
    await template.stop();
  }
  await copyTemplate(backlog.schema, templateId, count - 1);
  await flushBacklogKeys(backlog);
  const [row] = await sql<{ n: number }>(
    backlog.schema,
    "SELECT count(*)::int AS n FROM approvals WHERE status = 'pending'",
  );
  return { ...backlog, pending: row!.n, seedSeconds: (performance.now() - began) / 1000 };
}

/** Copy the template approval and its card references `copies` times, in two statements. */
async function copyTemplate(schema: string, templateId: string, copies: number): Promise<void> {
  // Every column by name, so columns later migrations add are copied too.
  const columns = (
    await sql<{ column_name: string }>(
      schema,
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = 'approvals' ORDER BY ordinal_position`,
      [schema],
    )
  ).map((c) => c.column_name);
  const replaced: Record<string, string> = {
    id: SEED_ID,
    code: SEED_CODE,
    title: "t.title || ' ' || g",
    idempotency_key: "NULL",
    created_at: "t.created_at - g * interval '1 millisecond'",
    deadline_at: "now() + interval '1 day' + g * interval '1 millisecond'",
  };
  const select = columns.map((c) => replaced[c] ?? `t.${c}`).join(", ");
  const salt = `${templateId}:`;
  await sql(
    schema,
    `INSERT INTO approvals (${columns.join(", ")})
     SELECT ${select} FROM approvals t, generate_series(1, $3::int) g WHERE t.id = $1
     ON CONFLICT (code) WHERE status = 'pending' DO NOTHING`,
    [templateId, salt, copies],
  );
  await sql(
    schema,
    `INSERT INTO card_refs (channel, chat_id, message_id, approval_id, kind, created_at)
     SELECT c.channel, c.chat_id, c.message_id || '-' || g, a.id, c.kind, c.created_at
       FROM card_refs c, generate_series(1, $3::int) g
       JOIN approvals a ON a.id = ${SEED_ID}
      WHERE c.approval_id = $1`,
    [templateId, salt, copies],
  );
  await sql(schema, "ANALYZE approvals");
  await sql(schema, "ANALYZE card_refs");
}

/** Drop the backlog's schema and its Redis keys. */
export async function dropBacklog(backlog: Pick<Backlog, "schema" | "prefix">): Promise<void> {
  await cleanupTestInstance(backlog.schema, backlog.prefix);
}

/** Delete the backlog's Redis keys only (never the whole shared Redis). */
export async function flushBacklogKeys(backlog: Pick<Backlog, "prefix">): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    return await deleteKeysWithPrefix(redis, backlog.prefix);
  } finally {
    await redis.quit();
  }
}
