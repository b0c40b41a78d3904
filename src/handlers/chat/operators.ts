/**
 * Who the operators are and where to reach them: maps chat identities to operators and
 * operators to the chats their cards go to, on the channels that are running.
 */
import type { ChannelName, PlatformFacts } from "../../domain/channel.js";
import type { ChatAddress, Operator, OperatorDirectory } from "../../domain/operator.js";

export type { ChatAddress, Operator, OperatorDirectory } from "../../domain/operator.js";

/** The identity an operator is configured with on a channel (the web chat knows them by name). */
function identityOn(op: Operator, channel: ChannelName): string | undefined {
  if (channel === "telegram") return op.telegram;
  if (channel === "whatsapp") return op.whatsapp;
  return op.webchat ? op.name : undefined;
}

const CHANNELS: readonly ChannelName[] = ["telegram", "whatsapp", "webchat"];

/**
 * Build the directory from configured operators (default timezone applied); each platform says
 * which chat a configured identity is.
 */
export function createOperatorDirectory(
  operators: ReadonlyArray<Omit<Operator, "timezone"> & { timezone?: string | undefined }>,
  defaultTimezone: string,
  platforms: Readonly<Record<ChannelName, Pick<PlatformFacts, "chatIdOf">>>,
): OperatorDirectory {
  const list: Operator[] = operators.map((o) => ({
    ...o,
    roles: [...o.roles],
    timezone: o.timezone ?? defaultTimezone,
  }));
  const key = (channel: ChannelName, id: string) => `${channel}\u0000${id}`;
  const index = new Map<string, Operator>();
  // A sender is known by their configured identity and by the chat id it maps to (WhatsApp: digits and JID).
  const identities = (op: Operator): string[] =>
    CHANNELS.flatMap((channel) => {
      const identity = identityOn(op, channel);
      return identity ? [key(channel, identity), key(channel, platforms[channel].chatIdOf(identity))] : [];
    });
  for (const op of list) for (const id of identities(op)) index.set(id, op);
  const addressesOf = (op: Operator, channels: readonly ChannelName[]): ChatAddress[] =>
    CHANNELS.flatMap((channel) => {
      const identity = identityOn(op, channel);
      return channels.includes(channel) && identity
        ? [{ channel, chatId: platforms[channel].chatIdOf(identity), operator: op }]
        : [];
    });
  return {
    all: () => list,
    byName: (name) => list.find((o) => o.name === name),
    bySender(channel, senderIds) {
      for (const id of senderIds) {
        const op = index.get(key(channel, id));
        if (op) return op;
      }
      return undefined;
    },
    addressesOf,
    byChat: (channel, chatId) => index.get(key(channel, chatId)),
    addPaired(operators) {
      for (const o of operators) {
        const op: Operator = { ...o, roles: [...o.roles], paired: true };
        const existing = list.findIndex((x) => x.name === op.name);
        if (existing >= 0 && !list[existing]!.paired) continue; // a configured operator of that name wins
        if (identities(op).some((id) => index.has(id) && index.get(id)!.name !== op.name)) continue;
        if (existing >= 0) {
          for (const id of identities(list[existing]!)) index.delete(id);
          list[existing] = op;
        } else list.push(op);
        for (const id of identities(op)) index.set(id, op);
      }
    },
    removePaired(name) {
      const at = list.findIndex((x) => x.name === name && x.paired);
      if (at < 0) return false;
      for (const id of identities(list[at]!)) if (index.get(id)?.name === name) index.delete(id);
      list.splice(at, 1);
      return true;
    },
  };
}
