/**
 * Reconcile a running test instance again, as its periodic reconcile does (the web chat's
 * outbox delivers in process, so cards are performed at once), with no timers or deliveries.
 */
import { reconcile, type ReconcileReport } from "../../src/jobs/reconciler.js";
import type { Signoff } from "../../src/main.js";
import { createChatStore } from "../../src/store/chat-store.js";

/** Run the reconcile's walk over `s`'s pending approvals and lost cards once more. */
export function reconcileAgain(s: Signoff): Promise<ReconcileReport> {
  const chat = createChatStore(s.db);
  return reconcile({
    approvals: s.approvals,
    deliveries: s.deliveries,
    timers: { ensureAll: async () => 0 },
    deliveryQueue: { ensure: async () => undefined },
    cards: {
      listCardRefs: chat.listCardRefs,
      announce: s.presenter.announce,
      channels: s.channels,
      directory: s.directory,
      enqueue: s.presenter.perform,
    },
  });
}
