/**
 * Prometheus metrics served at `/metrics`: Node's defaults, approvals created by gate, and the
 * number pending (read from PostgreSQL at scrape time, so every process reports the truth).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/** The registry and the counters the app updates. */
export interface Metrics {
  registry: Registry;
  approvalCreated(gate: string): void;
}

/** Build a fresh registry (one per signoff instance, so tests can run several). */
export function createMetrics(deps: { countPending(): Promise<number> }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const created = new Counter({
    name: "signoff_approvals_created_total",
    help: "Approvals created",
    labelNames: ["gate"],
    registers: [registry],
  });
  new Gauge({
    name: "signoff_approvals_pending",
    help: "Approvals waiting for a decision",
    registers: [registry],
    async collect() {
      this.set(await deps.countPending());
    },
  });
  return { registry, approvalCreated: (gate) => created.inc({ gate }) };
}
