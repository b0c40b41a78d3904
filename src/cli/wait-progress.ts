/**
 * What `signoff ask` says on stderr while it waits: once who was asked, then the time left,
 * sparingly: one line rewritten in place on a terminal, a line a minute when stderr is a file or
 * a CI log (so a ten-minute wait adds ten lines, not six hundred).
 */
import type { ApprovalRecord } from "../client/index.js";
import { formatDuration, whoIsAsked } from "../tools/approval-words.js";

/** Where progress goes. */
export interface ProgressSink {
  /** Whether stderr is a terminal (then one line is rewritten in place). */
  tty: boolean;
  /** Raw text, for the rewritten line (terminal only). */
  write(text: string): void;
  /** A whole line. */
  line(text: string): void;
}

/** A running progress display; `stop` clears the rewritten line and ends the updates. */
export interface Progress {
  stop(): void;
}

/** How often the rewritten line on a terminal changes. */
const TTY_EVERY_MS = 1000;
/** How often a line is added when stderr is not a terminal. */
const LOG_EVERY_MS = 60_000;
const CLEAR_LINE = "\r\x1b[2K";

/**
 * Say who was asked and keep saying how long is left until `untilMs` (the caller's own timeout)
 * or the request's deadline, whichever comes first.
 *
 * @example
 * const progress = startProgress({ tty: false, write, line }, record, Date.now() + 600_000);
 * // … later
 * progress.stop();
 */
export function startProgress(
  sink: ProgressSink,
  record: ApprovalRecord,
  untilMs: number,
  now: () => number = Date.now,
): Progress {
  sink.line(`asked ${record.code} "${record.title}" of ${whoIsAsked(record)}`);
  const deadline = record.deadlineAt ? Math.min(untilMs, Date.parse(record.deadlineAt)) : untilMs;
  const left = () => formatDuration(deadline - now());
  let shown = false;
  const tick = () => {
    if (sink.tty) {
      sink.write(`${CLEAR_LINE}${record.code}: waiting, ${left()} left`);
      shown = true;
    } else {
      sink.line(`${record.code}: still waiting, ${left()} left`);
    }
  };
  if (sink.tty) tick();
  const timer = setInterval(tick, sink.tty ? TTY_EVERY_MS : LOG_EVERY_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (shown) sink.write(CLEAR_LINE);
      shown = false;
    },
  };
}
