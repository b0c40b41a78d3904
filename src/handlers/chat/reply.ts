/**
 * Answering what someone said: render a template in the channel's markup and queue it in the
 * same chat, as a reply to their message when there is one (a text; reactions and buttons have
 * nothing to quote).
 */
import type { InboundEvent } from "../../domain/channel.js";
import type { EnqueueOutbox } from "../../domain/outbox.js";
import type { Renderer } from "./render.js";

/** Sends a rendered template back to where an event came from. */
export type Reply = (event: InboundEvent, template: string, view?: Record<string, unknown>) => Promise<void>;

/** Build {@link Reply} over the renderer and the outbox. */
export function createReply(deps: { renderer: Pick<Renderer, "render" | "formatOf">; enqueue: EnqueueOutbox }): Reply {
  return (event, template, view = {}) => {
    const text = deps.renderer.render(template, deps.renderer.formatOf(event.channel), view);
    const replyTo = event.kind === "text" ? event.messageId : undefined;
    return deps.enqueue({
      op: "text",
      channel: event.channel,
      chatId: event.chatId,
      text,
      ...(replyTo ? { replyToMessageId: replyTo } : {}),
    });
  };
}
