/**
 * Request codes (`K7QF`): short enough for people to type on a phone, long enough that a new one
 * rarely collides with a pending one, however many are pending. The unique index on pending codes
 * stays the guarantee; this only keeps collisions (and so retries) rare.
 *
 * A code is drawn uniformly from the codes of its length that hold a digit, so its length is
 * chosen from the number of pending requests: the chance that one try hits a pending code is
 * pending / codeSpace(length), held below {@link TARGET_COLLISION}.
 */
import { randomInt } from "node:crypto";

/** The characters of a code: no 0/O, no 1/I/L, which people on phones mistype for each other. */
export const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/** Every code holds one of these, so a word such as "AHEAD" in "go ahead" is never a code. */
export const CODE_DIGITS = "23456789";
/** Shortest code: what people type while few requests are pending. */
export const MIN_CODE_LENGTH = 4;
/** Longest code: still typeable, and what the chat parsers accept. */
export const MAX_CODE_LENGTH = 6;
/** Highest chance a try may have of hitting a pending code: ~1 insert attempt per create. */
export const TARGET_COLLISION = 0.01;

/**
 * How many codes of `length` there are: every string of the alphabet minus those without a digit,
 * 31^n − 23^n. That is 643,680 for 4 characters, 22,192,808 for 5 and 739,467,792 for 6.
 */
export function codeSpace(length: number): number {
  const letters = CODE_ALPHABET.length - CODE_DIGITS.length;
  return CODE_ALPHABET.length ** length - letters ** length;
}

/**
 * The shortest code length whose tries hit a pending code less than 1 % of the time:
 * 4 characters up to 6,436 pending (1 % of 643,680 is 6,436.8), 5 up to 221,928 (1 % of
 * 22,192,808), else 6 (below 1 % up to 7,394,677 pending; beyond that retries stay cheap: even
 * at 10 million pending a try collides 1.4 % of the time).
 *
 * @example codeLengthFor(0) === 4; codeLengthFor(100_000) === 5
 */
export function codeLengthFor(pending: number, target = TARGET_COLLISION): number {
  for (let length = MIN_CODE_LENGTH; length < MAX_CODE_LENGTH; length++)
    if (pending < target * codeSpace(length)) return length;
  return MAX_CODE_LENGTH;
}

/** The length for the try after a collision: one more (up to the longest), ~30× less crowded. */
export const longerCode = (length: number): number => Math.min(length + 1, MAX_CODE_LENGTH);

/**
 * A code of `length` characters, uniform over the codes that hold a digit: a draw without one is
 * drawn again (about 1 in 3 for 4 characters), never patched, since patching would make codes
 * with one digit likelier and so collide more often than {@link codeSpace} says.
 *
 * @example generateCode(4) // "K7QF"
 */
export function generateCode(length = MIN_CODE_LENGTH, random: (below: number) => number = randomInt): string {
  for (;;) {
    let code = "";
    for (let i = 0; i < length; i++) code += CODE_ALPHABET[random(CODE_ALPHABET.length)]!;
    if ([...code].some((c) => CODE_DIGITS.includes(c))) return code;
  }
}

/** How long a new code starts, told what happened to the codes it chose. */
export interface CodeLengthRule {
  /** The length of a create's first try. */
  firstLength(): Promise<number>;
  /** A try at `length` hit a pending code. */
  collided(length: number): void;
  /** This process created a pending request. */
  created(): void;
}

/** Without a pending count: start short, grow only after collisions (fakes in unit tests). */
export const SHORT_CODES_FIRST: CodeLengthRule = {
  firstLength: async () => MIN_CODE_LENGTH,
  collided: () => undefined,
  created: () => undefined,
};

/** Injected dependencies of {@link createPendingCodeLengths}. */
export interface PendingCodeLengthsDeps {
  /** The exact number of pending requests, in every process (one indexed count). */
  countPending(): Promise<number>;
  /** How old the count may get before it is taken again, in the background. @defaultValue 2000 */
  refreshMs?: number;
  /** After a collision the count is taken again if it is older than this. @defaultValue 250 */
  recountAfterCollisionMs?: number;
  /** Milliseconds clock. @defaultValue Date.now */
  now?: () => number;
  logger: { warn(obj: object, msg?: string): void };
}

/**
 * The length rule on a cached pending count: an exact count at most every `refreshMs` (taken in
 * the background, so a create never waits for it but the first), plus the pending requests this
 * process created since. Other processes' creates show up at the next count, and decisions only
 * lower the count then: until then codes may be a character longer than needed, never shorter.
 * A collision says the count may be stale, so it is taken again soon.
 */
export function createPendingCodeLengths(deps: PendingCodeLengthsDeps): CodeLengthRule {
  const refreshMs = deps.refreshMs ?? 2000;
  const recountMs = deps.recountAfterCollisionMs ?? 250;
  const now = deps.now ?? Date.now;
  let counted: number | null = null;
  let countedAt = 0;
  let createdSince = 0;
  let counting: Promise<void> | null = null;
  let first: Promise<void> | null = null;

  function recount(): Promise<void> {
    if (counting) return counting;
    // Creates that commit while the count runs may be counted twice: too long a code, not too short.
    const createdBefore = createdSince;
    countedAt = now();
    counting = deps
      .countPending()
      .then(
        (n) => {
          counted = n;
          createdSince -= createdBefore;
        },
        (err: unknown) => deps.logger.warn({ err: (err as Error)?.message ?? String(err) }, "pending count failed"),
      )
      .finally(() => {
        counting = null;
      });
    return counting;
  }

  return {
    async firstLength() {
      first ??= recount();
      // The first creates wait for the first count (all for the same one); later ones never wait.
      if (counted === null) await first;
      if (now() - countedAt >= refreshMs) void recount();
      return codeLengthFor((counted ?? 0) + createdSince);
    },
    collided() {
      if (now() - countedAt >= recountMs) void recount();
    },
    created() {
      createdSince++;
    },
  };
}
