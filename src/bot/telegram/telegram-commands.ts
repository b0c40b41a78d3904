/**
 * The bot's command menu (the "/" list in Telegram clients): the chat queries and commands.
 * It is synced only when it differs from what Telegram has, so restarts do not rewrite it.
 */
import type { BotCommand } from "grammy/types";
import { ChannelError } from "../../domain/channel.js";

/** One entry of the command menu. */
export interface BotCommandSpec {
  /** 1-32 characters of a-z, 0-9 and _, without the slash. */
  command: string;
  /** 1-256 characters. */
  description: string;
}

/** the chat queries and commands, in the order the menu shows them. */
export const SIGNOFF_COMMANDS: readonly BotCommandSpec[] = Object.freeze([
  { command: "status", description: "Overview: approvals, tasks, spend, agents, services" },
  { command: "pending", description: "Open approvals with codes and time left" },
  { command: "queue", description: "Task counts by state and the oldest items" },
  { command: "spend", description: "Today's spend by agent and model, 7-day average" },
  { command: "failures", description: "Failed and dead-lettered tasks and deliveries" },
  { command: "digest", description: "The digest, now" },
  { command: "pause", description: "Suspend autonomy: auto and low need approval" },
  { command: "resume", description: "End the pause" },
  { command: "help", description: "What you may say here" },
]);

/**
 * Checks a menu against Telegram's rules, so a bad entry fails here instead of as a 400.
 *
 * @example assertValidCommands([{ command: "status", description: "Overview" }]) // ok
 */
export function assertValidCommands(commands: readonly BotCommandSpec[]): void {
  const seen = new Set<string>();
  for (const { command, description } of commands) {
    if (!/^[a-z0-9_]{1,32}$/.test(command))
      throw new ChannelError(`telegram command "${command}" must be 1-32 of a-z 0-9 _`, true);
    if (description.length < 1 || description.length > 256)
      throw new ChannelError(`telegram command "${command}" needs a 1-256 character description`, true);
    if (seen.has(command)) throw new ChannelError(`telegram command "${command}" is listed twice`, true);
    seen.add(command);
  }
  if (commands.length > 100) throw new ChannelError("telegram allows at most 100 commands", true);
}

/**
 * True when Telegram's current menu is exactly `wanted` (same commands, descriptions and order).
 *
 * @example sameCommands([{ command: "help", description: "Help" }], [{ command: "help", description: "Help" }]) // true
 */
export function sameCommands(current: readonly BotCommand[], wanted: readonly BotCommandSpec[]): boolean {
  return (
    current.length === wanted.length &&
    current.every((c, i) => c.command === wanted[i]?.command && c.description === wanted[i]?.description)
  );
}
