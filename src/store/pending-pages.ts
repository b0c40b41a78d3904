/**
 * Pending work in keyset pages by id, so a walk over all of it (the reconcile) holds one page at
 * a time however large the backlog: each page starts after the last id of the one before, so
 * rows decided or added meanwhile never shift a page, and no page costs more than its own rows.
 */
import { type Database, many } from "./db.js";

/** Keyset pages of pending approvals and deliveries. */
export interface PendingPages {
  /** Ids of pending approvals after `afterId` (all when null), in id order, at most `limit`. */
  pendingApprovalIds(afterId: string | null, limit: number): Promise<string[]>;
  /** Ids of deliveries still to make after `afterId` (all when null), in id order, at most `limit`. */
  pendingDeliveryIds(afterId: string | null, limit: number): Promise<string[]>;
}

/**
 * Build the pages over `db`.
 *
 * @example
 * const pages = createPendingPages(db);
 * for (let ids = await pages.pendingApprovalIds(null, 1000); ids.length; ids = await pages.pendingApprovalIds(ids.at(-1)!, 1000)) ...
 */
export function createPendingPages(db: Database): PendingPages {
  const idsOf = async (statement: string, name: string, afterId: string | null, limit: number) =>
    (await many<{ id: string }>(db.pool, statement, [afterId, limit], name)).map((r) => r.id);
  return {
    pendingApprovalIds: (afterId, limit) =>
      idsOf(
        `SELECT id FROM approvals
          WHERE status = 'pending' AND ($1::uuid IS NULL OR id > $1::uuid)
          ORDER BY id LIMIT $2`,
        "signoff_pending_approval_page",
        afterId,
        limit,
      ),
    // bigserial ids arrive as text; compared as numbers, so "10" comes after "9".
    pendingDeliveryIds: (afterId, limit) =>
      idsOf(
        `SELECT id FROM deliveries
          WHERE status = 'pending' AND ($1::bigint IS NULL OR id > $1::bigint)
          ORDER BY id LIMIT $2`,
        "signoff_pending_delivery_page",
        afterId,
        limit,
      ),
  };
}
