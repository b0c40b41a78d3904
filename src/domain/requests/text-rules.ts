/**
 * Rules every text and JSON field of the API shares. PostgreSQL refuses NUL in text and
 * `\u0000` or unpaired surrogates in jsonb; refusing them here gives the caller a 400 naming the
 * field instead of a failed write. JSON values are measured without recursion, so a body nested
 * thousands deep is refused, not a stack overflow.
 */
import { z } from "zod";

/** NUL, or a UTF-16 surrogate without its partner (not representable in UTF-8). */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether PostgreSQL can store this string as text (no NUL, no unpaired surrogate). */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

const UNSTORABLE_MESSAGE = "must not contain NUL characters or unpaired surrogates";

/** A string PostgreSQL can store: no NUL, no unpaired surrogate. */
export const storableString = () => z.string().refine(isStorableText, { message: UNSTORABLE_MESSAGE });

/** A trimmed, non-empty, storable text of at most `max` characters. */
export const storableText = (max: number) =>
  z.string().trim().min(1).max(max).refine(isStorableText, { message: UNSTORABLE_MESSAGE });

/** Limits of a free-form JSON field such as `metadata`. */
export interface JsonLimits {
  /** Most bytes of its JSON text. @defaultValue 16384 */
  maxBytes?: number;
  /** Deepest nesting of objects and arrays. @defaultValue 32 */
  maxDepth?: number;
}

/**
 * What is wrong with a JSON value, or null: too deep, too large, holding a string or key
 * PostgreSQL cannot store, or a number JSON cannot write back (`1e999` parses as Infinity).
 * Walks with an explicit stack (no recursion).
 */
export function jsonProblem(value: unknown, limits: JsonLimits = {}): string | null {
  const maxDepth = limits.maxDepth ?? 32;
  const maxBytes = limits.maxBytes ?? 16_384;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v === "string") {
      if (!isStorableText(v)) return UNSTORABLE_MESSAGE;
      continue;
    }
    if (typeof v === "number" && !Number.isFinite(v)) return "numbers must be finite";
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > maxDepth) return `must be nested at most ${maxDepth} levels deep`;
    if (Array.isArray(v)) {
      for (const item of v) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
      if (!isStorableText(key)) return `keys ${UNSTORABLE_MESSAGE}`;
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  // Depth is bounded now, so serialising cannot overflow the stack.
  if (Buffer.byteLength(JSON.stringify(value) ?? "", "utf8") > maxBytes)
    return `must be at most ${Math.round(maxBytes / 1024)} KiB as JSON`;
  return null;
}

/** Report the value's {@link jsonProblem}, if any, as an issue on its field. */
const withinLimits =
  (limits: JsonLimits) =>
  (value: unknown, ctx: z.RefinementCtx): void => {
    const problem = jsonProblem(value, limits);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  };

/** A JSON object field (such as `metadata`) within {@link JsonLimits}. */
export const boundedJsonObject = (limits: JsonLimits = {}) =>
  z.record(z.string(), z.unknown()).superRefine(withinLimits(limits));

/**
 * Any JSON value (object, array, string, number, boolean or null) within {@link JsonLimits}, such
 * as a tool's `payload`. The body was parsed as JSON already, so only the limits are left to check.
 */
export const boundedJsonValue = (limits: JsonLimits = {}) =>
  z.unknown().superRefine(withinLimits(limits)).describe("Any JSON value");
