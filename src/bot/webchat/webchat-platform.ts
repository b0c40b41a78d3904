/**
 * What the rest of signoff knows about the web chat: plain text, one chat per operator named
 * after them, no groups and no sending limits (it is a local page).
 */
import type { PlatformFacts } from "../../domain/channel.js";

/** The web chat's facts: an operator's chat id is their name. */
export const WEBCHAT_PLATFORM: PlatformFacts = {
  format: "plain",
  isGroup: () => false,
  chatIdOf: (name) => name,
  identityOf: ({ senderId }) => senderId,
};
