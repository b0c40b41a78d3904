/**
 * Who the operators are and where to reach them: maps chat identities to operators and
 * operators to the chats their cards go to, on the channels that are running.
 */
import type { ChannelName } from "../../domain/channel.js";
import type { ChatAddress, Operator, OperatorDirectory } from "../../domain/operator.js";

export type { ChatAddress, Operator, OperatorDirectory } from "../../domain/operator.js";

/** WhatsApp's JID of a phone number. */
export const whatsappJid = (phone: string) => `${phone}@s.whatsapp.net`;

/** Build the directory from configured operators (default timezone applied). */
export function createOperatorDirectory(
  operators: ReadonlyArray<Omit<Operator, "timezone"> & { timezone?: string | undefined }>,
  defaultTimezone: string,
): OperatorDirectory {
  const list: Operator[] = operators.map((o) => ({
    ...o,
    roles: [...o.roles],
    timezone: o.timezone ?? defaultTimezone,
  }));
  const key = (channel: ChannelName, id: string) => `${channel}\u0000${id}`;
  const index = new Map<string, Operator>();
  const identities = (op: Operator): string[] => [
    ...(op.telegram ? [key("telegram", op.telegram)] : []),
    ...(op.whatsapp ? [key("whatsapp", op.whatsapp), key("whatsapp", whatsappJid(op.whatsapp))] : []),
    ...(op.webchat ? [key("webchat", op.name)] : []),
  ];
  for (const op of list) for (const id of identities(op)) index.set(id, op);
  const addressesOf = (op: Operator, channels: readonly ChannelName[]): ChatAddress[] => {
    const out: ChatAddress[] = [];
    if (channels.includes("telegram") && op.telegram)
      out.push({ channel: "telegram", chatId: op.telegram, operator: op });
    if (channels.includes("whatsapp") && op.whatsapp)
      out.push({ channel: "whatsapp", chatId: whatsappJid(op.whatsapp), operator: op });
    if (channels.includes("webchat") && op.webchat) out.push({ channel: "webchat", chatId: op.name, operator: op });
    return out;
  };
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
  };
}
