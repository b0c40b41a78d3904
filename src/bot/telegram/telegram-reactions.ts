/**
 * Bots may only react with the emoji listed for `ReactionTypeEmoji` in the Bot API; anything
 * else is rejected with `400 REACTION_INVALID`. signoff's vocabulary (✅ ❌ 📝) is not on that
 * list, so it is translated to the nearest allowed emoji here.
 */
import type { ReactionTypeEmoji } from "grammy/types";

type BotReaction = ReactionTypeEmoji["emoji"];

// The list from the Bot API documentation of ReactionTypeEmoji (also grammY's type); several
// entries lack the U+FE0F variation selector that keyboards usually add (❤ not ❤️).
const ALLOWED: ReadonlySet<string> = new Set<BotReaction>([
  "👍",
  "👎",
  "❤",
  "🔥",
  "🥰",
  "👏",
  "😁",
  "🤔",
  "🤯",
  "😱",
  "🤬",
  "😢",
  "🎉",
  "🤩",
  "🤮",
  "💩",
  "🙏",
  "👌",
  "🕊",
  "🤡",
  "🥱",
  "🥴",
  "😍",
  "🐳",
  "❤‍🔥",
  "🌚",
  "🌭",
  "💯",
  "🤣",
  "⚡",
  "🍌",
  "🏆",
  "💔",
  "🤨",
  "😐",
  "🍓",
  "🍾",
  "💋",
  "🖕",
  "😈",
  "😴",
  "😭",
  "🤓",
  "👻",
  "👨‍💻",
  "👀",
  "🎃",
  "🙈",
  "😇",
  "😨",
  "🤝",
  "✍",
  "🤗",
  "🫡",
  "🎅",
  "🎄",
  "☃",
  "💅",
  "🤪",
  "🗿",
  "🆒",
  "💘",
  "🙉",
  "🦄",
  "😘",
  "💊",
  "🙊",
  "😎",
  "👾",
  "🤷‍♂",
  "🤷",
  "🤷‍♀",
  "😡",
]);

// ✅ and ❌ are what signoff means by approve / reject; 👍 / 👎 say the same on Telegram.
const SUBSTITUTES: Readonly<Record<string, BotReaction>> = { "✅": "👍", "❌": "👎", "📝": "✍", "⏳": "👀" };

/**
 * Returns the emoji Telegram will accept for `emoji`, or `undefined` if there is none.
 *
 * @example toBotReaction("✅") // "👍"
 * @example toBotReaction("❤️") // "❤"
 */
export function toBotReaction(emoji: string): BotReaction | undefined {
  const bare = emoji.replace(/\uFE0F/g, "");
  const substitute = SUBSTITUTES[bare];
  if (substitute) return substitute;
  return ALLOWED.has(bare) ? (bare as BotReaction) : undefined;
}
