/**
 * Baileys' `AuthenticationState` over the PostgreSQL store (in place of `useMultiFileAuthState`).
 * Creds and keys are serialised with `BufferJSON`; every creds update and key set is written in
 * the order it happened, one at a time, so the stored session is always a state that existed.
 * Reads wait for earlier writes, so Baileys reads what it wrote.
 */
import {
  BufferJSON,
  initAuthCreds,
  proto,
  type AuthenticationCreds,
  type AuthenticationState,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
} from "@whiskeysockets/baileys";
import type { KeyWrite, WhatsAppAuthStore } from "../../store/whatsapp-auth-store.js";
import type { WhatsAppLogger } from "./whatsapp-logger.js";

/** The session the adapter hands to Baileys, and its persistence. */
export interface WhatsAppAuthState {
  /** Handed to `makeWASocket`; Baileys mutates `creds` in place. Replaced by {@link reset} / {@link reload}. */
  readonly state: AuthenticationState;
  /** True once this device is linked to an account (pairing succeeded). */
  readonly linked: boolean;
  /** Queue a write of the current creds. Unlinked creds (a login in progress) are not written. */
  saveCreds(): Promise<void>;
  /** Re-read the creds from the store (after another process held the session); returns `linked`. */
  reload(): Promise<boolean>;
  /** Start over in memory with fresh, unlinked creds (a failed login). */
  reset(): void;
  /** Delete the stored session and start over with fresh creds (after a logout). */
  clear(): Promise<void>;
  /** Resolves when every queued write has been attempted. */
  flush(): Promise<void>;
}

