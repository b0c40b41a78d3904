/**
 * The WhatsApp session in PostgreSQL: Baileys' credentials and signal keys, and the messages we
 * sent. Values are opaque text here (the adapter serialises them with Baileys' `BufferJSON`), so
 * this layer knows nothing of Baileys. Credentials carry a checksum and a last-good copy: a torn
 * or unreadable write falls back to the one before it instead of locking the account out.
 */
import { createHash } from "node:crypto";
import { type Database, many, maybeOne, withTransaction } from "./db.js";

/** The default account name: one linked WhatsApp number per signoff deployment. */
export const DEFAULT_WHATSAPP_ACCOUNT = "default";

/** Stored credentials; each text is null when absent or when its checksum does not match. */
export interface StoredCreds {
  current: string | null;
  /** The write before `current`, kept while it was intact. */
  previous: string | null;
  /** True when a `current` row exists but failed its checksum (a torn write). */
  currentDamaged: boolean;
  updatedAt: Date | null;
}

/** One key write: a null value deletes the key. */
export interface KeyWrite {
  type: string;
  id: string;
  value: string | null;
}

/** Credentials and signal keys of one account. */
export interface WhatsAppAuthStore {
  readonly account: string;
  loadCreds(): Promise<StoredCreds>;
  /** Replace the credentials; the current copy becomes the last-good one if it is intact. */
  saveCreds(json: string): Promise<void>;
  getKeys(type: string, ids: readonly string[]): Promise<Map<string, string>>;
  /** Apply writes and deletes in one transaction. */
  setKeys(writes: readonly KeyWrite[]): Promise<void>;
  clearKeys(): Promise<void>;
  /** Forget the account: credentials and keys (after a logout). */
  clear(): Promise<void>;
}

/** A message we sent, kept for WhatsApp's retry requests and to quote it later. */
export interface SentMessage {
  messageId: string;
  chatId: string;
  /** protobuf-encoded `proto.Message`. */
  message: Buffer;
  followUpKey?: string | undefined;
}

