/**
 * Sends a `prompts/` template to operators on every running channel they use, rendered for each
 * channel's markup and, when the view depends on the reader (timezone, locale), for each reader.
 * Sending is queued through the outbox like every other message.
 */
import type { ChannelName } from "../../domain/channel.js";
import type { EnqueueOutbox } from "../../domain/outbox.js";
import type { Operator, OperatorDirectory } from "./operators.js";
import type { Renderer } from "./render.js";
import { quietUntil } from "../../lib/quiet-hours.js";

/**
 * What a message does in its reader's quiet hours: `hold` waits until they end (digests,
 * notices), `silent` arrives now without a sound (the default), `loud` rings anyway (critical).
 */
export type QuietPolicy = "hold" | "silent" | "loud";

/** A view, or a function giving the view for one reader. */
export type ViewFor =
  | Record<string, unknown>
  | ((reader: Operator) => Record<string, unknown> | Promise<Record<string, unknown>>);

/** Injected dependencies of {@link createBroadcaster}. */
export interface BroadcasterDeps {
  directory: Pick<OperatorDirectory, "all" | "addressesOf">;
  /** The channels running now. */
  channels(): readonly ChannelName[];
  renderer: Pick<Renderer, "render" | "formatOf">;
  enqueue: EnqueueOutbox;
  now?: () => Date;
}

/** Send templates to operators; each call resolves to the number of chats it queued for. */
export interface Broadcaster {
  toOperator(operator: Operator, template: string, view: ViewFor, quiet?: QuietPolicy): Promise<number>;
  toOperators(
    filter: (operator: Operator) => boolean,
    template: string,
    view: ViewFor,
    quiet?: QuietPolicy,
  ): Promise<number>;
}

/** Build the broadcaster. */
export function createBroadcaster(deps: BroadcasterDeps): Broadcaster {
  const now = deps.now ?? (() => new Date());
  async function toOperator(
    operator: Operator,
    template: string,
    view: ViewFor,
    quiet: QuietPolicy = "silent",
  ): Promise<number> {
    const addresses = deps.directory.addressesOf(operator, deps.channels());
    if (addresses.length === 0) return 0;
    const fields = typeof view === "function" ? await view(operator) : view;
    const quietEnd = quiet === "loud" ? null : quietUntil(operator.quietHours, operator.timezone, now());
    const delivery = quietEnd ? (quiet === "hold" ? { heldUntil: quietEnd.getTime() } : { silent: true }) : {};
    for (const address of addresses) {
      const text = deps.renderer.render(template, deps.renderer.formatOf(address.channel), fields);
      await deps.enqueue({ op: "text", channel: address.channel, chatId: address.chatId, text, ...delivery });
    }
    return addresses.length;
  }
  return {
    toOperator,
    async toOperators(filter, template, view, quiet) {
      let chats = 0;
      for (const operator of [...deps.directory.all()].filter(filter))
        chats += await toOperator(operator, template, view, quiet);
      return chats;
    },
  };
}
