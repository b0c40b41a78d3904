/**
 * Spend records and the once-a-day spend alert claim. Sums are exact decimals in
 * PostgreSQL, grouped by currency: signoff never converts between currencies.
 */
import type { Money, SpendLine } from "../domain/operations.js";
import { type Database, many } from "./db.js";

/** A validated spend report. */
export interface NewSpend {
  amount: number;
  currency: string;
  agent?: string | undefined;
  model?: string | undefined;
  at: Date;
}

/** Spend in [from, to): the total and the split by agent and by model, largest first. */
export interface SpendSummary {
  totals: Money[];
  byAgent: SpendLine[];
  byModel: SpendLine[];
}

const toMoney = (r: { total: string; currency: string }): Money => ({ amount: Number(r.total), currency: r.currency });

/** The spend store. */
export function createSpendStore(db: Database) {
  async function lines(column: "agent" | "model", from: Date, to: Date): Promise<SpendLine[]> {
    const rows = await many<{ key: string | null; currency: string; total: string }>(
      db.pool,
      `SELECT ${column} AS key, currency, sum(amount)::text AS total FROM spend WHERE at >= $1 AND at < $2
        GROUP BY ${column}, currency ORDER BY sum(amount) DESC, ${column} NULLS LAST`,
      [from, to],
    );
    return rows.map((r) => ({ ...toMoney(r), key: r.key }));
  }

  return {
    async record(source: string, spend: NewSpend): Promise<void> {
      await db.pool.query(
        "INSERT INTO spend (source, amount, currency, agent, model, at) VALUES ($1, $2, $3, $4, $5, $6)",
        [source, spend.amount, spend.currency, spend.agent ?? null, spend.model ?? null, spend.at],
      );
    },

    /** Totals per currency in [from, to), largest first. */
    async totals(from: Date, to: Date): Promise<Money[]> {
      const rows = await many<{ currency: string; total: string }>(
        db.pool,
        "SELECT currency, sum(amount)::text AS total FROM spend WHERE at >= $1 AND at < $2 GROUP BY currency ORDER BY sum(amount) DESC, currency",
        [from, to],
      );
      return rows.map(toMoney);
    },

    async summary(from: Date, to: Date): Promise<SpendSummary> {
      const [totals, byAgent, byModel] = await Promise.all([
        this.totals(from, to),
        lines("agent", from, to),
        lines("model", from, to),
      ]);
      return { totals, byAgent, byModel };
    },

    /**
     * Claim today's alert for `currency` (`day` as YYYY-MM-DD in the alert's timezone); true
     * only for the first caller of the day, in any process.
     */
    async claimAlert(day: string, currency: string, total: number, threshold: number): Promise<boolean> {
      const result = await db.pool.query(
        "INSERT INTO spend_alerts (day, currency, total, threshold) VALUES ($1::date, $2, $3, $4) ON CONFLICT DO NOTHING",
        [day, currency, total, threshold],
      );
      return result.rowCount === 1;
    },
  };
}

/** The spend store's interface, for injection. */
export type SpendStore = ReturnType<typeof createSpendStore>;