/** Sent messages of one account, bounded by {@link WhatsAppMessageStore.prune}. */
export interface WhatsAppMessageStore {
  readonly account: string;
  save(message: SentMessage): Promise<void>;
  get(messageId: string): Promise<SentMessage | null>;
  /** Whether a follow-up with this key was already sent. */
  hasFollowUp(followUpKey: string): Promise<boolean>;
  /** Delete messages older than `olderThan`, and beyond the newest `keep`; returns how many. */
  prune(options: { olderThan: Date; keep: number }): Promise<number>;
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

const verified = (text: string | null, digest: string | null): string | null =>
  text !== null && digest !== null && sha256(text) === digest ? text : null;

/**
 * Creates the credentials and keys store of `account` (see {@link DEFAULT_WHATSAPP_ACCOUNT}).
 *
 * @example
 * const store = createWhatsAppAuthStore(db);
 * await store.saveCreds(JSON.stringify(creds, BufferJSON.replacer));
 */
export function createWhatsAppAuthStore(db: Database, options: { account?: string } = {}): WhatsAppAuthStore {
  const account = options.account ?? DEFAULT_WHATSAPP_ACCOUNT;
  return {
    account,

    async loadCreds() {
      const row = await maybeOne<{
        creds: string;
        creds_sha256: string;
        previous: string | null;
        previous_sha256: string | null;
        updated_at: Date;
      }>(
        db.pool,
        "SELECT creds, creds_sha256, previous, previous_sha256, updated_at FROM whatsapp_auth_creds WHERE account = $1",
        [account],
      );
      if (!row) return { current: null, previous: null, currentDamaged: false, updatedAt: null };
      const current = verified(row.creds, row.creds_sha256);
      return {
        current,
        previous: verified(row.previous, row.previous_sha256),
        currentDamaged: current === null,
        updatedAt: row.updated_at,
      };
    },

    async saveCreds(json) {
      // One statement: the row is never half-updated. The outgoing copy is kept as the last-good
      // one only if its checksum still matches, so a damaged copy never replaces a good one. An
      // identical write changes nothing (and keeps the last-good copy one real change behind).
      await db.pool.query(
        `INSERT INTO whatsapp_auth_creds AS c (account, creds, creds_sha256) VALUES ($1, $2, $3)
         ON CONFLICT (account) DO UPDATE SET
           previous = CASE WHEN encode(sha256(convert_to(c.creds, 'UTF8')), 'hex') = c.creds_sha256 THEN c.creds ELSE c.previous END,
           previous_sha256 = CASE WHEN encode(sha256(convert_to(c.creds, 'UTF8')), 'hex') = c.creds_sha256 THEN c.creds_sha256 ELSE c.previous_sha256 END,
           creds = EXCLUDED.creds,
           creds_sha256 = EXCLUDED.creds_sha256,
           writes = c.writes + 1,
           updated_at = now()
         WHERE c.creds_sha256 IS DISTINCT FROM EXCLUDED.creds_sha256
            OR encode(sha256(convert_to(c.creds, 'UTF8')), 'hex') <> c.creds_sha256`,
        [account, json, sha256(json)],
      );
    },

    async getKeys(type, ids) {
      if (ids.length === 0) return new Map();
      const rows = await many<{ id: string; value: string }>(
        db.pool,
        "SELECT id, value FROM whatsapp_auth_keys WHERE account = $1 AND type = $2 AND id = ANY($3::text[])",
        [account, type, [...ids]],
        "signoff_whatsapp_get_keys",
      );
      return new Map(rows.map((r) => [r.id, r.value]));
    },

    async setKeys(writes) {
      if (writes.length === 0) return;
      // The last write of a (type, id) wins, as if they had been applied one by one.
      const last = new Map<string, KeyWrite>();
      for (const w of writes) last.set(`${w.type}\u0000${w.id}`, w);
      const deletes = [...last.values()].filter((w) => w.value === null);
      const upserts = [...last.values()].filter((w): w is KeyWrite & { value: string } => w.value !== null);
      await withTransaction(db, async (client) => {
        if (deletes.length) {
          await client.query(
            `DELETE FROM whatsapp_auth_keys k USING unnest($2::text[], $3::text[]) AS d(type, id)
             WHERE k.account = $1 AND k.type = d.type AND k.id = d.id`,
            [account, deletes.map((w) => w.type), deletes.map((w) => w.id)],
          );
        }
        if (upserts.length) {
          await client.query(
            `INSERT INTO whatsapp_auth_keys (account, type, id, value)
             SELECT $1, u.type, u.id, u.value FROM unnest($2::text[], $3::text[], $4::text[]) AS u(type, id, value)
             ON CONFLICT (account, type, id) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
            [account, upserts.map((w) => w.type), upserts.map((w) => w.id), upserts.map((w) => w.value)],
          );
        }
      });
    },

    async clearKeys() {
      await db.pool.query("DELETE FROM whatsapp_auth_keys WHERE account = $1", [account]);
    },

    async clear() {
      await withTransaction(db, async (client) => {
        await client.query("DELETE FROM whatsapp_auth_keys WHERE account = $1", [account]);
        await client.query("DELETE FROM whatsapp_auth_creds WHERE account = $1", [account]);
      });
    },
  };
}

/**
 * Creates the sent-message store of `account`. Kept in PostgreSQL rather than memory because a
 * retry request can come hours later (the recipient's phone was off), after a restart or after
 * another process took the socket over.
 *
 * @example
 * const sent = createWhatsAppMessageStore(db);
 * await sent.prune({ olderThan: new Date(Date.now() - 7 * 86_400_000), keep: 5000 });
 */
export function createWhatsAppMessageStore(db: Database, options: { account?: string } = {}): WhatsAppMessageStore {
  const account = options.account ?? DEFAULT_WHATSAPP_ACCOUNT;
  return {
    account,

    async save(m) {
      await db.pool.query(
        `INSERT INTO whatsapp_sent_messages (account, message_id, chat_id, message, follow_up_key) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [account, m.messageId, m.chatId, m.message, m.followUpKey ?? null],
      );
    },

    async get(messageId) {
      const row = await maybeOne<{ chat_id: string; message: Buffer; follow_up_key: string | null }>(
        db.pool,
        "SELECT chat_id, message, follow_up_key FROM whatsapp_sent_messages WHERE account = $1 AND message_id = $2",
        [account, messageId],
      );
      return row
        ? { messageId, chatId: row.chat_id, message: row.message, followUpKey: row.follow_up_key ?? undefined }
        : null;
    },

    async hasFollowUp(followUpKey) {
      const row = await maybeOne(
        db.pool,
        "SELECT 1 FROM whatsapp_sent_messages WHERE account = $1 AND follow_up_key = $2",
        [account, followUpKey],
      );
      return row !== null;
    },

    async prune({ olderThan, keep }) {
      const result = await db.pool.query(
        `DELETE FROM whatsapp_sent_messages WHERE account = $1 AND (created_at < $2 OR message_id IN (
           SELECT message_id FROM whatsapp_sent_messages WHERE account = $1 ORDER BY created_at DESC, message_id OFFSET $3))`,
        [account, olderThan, keep],
      );
      return result.rowCount ?? 0;
    },
  };
}
