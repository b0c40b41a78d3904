/**
 * Strangers and pairing: the codes strangers get (at most one reply per window per
 * sender, serialised by an advisory lock) and the operators owners admit, stored beside the
 * configured ones.
 */
import { type AuditEntry, appendAudit } from "./audit-store.js";
import { type Database, isUniqueViolation, many, maybeOne, withTransaction } from "./db.js";

/** An operator admitted in chat. */
export interface PairedOperator {
  name: string;
  roles: string[];
  channel: string;
  senderId: string;
  chatId: string;
  displayName: string | null;
  pairedBy: string;
  pairedAt: Date;
  /** Their digest cron (`digest on`), null for none. */
  digest?: string | null;
}

/** A code given to a stranger. */
export interface PairingCode {
  code: string;
  channel: string;
  senderId: string;
  chatId: string;
  displayName: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedBy: string | null;
}

interface PairedRow {
  name: string;
  roles: string[];
  channel: string;
  sender_id: string;
  chat_id: string;
  display_name: string | null;
  paired_by: string;
  paired_at: Date;
  digest: string | null;
}

interface CodeRow {
  code: string;
  channel: string;
  sender_id: string;
  chat_id: string;
  display_name: string | null;
  created_at: Date;
  expires_at: Date;
  used_by: string | null;
}

const toPaired = (r: PairedRow): PairedOperator => ({
  name: r.name,
  roles: r.roles,
  channel: r.channel,
  senderId: r.sender_id,
  chatId: r.chat_id,
  displayName: r.display_name,
  pairedBy: r.paired_by,
  pairedAt: r.paired_at,
  digest: r.digest,
});

const toCode = (r: CodeRow): PairingCode => ({
  code: r.code,
  channel: r.channel,
  senderId: r.sender_id,
  chatId: r.chat_id,
  displayName: r.display_name,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedBy: r.used_by,
});

/** Outcome of admitting a stranger. */
export type AdmitOutcome =
  | { outcome: "paired"; operator: PairedOperator }
  | { outcome: "name_taken" }
  | { outcome: "already_paired" }
  | { outcome: "code_used" };

/** The pairing store. */
export function createPairingStore(db: Database) {
  return {
    /**
     * Issue `code` to a stranger unless they got one since `notBefore` (then they get no reply).
     * Concurrent messages from one sender are serialised; `code_taken` asks for another code.
     */
    issueCode(input: {
      code: string;
      channel: string;
      senderId: string;
      chatId: string;
      displayName: string | null;
      now: Date;
      expiresAt: Date;
      notBefore: Date;
    }): Promise<{ outcome: "issued"; code: PairingCode } | { outcome: "replied_recently" | "code_taken" }> {
      return withTransaction(db, async (client) => {
        await client.query("SELECT pg_advisory_xact_lock(hashtext('signoff.pairing.' || $1 || '.' || $2))", [
          input.channel,
          input.senderId,
        ]);
        const recent = await maybeOne<{ code: string }>(
          client,
          "SELECT code FROM pairing_codes WHERE channel = $1 AND sender_id = $2 AND created_at > $3 LIMIT 1",
          [input.channel, input.senderId, input.notBefore],
        );
        if (recent) return { outcome: "replied_recently" as const };
        const row = await maybeOne<CodeRow>(
          client,
          `INSERT INTO pairing_codes (code, channel, sender_id, chat_id, display_name, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING RETURNING *`,
          [input.code, input.channel, input.senderId, input.chatId, input.displayName, input.now, input.expiresAt],
        );
        return row ? { outcome: "issued" as const, code: toCode(row) } : { outcome: "code_taken" as const };
      });
    },

    async findCode(code: string): Promise<PairingCode | null> {
      const row = await maybeOne<CodeRow>(db.pool, "SELECT * FROM pairing_codes WHERE code = $1", [code]);
      return row ? toCode(row) : null;
    },

    /** Use the code and store the new operator, with its audit entries, in one transaction. */
    admit(input: {
      code: string;
      operator: Omit<PairedOperator, "pairedAt">;
      at: Date;
      audit: AuditEntry[];
    }): Promise<AdmitOutcome> {
      return withTransaction(db, async (client) => {
        const used = await client.query(
          "UPDATE pairing_codes SET used_by = $2, used_at = $3 WHERE code = $1 AND used_by IS NULL",
          [input.code, input.operator.pairedBy, input.at],
        );
        if (used.rowCount !== 1) return { outcome: "code_used" as const };
        const o = input.operator;
        try {
          await client.query("SAVEPOINT admit");
          const row = await maybeOne<PairedRow>(
            client,
            `INSERT INTO paired_operators (name, roles, channel, sender_id, chat_id, display_name, paired_by, paired_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
            [o.name, o.roles, o.channel, o.senderId, o.chatId, o.displayName, o.pairedBy, input.at],
          );
          await appendAudit(client, input.audit);
          return { outcome: "paired" as const, operator: toPaired(row!) };
        } catch (error) {
          if (isUniqueViolation(error)) {
            // Keep the code unused: the owner can pair again with another name.
            await client.query("ROLLBACK TO SAVEPOINT admit");
            await client.query("UPDATE pairing_codes SET used_by = NULL, used_at = NULL WHERE code = $1", [input.code]);
            return isUniqueViolation(error, "paired_operators_pkey")
              ? { outcome: "name_taken" as const }
              : { outcome: "already_paired" as const };
          }
          throw error;
        }
      });
    },

    /**
     * Remove a paired operator (and any absence of theirs) with its audit entries; resolves to
     * whether there was one of that name.
     */
    async unpair(name: string, audit: AuditEntry[]): Promise<boolean> {
      return withTransaction(db, async (client) => {
        const removed = await client.query("DELETE FROM paired_operators WHERE name = $1", [name]);
        if (removed.rowCount !== 1) return false;
        await client.query("DELETE FROM operator_presence WHERE operator = $1", [name]);
        await appendAudit(client, audit);
        return true;
      });
    },

    /** Set or clear a paired operator's digest cron; resolves to whether they exist. */
    async setDigest(name: string, cron: string | null, audit: AuditEntry[]): Promise<boolean> {
      return withTransaction(db, async (client) => {
        const updated = await client.query("UPDATE paired_operators SET digest = $2 WHERE name = $1", [name, cron]);
        if (updated.rowCount !== 1) return false;
        await appendAudit(client, audit);
        return true;
      });
    },

    async listPaired(): Promise<PairedOperator[]> {
      return (await many<PairedRow>(db.pool, "SELECT * FROM paired_operators ORDER BY paired_at, name")).map(toPaired);
    },

    /** The paired operator behind any of these sender ids on `channel`. */
    async findPaired(channel: string, senderIds: readonly string[]): Promise<PairedOperator | null> {
      const row = await maybeOne<PairedRow>(
        db.pool,
        "SELECT * FROM paired_operators WHERE channel = $1 AND sender_id = ANY($2::text[]) LIMIT 1",
        [channel, senderIds],
      );
      return row ? toPaired(row) : null;
    },
  };
}

/** The pairing store's interface, for injection. */
export type PairingStore = ReturnType<typeof createPairingStore>;
