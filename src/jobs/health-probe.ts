/**
 * Configured health checks: an HTTP URL is up when it answers 2xx or 3xx within
 * the timeout; a TCP `host:port` is up when it accepts a connection. Each run stores its result
 * (and since when the service has been up or down) in PostgreSQL.
 */
import { Socket } from "node:net";
import type { MonitorStore } from "../store/monitor-store.js";

/** One configured check. */
export interface HealthCheckConfig {
  name: string;
  url?: string | undefined;
  tcp?: string | undefined;
  everySeconds: number;
}

/** A probe's verdict. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** GET `url`; up on 2xx/3xx. */
export async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "GET",
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
      headers: { "User-Agent": "signoff-health" },
    });
    await response.arrayBuffer().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 400;
    return { ok, detail: `HTTP ${response.status} in ${Date.now() - started} ms` };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    return {
      ok: false,
      detail:
        e.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message),
    };
  }
}

/** Open and close a TCP connection to `host:port`. */
export function probeTcp(hostPort: string, timeoutMs: number): Promise<ProbeResult> {
  const at = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(hostPort.slice(at + 1));
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, detail: `no connection in ${timeoutMs} ms` }));
    socket.once("error", (err: Error & { code?: string }) => done({ ok: false, detail: err.code ?? err.message }));
    socket.connect(port, host, () => done({ ok: true, detail: `connected in ${Date.now() - started} ms` }));
  });
}

/** A check that went down, or came back up after being down (never its first result when up). */
export interface HealthChange {
  name: string;
  ok: boolean;
  detail: string;
  since: Date;
}

/**
 * Run one check by name and store its result; unknown names (removed from config) are skipped.
 * `onChange` hears of each change of state once (the stored previous result decides), not of
 * every failed probe.
 */
export function createHealthRunner(deps: {
  checks: readonly HealthCheckConfig[];
  monitor: Pick<MonitorStore, "recordHealth">;
  now: () => Date;
  timeoutMs?: number;
  onChange?: (change: HealthChange) => Promise<unknown>;
}) {
  const byName = new Map(deps.checks.map((c) => [c.name, c]));
  return async function runHealthCheck(name: string): Promise<ProbeResult | null> {
    const check = byName.get(name);
    if (!check) return null;
    // A check must finish before the next run is due.
    const timeoutMs = Math.min(deps.timeoutMs ?? 10_000, Math.max(500, check.everySeconds * 1000 - 100));
    const result = check.url ? await probeHttp(check.url, timeoutMs) : await probeTcp(check.tcp!, timeoutMs);
    const stored = await deps.monitor.recordHealth(name, result.ok, result.detail, deps.now());
    // First result "up": nothing recovered. First result "down": worth saying.
    if (stored.changed && (stored.previous !== null || !result.ok))
      await deps.onChange?.({ name, ok: result.ok, detail: result.detail, since: stored.since });
    return result;
  };
}
