/**
 * What the chat parsers share about typed text: its normal form (lower case, straight quotes,
 * Telegram's `/cmd@bot` reduced to `cmd`), the same text with its case kept (task ids are typed
 * as sources spell them), its words, and how far apart two words are.
 */

/** Longer text is cut here before parsing: no command or question is this long. */
export const MAX_INPUT = 500;

/** Lower-case, straight quotes, Telegram's `/cmd@bot` reduced to `cmd`. */
export function normalize(text: string): string {
  return text
    .slice(0, MAX_INPUT)
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`´]/g, "'")
    .trim()
    .replace(/^\/([a-z_]+)@[a-z0-9_]+/, "$1")
    .replace(/^\//, "");
}

/** The text as typed (case kept), with Telegram's `/cmd@bot` reduced to `cmd` like {@link normalize}. */
export function typedText(text: string): string {
  return text
    .slice(0, MAX_INPUT)
    .trim()
    .replace(/^\/([A-Za-z_]+)@[A-Za-z0-9_]+/, "$1")
    .replace(/^\//, "");
}

/** Words only: apostrophes dropped ("how's" → "hows", "don't" → "dont"), everything else splits. */
export function wordsOf(normalized: string): string[] {
  return normalized
    .replace(/'/g, "")
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Strip "please", "can you" and the like from the front of a command. */
export function stripPoliteness(text: string): string {
  return text.replace(/^(?:(?:please|pls|plz|kindly|can you|could you|would you|hey|ok|okay)[\s,]+)+/, "");
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent swaps), so "spned" is one edit
 * from "spend". Stops early once the distance exceeds `max`.
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, rows[i - 2]![j - 2]! + 1);
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