/** Options of {@link loadWhatsAppAuthState}. */
export interface WhatsAppAuthStateOptions {
  store: Pick<WhatsAppAuthStore, "loadCreds" | "saveCreds" | "getKeys" | "setKeys" | "clear">;
  logger: WhatsAppLogger;
  /** Waits between attempts of a failed write. @defaultValue [200, 1000, 3000] */
  retryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

/** True when the creds belong to a linked device (an account identity was signed for it). */
export function isLinked(creds: Pick<AuthenticationCreds, "me" | "account">): boolean {
  return Boolean(creds.me?.id && creds.account);
}

/** Serialise creds as stored. */
export function serializeCreds(creds: AuthenticationCreds): string {
  return JSON.stringify(creds, BufferJSON.replacer);
}

const isBytes = (v: unknown) => v instanceof Uint8Array;
const isKeyPair = (v: unknown) =>
  isBytes((v as { public?: unknown })?.public) && isBytes((v as { private?: unknown })?.private);

/** Parse stored creds; null unless it holds every key Baileys cannot live without. */
export function parseCreds(text: string): AuthenticationCreds | null {
  let value: Partial<AuthenticationCreds>;
  try {
    value = JSON.parse(text, BufferJSON.reviver) as Partial<AuthenticationCreds>;
  } catch {
    return null;
  }
  const ok =
    isKeyPair(value.noiseKey) &&
    isKeyPair(value.signedIdentityKey) &&
    isKeyPair(value.pairingEphemeralKeyPair) &&
    isKeyPair(value.signedPreKey?.keyPair) &&
    isBytes(value.signedPreKey?.signature) &&
    typeof value.registrationId === "number" &&
    typeof value.advSecretKey === "string";
  return ok ? (value as AuthenticationCreds) : null;
}

function parseKey<T extends keyof SignalDataTypeMap>(type: T, text: string): SignalDataTypeMap[T] {
  const value = JSON.parse(text, BufferJSON.reviver) as unknown;
  // Stored through its toJSON (bytes as base64); Baileys needs the protobuf object back.
  if (type === "app-state-sync-key")
    return proto.Message.AppStateSyncKeyData.fromObject(value as object) as unknown as SignalDataTypeMap[T];
  return value as SignalDataTypeMap[T];
}

/**
 * Loads the session from the store: the current creds, or the last-good copy when the current
 * one is torn or unreadable, or fresh creds when there is none (then a login is needed).
 *
 * @example
 * const auth = await loadWhatsAppAuthState({ store: createWhatsAppAuthStore(db), logger });
 * const sock = makeWASocket({ auth: auth.state });
 * sock.ev.on("creds.update", () => void auth.saveCreds());
 */
export async function loadWhatsAppAuthState(options: WhatsAppAuthStateOptions): Promise<WhatsAppAuthState> {
  const { store, logger } = options;
  const retryDelays = options.retryDelaysMs ?? [200, 1_000, 3_000];
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  // One write at a time, in call order. A failed task does not stop the ones after it.
  let tail: Promise<void> = Promise.resolve();
  const enqueue = (task: () => Promise<void>): Promise<void> => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
  const withRetry = async (what: string, write: () => Promise<void>): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        const delay = retryDelays[attempt];
        // The error text of pg never carries the values written.
        logger.warn({ what, attempt: attempt + 1, error: (err as Error).message }, "whatsapp session write failed");
        if (delay === undefined) throw err;
        await sleep(delay);
      }
    }
  };

  // A creds write still waiting with nothing queued behind it takes later snapshots instead of
  // queueing another write: only the newest creds matter, and order with keys is kept.
  let waitingCreds: { text: string; done: Promise<void> } | null = null;
  let credsDirty = false;

  const keys: SignalKeyStore = {
    async get(type, ids) {
      await tail;
      const rows = await store.getKeys(type, ids);
      const out: { [id: string]: SignalDataTypeMap[typeof type] } = {};
      for (const [id, text] of rows) out[id] = parseKey(type, text);
      return out;
    },
    async set(data: SignalDataSet) {
      const writes: KeyWrite[] = [];
      for (const [type, entries] of Object.entries(data)) {
        for (const [id, value] of Object.entries(entries ?? {})) {
          writes.push({
            type,
            id,
            value: value === null || value === undefined ? null : JSON.stringify(value, BufferJSON.replacer),
          });
        }
      }
      if (writes.length === 0) return;
      waitingCreds = null;
      await enqueue(() => withRetry("keys", () => store.setKeys(writes)));
    },
  };

  const auth = {
    state: { creds: initAuthCreds(), keys } as AuthenticationState,
    get linked() {
      return isLinked(auth.state.creds);
    },
    saveCreds(): Promise<void> {
      if (!auth.linked) return Promise.resolve();
      const text = serializeCreds(auth.state.creds);
      if (waitingCreds) {
        waitingCreds.text = text;
        return waitingCreds.done;
      }
      const entry: { text: string; done: Promise<void> } = { text, done: Promise.resolve() };
      entry.done = enqueue(async () => {
        if (waitingCreds === entry) waitingCreds = null;
        try {
          await withRetry("creds", () => store.saveCreds(entry.text));
          credsDirty = false;
        } catch (err) {
          credsDirty = true; // the next creds write, or flush, writes the whole creds again
          throw err;
        }
      });
      waitingCreds = entry;
      return entry.done;
    },
    async reload(): Promise<boolean> {
      await tail;
      const stored = await store.loadCreds();
      const current = stored.current === null ? null : parseCreds(stored.current);
      let creds = current;
      if (!creds && stored.previous !== null) {
        creds = parseCreds(stored.previous);
        if (creds)
          logger.warn(
            { damaged: stored.currentDamaged },
            "whatsapp creds were torn or unreadable; using the last good copy",
          );
      }
      if (!creds && (stored.current !== null || stored.currentDamaged)) {
        logger.error({}, "whatsapp creds and their last good copy are unreadable; a new login is needed");
      }
      auth.state.creds = creds ?? initAuthCreds();
      if (creds && creds !== current) await auth.saveCreds().catch(() => undefined); // repair the current copy
      return auth.linked;
    },
    reset(): void {
      waitingCreds = null;
      auth.state.creds = initAuthCreds();
    },
    async clear(): Promise<void> {
      auth.reset();
      await enqueue(() => withRetry("clear", () => store.clear()));
    },
    async flush(): Promise<void> {
      await tail;
      if (credsDirty && auth.linked) await auth.saveCreds().catch(() => undefined);
    },
  };
  await auth.reload();
  return auth;
}
