/**
 * Approvals created through the HTTP API by 50 concurrent clients: requests per second and
 * latency percentiles. Medium gate, so each request also queues a card.
 */
import { Agent } from "node:http";
import { request } from "node:http";
import { cleanupTestInstance, SOURCE_TOKEN, startTestSignoff } from "../test/helpers/harness.js";
import type { BenchResult } from "./run.js";
import { percentile, runPool } from "./stats.js";

const COUNT = Number(process.env.BENCH_API_COUNT ?? 10_000);
const CONCURRENCY = 50;

function post(url: URL, agent: Agent, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${SOURCE_TOKEN}`,
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** What {@link measureCreates} saw. */
export interface CreateRun {
  requests: number;
  failures: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Create `count` medium approvals at `baseUrl` from {@link CONCURRENCY} clients on kept-alive
 * connections, after 500 to warm up connections and JIT: the rate and latency percentiles.
 */
export async function measureCreates(baseUrl: string, count: number): Promise<CreateRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const url = new URL("/api/approvals", baseUrl);
  try {
    await runPool(
      500,
      CONCURRENCY,
      async (i) => void (await post(url, agent, JSON.stringify({ title: `warm ${i}`, gate: "medium" }))),
    );
    const latencies: number[] = [];
    let failures = 0;
    const start = performance.now();
    await runPool(count, CONCURRENCY, async (i) => {
      const t0 = performance.now();
      const status = await post(
        url,
        agent,
        JSON.stringify({
          title: `deploy ${i}`,
          reason: "bench",
          agent: "forge",
          gate: "medium",
          deadlineSeconds: 3600,
        }),
      );
      latencies.push(performance.now() - t0);
      if (status !== 201) failures++;
    });
    const seconds = (performance.now() - start) / 1000;
    return {
      requests: count,
      failures,
      perSecond: count / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  } finally {
    agent.destroy();
  }
}

export async function benchApiCreate(): Promise<BenchResult> {
  const s = await startTestSignoff({ file: { operators: [{ name: "adam", roles: ["owner", "approver"] }] } });
  try {
    const metrics = { ...(await measureCreates(s.url, COUNT)) };
    return {
      name: "api",
      metrics,
      targets: { perSecond: "≥ 1000", p99Ms: "≤ 50", failures: "= 0" },
      met: metrics.perSecond >= 1000 && metrics.p99Ms <= 50 && metrics.failures === 0,
    };
  } finally {
    await s.close();
    await cleanupTestInstance(s.schema, s.prefix);
  }
}
